"""What ingest and the runs ask of the ledger: known source keys, the mailbox's message state, the run lock."""

from __future__ import annotations

import pytest

from core.errors import RunLocked
from ingest.models import MailMessage
from ledger import mail_state, schema
from ledger.db import open_ledger
from tests import ledger_support as testing
from tests.ledger_support import T0, count, detainer, extraction, receipt, sha

# --------------------------------------------------------------------------- intake state


def test_known_source_keys_by_prefix(ledger):
    keys = [
        "file:dedicated_fax:a_b%.tif:1:2",
        "file:dedicated_fax:ab.tif:1:2",
        "file:station_fax:C-6/x.tif:1:2",
    ]
    for n, key in enumerate(keys):
        ledger.record(receipt(key, f"d{n}", T0), extraction(f"d{n}"))
    assert ledger.known_source_keys("file:dedicated_fax:") == set(keys[:2])
    assert ledger.known_source_keys("file:dedicated_fax:a_b%") == {keys[0]}
    assert ledger.known_source_keys("imap:") == set()


def test_mail_attempts_quarantine_and_release(ledger):
    key = "imap:bfs@mail.example/INBOX;UIDVALIDITY=7;UID=42"
    assert ledger.mail_attempts(key) == 0 and not ledger.mail_handled(key)
    assert ledger.record_mail_failure(key, "fetch_timeout") == 1
    assert ledger.record_mail_failure(key, "fetch_timeout") == 2
    assert not ledger.mail_handled(key)
    assert ledger.record_mail_failure(key, "malformed_message", quarantined=True) == 3
    assert ledger.mail_handled(key)  # quarantined messages are not fetched again
    assert [i.kind for i in ledger.review_items()] == ["quarantine"]
    assert count(ledger, schema.Quarantine) == 1
    ledger.reset_mail_attempts(key)
    assert ledger.mail_attempts(key) == 0 and count(ledger, schema.Quarantine) == 0
    assert not ledger.mail_handled(key)
    ledger.record_mail_handled(key, "<m1@example>", sha("raw"), 0)
    assert ledger.mail_handled(key)


def test_record_message_commits_documents_and_message_together(ledger, monkeypatch):
    key = "maildir:cur/1700000000.M1P1.host"
    part = receipt(f"{key};MID=<m1@x>;part=0", "att", T0, "bfs_email")
    message = MailMessage(message_key=key, received_at=T0, message_id="<m1@x>", raw_sha256=sha("raw"), documents=[])

    def boom(*args, **kwargs):
        raise RuntimeError("injected crash")

    monkeypatch.setattr(mail_state, "mark_handled", boom)
    with pytest.raises(RuntimeError):
        ledger.record_message(message, [(part, extraction("att", detainer()), None)])
    monkeypatch.undo()
    assert not ledger.is_known(part.source_key) and not ledger.mail_handled(key)
    [outcome] = ledger.record_message(message, [(part, extraction("att", detainer()), None)])
    assert outcome.status == "recorded" and ledger.mail_handled(key)
    failed = MailMessage(message_key=key + "x", received_at=None, error="malformed_message", quarantined=True)
    assert ledger.record_message(failed) == []
    assert ledger.mail_attempts(key + "x") == 1


# --------------------------------------------------------------------------- run lock


def test_run_lock_refuses_a_second_holder_and_is_released(ledger_url):
    first, second = open_ledger(ledger_url), open_ledger(ledger_url)
    try:
        with first.run_lock() as handle:
            handle.heartbeat()
            with pytest.raises(RunLocked, match=r"held by pid \d+"):
                with second.run_lock():
                    pass
            with pytest.raises(RunLocked, match="after waiting"):
                with second.run_lock(wait_seconds=0.3):
                    pass
            with second.run_lock("other_job"):
                pass
        with second.run_lock():
            pass
    finally:
        first.close()
        second.close()


@pytest.mark.postgres
def test_run_lock_is_per_ledger(tmp_path):
    with testing.pg_schema_url() as a, testing.pg_schema_url() as b:
        la, lb = open_ledger(a), open_ledger(b)
        try:
            with la.run_lock(), lb.run_lock():
                pass
        finally:
            la.close()
            lb.close()
