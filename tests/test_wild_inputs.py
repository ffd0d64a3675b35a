"""Decoder crashers and damaged files collected by other projects (tests/wild/README.md), dropped into
all three channels beside good detainers: no channel fails, every good detainer is counted, every wild
file ends as a read document or a quarantine record, the run stays bounded, and a rerun adds nothing."""

from __future__ import annotations

import time
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from core.config import load_settings
from flows import steps
from flows.sequence import run_once
from ingest.models import sha256_hex
from ledger import schema
from tests import run_support as rs
from tests.born_digital import i247a_header_pdf

if TYPE_CHECKING:
    from tests.imap_server import DovecotServer

WILD = Path(__file__).parent / "wild"
pytest_plugins = ["tests.server_support", "tests.imap_server"]  # ocr_cache_dir; dovecot (a real IMAP server)

RUN_SECONDS = 240  # the whole run over every wild file on three channels, on a busy two-core machine


# Made-up people, far apart in every identifier (near ones would rightly be offered as one request).
PEOPLE = (
    ("729304518", "NYC2502004417", "A087-654-321", "RIVERA SOTO, Ana", "11/23/1988"),
    ("163950227", "BOS2501117093", "A201-339-870", "OKAFOR, Chinedu", "02/07/1979"),
    ("580412966", "PHL2503309258", "A315-002-446", "NGUYEN, Thi Lan", "06/30/1995"),
)


def _wild_files() -> list[Path]:
    return sorted(p for p in WILD.glob("*/*") if p.suffix in (".tif", ".png", ".jpg", ".pdf"))


def _detainer(n: int) -> bytes:
    """A born-digital I-247A page 1 for a made-up person ``n`` (no real personal data)."""
    subject, event, file_number, name, born = PEOPLE[n]
    rows = (
        (("Subject ID:", subject), ("Event No.:", event)),
        (("File No.:", file_number), ("Date Issued:", "03/04/2025")),
        (("Name of Alien:", name),),
        (("DOB:", born), ("Country of Citizenship:", "GUATEMALA"), ("Gender:", "Female")),
    )
    return i247a_header_pdf(rows)


def _message(number: int, name: str, content: bytes) -> bytes:
    message = EmailMessage()
    message["From"] = "ero.boston@ice.dhs.example"
    message["To"] = "bfs@dept.example"
    message["Subject"] = f"Detainer {number}"
    message["Date"] = "Tue, 04 Mar 2025 10:15:00 -0500"
    message["Message-ID"] = f"<wild-{number}@ice.dhs.example>"
    message.set_content("Please see the attached.")
    message.add_attachment(content, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()


@pytest.fixture(scope="module")
def wild_run(tmp_path_factory: pytest.TempPathFactory, ocr_cache_dir: Path) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("wild")
    corpus = root / "corpus"
    for folder in ("dedicated", "stations/C-6", "mailbox/new", "mailbox/cur", "mailbox/tmp"):
        (corpus / folder).mkdir(parents=True)
    wild = _wild_files()
    good = {"dedicated": _detainer(0), "station": _detainer(1), "mail": _detainer(2)}
    (corpus / "dedicated" / "a-good.pdf").write_bytes(good["dedicated"])
    (corpus / "stations" / "C-6" / "a-good.pdf").write_bytes(good["station"])
    for path in wild:
        (corpus / "dedicated" / path.name).write_bytes(path.read_bytes())
        (corpus / "stations" / "C-6" / path.name).write_bytes(path.read_bytes())
    mails = [("a-good.pdf", good["mail"])] + [(p.name, p.read_bytes()) for p in wild]
    for number, (name, content) in enumerate(mails):
        (corpus / "mailbox" / "new" / f"{1741100000 + number}.M{number}P1.wild.example").write_bytes(
            _message(number, name, content)
        )
    config = rs.intake_config(
        root / "config.toml", corpus=corpus, data=root / "data", cache=ocr_cache_dir, mail_action="none",
        move_processed=False,
    )

    def run() -> list[steps.CommitSummary]:
        intake = steps.Intake.open(load_settings(config))
        try:
            return run_once(intake)
        finally:
            intake.close()

    started = time.monotonic()
    run()
    seconds = time.monotonic() - started
    return {"config": config, "wild": wild, "good": good, "seconds": seconds, "run": run, "mails": len(mails)}


def _documents(config: Path) -> dict[str, str]:
    intake = rs.open_intake(config)
    try:
        with intake.ledger.engine.connect() as connection:
            rows = connection.execute(select(schema.Document.sha256, schema.Document.parse_status))
            return {sha: status for sha, status in rows}
    finally:
        intake.close()


def test_every_wild_file_is_a_document_read_or_quarantined(wild_run: dict[str, Any]) -> None:
    documents = _documents(wild_run["config"])
    for path in wild_run["wild"]:
        status = documents.get(sha256_hex(path.read_bytes()))
        assert status in ("parsed", "quarantined"), (path.name, status)
    assert wild_run["seconds"] < RUN_SECONDS, wild_run["seconds"]


def test_every_channel_takes_in_every_arrival(wild_run: dict[str, Any]) -> None:
    intake = rs.open_intake(wild_run["config"])
    try:
        keys = intake.ledger.known_source_keys("")
    finally:
        intake.close()
    files = len(wild_run["wild"]) + 1
    assert sum(k.startswith("file:dedicated_fax:") for k in keys) == files
    assert sum(k.startswith("file:station_fax:") for k in keys) == files
    assert sum(k.startswith("maildir:") and ";part=" in k for k in keys) == wild_run["mails"]


def test_the_good_detainers_are_counted_on_their_channels(wild_run: dict[str, Any]) -> None:
    intake = rs.open_intake(wild_run["config"])
    try:
        channels = sorted(view.first_channel for view in intake.ledger.requests())
    finally:
        intake.close()
    assert channels == ["bfs_email", "dedicated_fax", "station_fax"]


def test_a_rerun_adds_nothing(wild_run: dict[str, Any]) -> None:
    before = rs.table_counts(wild_run["config"])
    assert wild_run["run"]() == []
    assert rs.table_counts(wild_run["config"]) == before


@pytest.mark.imap
def test_the_wild_files_come_through_a_real_imap_mailbox(dovecot: DovecotServer) -> None:
    """The same messages over IMAP (Dovecot): every message is fetched, each attachment is a document
    (the ledger reads or quarantines it), and the poll never fails."""
    from ingest.mailbox import MailboxSession
    from ingest.state import MemoryState

    wild = _wild_files()
    for number, path in enumerate(wild):
        dovecot.append(_message(number, path.name, path.read_bytes()))
    state = MemoryState()
    found: dict[str, int] = {}
    with MailboxSession(dovecot.settings(action="none")) as session:
        for message in session.poll(state, "America/New_York"):
            state.record_message(message)
            assert message.error is None, message.error
            found[message.message_id or ""] = len(message.documents)
    assert found == {f"<wild-{number}@ice.dhs.example>": 1 for number in range(len(wild))}
