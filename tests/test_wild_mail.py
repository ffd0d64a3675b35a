"""Real-world e-mail test messages collected by another project (tests/wild/README.md: bad encodings
and dates, illegal and missing boundaries, nested message/rfc822, 8-bit headers, uuencode, charsets,
delivery reports) in the BFS mailbox beside good detainer messages, read from a Maildir and from a
real IMAP server (Dovecot): no channel fails, every message ends handled (its parts that were not
taken reported) or quarantined with a reason, the good detainers are counted, a rerun adds nothing."""

from __future__ import annotations

import time
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from core.config import Settings, load_settings
from flows import steps
from flows.sequence import run_once
from ledger import schema
from tests import run_support as rs
from tests.test_wild_inputs import _detainer, _message

if TYPE_CHECKING:
    from tests.imap_server import DovecotServer

MAIL = Path(__file__).parent / "wild" / "mail"
pytest_plugins = ["tests.server_support", "tests.imap_server"]  # ocr_cache_dir; dovecot (a real IMAP server)

RUN_SECONDS = 120  # every run over the mailbox until each message is settled, on a busy two-core machine


def _wild_messages() -> list[bytes]:
    """Every collected message, and each collected TNEF blob as the winmail.dat of an Outlook message."""
    return [path.read_bytes() for path in sorted(MAIL.glob("*.eml"))] + [
        _outlook(path.read_bytes()) for path in sorted(MAIL.glob("*.tnef"))
    ]


def _outlook(tnef: bytes) -> bytes:
    message = EmailMessage()
    message["From"] = "ero.boston@ice.dhs.example"
    message["To"] = "bfs@dept.example"
    message["Subject"] = "Rich text from Outlook"
    message["Message-ID"] = f"<tnef-{len(tnef)}@ice.dhs.example>"
    message.set_content("Please see the attached.")
    message.add_attachment(tnef, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    return message.as_bytes()


def _good_messages() -> list[bytes]:
    return [_message(900 + n, f"detainer-{n}.pdf", _detainer(n)) for n in (0, 1)]


def _config(root: Path, cache: Path) -> Path:
    corpus = root / "corpus"
    for folder in ("dedicated", "stations", "mailbox/new", "mailbox/cur", "mailbox/tmp"):
        (corpus / folder).mkdir(parents=True)
    return rs.intake_config(root / "config.toml", corpus=corpus, data=root / "data", cache=cache, mail_action="none",
                            move_processed=False)


def _settle(settings: Settings) -> tuple[float, list[steps.CommitSummary]]:
    """Runs until a failing message has had all its attempts; the seconds they took and the last run's summaries."""
    started = time.monotonic()
    summaries: list[steps.CommitSummary] = []
    for _ in range(settings.channels.bfs_email.max_attempts):
        intake = steps.Intake.open(settings)
        try:
            summaries = run_once(intake)
        finally:
            intake.close()
    return time.monotonic() - started, summaries


def _messages(config: Path) -> list[tuple[str, str, str | None]]:
    intake = rs.open_intake(config)
    try:
        with intake.ledger.engine.connect() as connection:
            rows = connection.execute(
                select(schema.MailMessage.message_key, schema.MailMessage.status, schema.MailMessage.last_error)
            )
            return [(key, status, error) for key, status, error in rows]
    finally:
        intake.close()


def _request_channels(config: Path) -> list[str]:
    intake = rs.open_intake(config)
    try:
        return sorted(view.first_channel for view in intake.ledger.requests())
    finally:
        intake.close()


def _documents(config: Path) -> Counter[tuple[str, str | None]]:
    intake = rs.open_intake(config)
    try:
        with intake.ledger.engine.connect() as connection:
            rows = connection.execute(select(schema.Document.parse_status, schema.Document.error_reason))
            return Counter((status, reason) for status, reason in rows)
    finally:
        intake.close()


def _check(config: Path, settings: Settings, expected: int) -> None:
    seconds, _ = _settle(settings)
    messages = _messages(config)
    assert len(messages) == expected  # every message was taken in: none stopped the poll
    statuses = Counter(status for _, status, _ in messages)
    # The three that are no MIME message at all (an Outlook .msg file, a header section with no end,
    # a multipart whose boundary never comes) are quarantined; every other one is handled.
    assert statuses == {"handled": expected - 3, "quarantined": 3}, statuses
    assert {error for _, status, error in messages if status == "quarantined"} <= {
        "malformed_message: message has no header section",
        "malformed_message: multipart part without a usable boundary",
    }
    documents = _documents(config)
    # Each attachment is a document, read or quarantined with its reason (winmail.dat: unsupported_format).
    read_or_quarantined = {("parsed", None), ("quarantined", "unsupported_format"), ("quarantined", "unreadable"),
                           ("quarantined", "empty"), ("quarantined", "truncated")}
    assert sum(documents.values()) >= 12 and set(documents) <= read_or_quarantined, documents
    assert documents[("parsed", None)] >= 2
    assert _request_channels(config) == ["bfs_email", "bfs_email"]  # the good detainers, and nothing else
    before = rs.table_counts(config)
    _, again = _settle(settings)
    assert again == [] and rs.table_counts(config) == before  # a rerun adds nothing
    assert seconds < RUN_SECONDS, seconds


def test_the_wild_mail_comes_through_a_maildir(tmp_path: Path, ocr_cache_dir: Path) -> None:
    config = _config(tmp_path, ocr_cache_dir)
    mails = _good_messages() + _wild_messages()
    for number, raw in enumerate(mails):
        (tmp_path / "corpus" / "mailbox" / "new" / f"{1741100000 + number}.M{number}P1.wild.example").write_bytes(raw)
    _check(config, load_settings(config), len(mails))


@pytest.mark.imap
def test_the_wild_mail_comes_through_a_real_imap_mailbox(
    tmp_path: Path, ocr_cache_dir: Path, dovecot: DovecotServer
) -> None:
    config = _config(tmp_path, ocr_cache_dir)
    mails = _good_messages() + _wild_messages()
    for raw in mails:
        dovecot.append(raw)
    settings = load_settings(config)
    imap = dovecot.settings(action="none", maildir=None)
    settings = settings.model_copy(
        update={"channels": settings.channels.model_copy(update={"bfs_email": imap})}
    )
    _check(config, settings, len(mails))
