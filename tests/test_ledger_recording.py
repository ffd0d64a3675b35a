"""The ledger store on SQLite and PostgreSQL: its schema and file, atomic and idempotent recording,
quarantine and reprocessing, times and years, the metrics and their command."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from core.errors import LedgerError
from ledger import recording, regrouping, schema
from ledger.db import head_revision, make_engine, open_ledger, upgrade
from parsing.models import ExtractionResult
from tests.ledger_support import NY, T0, count, detainer, extraction, receipt, sha

# --------------------------------------------------------------------------- schema and file


def test_migrations_create_exactly_the_declared_schema(ledger_url):
    upgrade(ledger_url)
    upgrade(ledger_url)  # idempotent
    engine = make_engine(ledger_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert context.get_current_revision() == head_revision()
            assert compare_metadata(context, schema.Base.metadata) == []
    finally:
        engine.dispose()


def test_sqlite_file_is_private_and_in_wal_mode(tmp_path):
    url = f"sqlite:///{tmp_path / 'deep' / 'dir' / 'ledger.db'}"
    ledger = open_ledger(url)
    try:
        assert stat.S_IMODE(os.stat(tmp_path / "deep" / "dir").st_mode) == 0o700
        assert stat.S_IMODE(os.stat(tmp_path / "deep" / "dir" / "ledger.db").st_mode) == 0o600
        with ledger.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    finally:
        ledger.close()


def test_open_without_migrating_refuses_an_old_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x int)"))
    engine.dispose()
    with pytest.raises(LedgerError, match="schema version"):
        open_ledger(url, migrate=False)
    open_ledger(url).close()
    open_ledger(url, migrate=False).close()


def test_subject_ids_are_filled_by_the_migration_and_copies_grouped_again(ledger_url):
    """0002 adds the subject ID column: filled from the extracted fields with corrections laid
    over them, then the copies are grouped again (they merge on it)."""
    from alembic import command

    from ledger.db import alembic_config

    first = detainer(file_number=None, event_number=None, date_of_birth=None, subject_id="S3B8T9GRM")
    misread = detainer(file_number=None, event_number=None, date_of_birth=None, subject_id="QQQQ11111")
    ledger = open_ledger(ledger_url)
    ledger.record(receipt("r1", "d1", T0), extraction("d1", first))
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=1), "bfs_email"), extraction("d2", misread))
    assert len(ledger.requests()) == 2  # the name alone: only offered
    ledger.correct(f"{sha('d2')}:0", "subject_id", "S3B8-T9GRM", who="clerk1")
    assert len(ledger.requests()) == 1
    # A ledger from before the column: subject IDs unknown, the copies apart.
    with ledger.engine.begin() as connection:
        connection.execute(text("UPDATE detainer_copies SET subject_id = NULL"))
    ledger.regroup()
    assert len(ledger.requests()) == 2
    config = alembic_config()
    with ledger.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    ledger.close()

    ledger = open_ledger(ledger_url)  # upgrades: fills the column, groups again
    try:
        assert [c["match"]["subject_id"] for c in ledger.copies(sha("d1")) + ledger.copies(sha("d2"))] == [
            "5388T9GRM",  # compared OCR-folded, like event numbers
            "5388T9GRM",
        ]
        assert len(ledger.requests()) == 1
    finally:
        ledger.close()


# --------------------------------------------------------------------------- recording


def test_record_is_idempotent_per_source_key(ledger):
    first = ledger.record(receipt("r1", "doc1", T0), extraction("doc1", detainer()))
    again = ledger.record(receipt("r1", "doc1", T0), extraction("doc1", detainer()))
    assert first.status == "recorded" and first.new_document and first.copies == 1
    assert again.status == "already_known" and again.receipt_id == first.receipt_id
    assert again.request_ids == first.request_ids
    assert count(ledger, schema.Receipt) == 1 and count(ledger, schema.DetainerCopy) == 1
    assert ledger.is_known("r1") and not ledger.is_known("r2")


def test_identical_bytes_on_two_channels_are_one_document_and_one_request(ledger):
    a = ledger.record(receipt("r1", "doc1", T0), extraction("doc1", detainer()))
    b = ledger.record(receipt("r2", "doc1", T0 + timedelta(hours=1), "bfs_email"), extraction("doc1", detainer()))
    assert not b.new_document and b.request_ids == a.request_ids
    assert count(ledger, schema.Document) == 1 and count(ledger, schema.Receipt) == 2
    [req] = ledger.requests()
    assert req.receipt_keys == ("r1", "r2") and req.channels == ("dedicated_fax", "bfs_email")
    assert req.receipt_rules == ("first", "same_content")
    m = ledger.metrics(2025, NY)
    assert m["unique_requests"] == 1 and m["duplicates_merged"] == 1
    assert m["copies_per_channel"] == {"dedicated_fax": 1, "station_fax": 0, "bfs_email": 1}


def test_extraction_for_returns_what_was_read_once(ledger):
    assert ledger.extraction_for(sha("doc1")) is None
    result = extraction("doc1", detainer())
    ledger.record(receipt("r1", "doc1", T0), result)
    assert ledger.extraction_for(sha("doc1")) == result
    ledger.record(receipt("r2", "bad", T0), None, quarantine=("truncated", "the input ends early"))
    bad = ledger.extraction_for(sha("bad"))
    assert bad is not None and bad.error_reason == "truncated" and bad.detainers == []


def test_extraction_must_match_the_receipt(ledger):
    with pytest.raises(LedgerError):
        ledger.record(receipt("r1", "doc1", T0), extraction("other", detainer()))
    assert count(ledger, schema.Receipt) == 0


def test_quarantined_inputs_are_counted_and_queued_for_review(ledger):
    ledger.record(receipt("r1", "bad", T0), None, quarantine=("encrypted", "password-protected PDF"))
    error = ExtractionResult(sha256=sha("bad2"), error="not a document", error_reason="unsupported_format")
    outcome = ledger.record(receipt("r2", "bad2", T0), error)
    assert outcome.parse_status == "quarantined"
    assert count(ledger, schema.Quarantine) == 2
    items = ledger.review_items(kind="quarantine")
    assert sorted(i.reason for i in items) == ["encrypted", "unsupported_format"]
    m = ledger.metrics(2025, NY)
    assert (m["quarantined"], m["decoys"], m["unique_requests"], m["awaiting_review"]) == (2, 0, 0, 2)


def test_reprocessing_a_quarantined_input_that_now_reads(ledger):
    ledger.record(receipt("r1", "d1", T0), None, quarantine=("unreadable", "no page could be read"))
    assert ledger.metrics(2025, NY)["quarantined"] == 1
    ledger.reprocess(extraction("d1", detainer()))
    m = ledger.metrics(2025, NY)
    assert (m["quarantined"], m["unique_requests"], m["awaiting_review"]) == (0, 1, 0)
    assert count(ledger, schema.Quarantine) == 0
    ledger.reprocess(ExtractionResult(sha256=sha("d1"), error="cannot read", error_reason="unreadable"))
    m = ledger.metrics(2025, NY)
    assert (m["quarantined"], m["unique_requests"], m["awaiting_review"]) == (1, 0, 1)
    assert count(ledger, schema.DetainerCopy) == 0 and count(ledger, schema.Request) == 0


def test_pending_document_is_completed_by_a_later_record(ledger):
    pending = ledger.record(receipt("r1", "doc1", T0), None)
    assert pending.parse_status == "pending" and ledger.extraction_for(sha("doc1")) is None
    assert ledger.metrics(2025, NY)["unique_requests"] == 0
    done = ledger.record(receipt("r1", "doc1", T0), extraction("doc1", detainer()))
    assert done.status == "completed" and done.parse_status == "parsed" and len(done.request_ids) == 1
    assert ledger.metrics(2025, NY)["unique_requests"] == 1


def test_decoys_are_counted_but_carry_no_copies(ledger):
    ledger.record(receipt("r1", "letter", T0, "station_fax", "C-6"), extraction("letter"))
    m = ledger.metrics(2025, NY)
    assert m["decoys"] == 1 and m["copies_per_channel"]["station_fax"] == 0 and m["by_station"] == {}


@pytest.mark.parametrize(
    ("part", "where"), [(regrouping, "reassign"), (recording, "write_copies"), (recording, "after_arrival")]
)
def test_a_crash_mid_record_leaves_nothing_behind(ledger, monkeypatch, part, where):
    ledger.record(receipt("r0", "doc0", T0), extraction("doc0", detainer()))
    before = {t: count(ledger, t) for t in (schema.Document, schema.Receipt, schema.DetainerCopy, schema.Request)}

    def boom(*args, **kwargs):
        raise RuntimeError("injected crash")

    monkeypatch.setattr(part, where, boom)
    with pytest.raises(RuntimeError, match="injected"):
        ledger.record(
            receipt("r1", "doc1", T0 + timedelta(hours=1), "station_fax", "B-2"),
            extraction("doc1", detainer(event_number=None), detainer(file_number="A999999999", event_number="X1")),
        )
    monkeypatch.undo()
    after = {t: count(ledger, t) for t in before}
    assert after == before
    assert count(ledger, schema.RequestLink) == 1
    assert not ledger.is_known("r1")
    # ...and the retry commits everything.
    retry = ledger.record(
        receipt("r1", "doc1", T0 + timedelta(hours=1), "station_fax", "B-2"),
        extraction("doc1", detainer(event_number=None), detainer(file_number="A999999999", event_number="X1")),
    )
    assert retry.status == "recorded" and len(retry.request_ids) == 2


# --------------------------------------------------------------------------- metrics


def test_times_are_stored_in_utc_and_years_counted_in_the_department_zone(ledger):
    # 2025-01-01 03:00 UTC is still New Year's Eve in New York.
    ledger.record(receipt("r1", "doc1", datetime(2025, 1, 1, 3, 0, tzinfo=UTC)), extraction("doc1", detainer()))
    [req] = ledger.requests()
    assert req.first_received_at == datetime(2025, 1, 1, 3, 0, tzinfo=UTC)
    assert ledger.metrics(2024, NY)["unique_requests"] == 1
    assert ledger.metrics(2025, NY)["unique_requests"] == 0
    assert ledger.metrics(2025, "UTC")["unique_requests"] == 1
    assert ledger.metrics(2024, NY)["by_month"]["2024-12"]["dedicated_fax"] == 1


def test_metrics_shape_and_rates(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    ledger.record(
        receipt("r2", "d2", T0, "station_fax", "C-6"), extraction("d2", detainer(file_number="A1", event_number="E1"))
    )
    ledger.record(
        receipt("r3", "d3", T0 + timedelta(days=40), "bfs_email"),
        extraction("d3", detainer(file_number="A2", event_number="E2", subject_name="X Y")),
    )
    m = ledger.metrics(2025, NY)
    assert m["unique_requests"] == 3
    assert m["first_channel_counts"] == {"dedicated_fax": 1, "station_fax": 1, "bfs_email": 1}
    assert m["dedicated_line_rate"] == round(1 / 3, 4) == m["dedicated_line_any_rate"]
    assert list(m["by_month"]) == [f"2025-{i:02d}" for i in range(1, 13)]
    assert m["by_month"]["2025-03"] == {"dedicated_fax": 1, "station_fax": 1, "bfs_email": 0, "total": 2}
    assert m["by_month"]["2025-04"]["total"] == 1
    assert m["by_station"] == {"C-6": 1}
    empty = ledger.metrics(2023, NY)
    assert empty["unique_requests"] == 0 and empty["dedicated_line_rate"] == 0.0


def test_metrics_command_prints_json_and_a_table(ledger_url, capsys):
    import json

    from core.config import LedgerSettings, Settings
    from detainer_intake.commands.ledger import db_upgrade_command, metrics_command

    settings = Settings(ledger=LedgerSettings(url=ledger_url))
    assert db_upgrade_command(settings) == 0
    opened = open_ledger(ledger_url)
    opened.record(receipt("r1", "d1", T0, "station_fax", "C-6"), extraction("d1", detainer()))
    opened.close()
    capsys.readouterr()
    assert metrics_command(settings, 2025, as_json=True) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["year"] == 2025 and printed["unique_requests"] == 1 and printed["by_station"] == {"C-6": 1}
    assert metrics_command(settings, 2025, as_json=False) == 0
    table = capsys.readouterr().out
    assert "unique requests" in table and "2025-03" in table
    assert "LOPEZ" not in table and "A012345678" not in table
