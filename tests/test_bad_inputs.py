"""Bad inputs are quarantined with a clear reason; they never crash, hang or unbalance a run.

The corpus is ``tests/bad_inputs/`` (small files, committed) plus big ones generated into a
temporary folder by ``tests/bad_inputs/make_bad_inputs.py`` (thousands of pages, 50 MB, a page
of noise). Two levels:

- parsing: ``extract_document`` returns ``error_reason`` (never raises), within a time bound;
- a run: the bad files dropped into a fax folder and bad messages into a Maildir, next to good
  documents, go through ``flows.sequence.run_once``: each bad input gets a quarantine record with
  its reason slug, the good ones are committed normally, the ledger stays consistent, and a
  second run adds nothing.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from core.config import ParsingSettings, load_settings
from flows import steps
from flows.sequence import run_once
from ingest.models import sha256_hex
from ledger import schema
from parsing.extract import extract_document
from tests import run_support as rs
from tests.flow_support import snapshot

BAD = Path(__file__).resolve().parent / "bad_inputs"
sys.path.insert(0, str(BAD))
import make_bad_inputs as gen  # noqa: E402

pytest_plugins = ["tests.server_support"]  # ocr_cache_dir: the session's shared extraction cache

T = TypeVar("T")
PARSING = ParsingSettings(workers=1, ocr_timeout_seconds=30)
PER_INPUT_SECONDS = 30  # wall-clock bound for reading any one bad input
MiB = 1024 * 1024


class Hung(Exception):
    pass


@contextmanager
def wall_clock(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the block runs longer than ``seconds``."""

    def expire(signum: int, frame: Any) -> None:
        raise Hung(f"still running after {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def bounded(seconds: float, call: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    with wall_clock(seconds):
        result = call()
    return result, time.monotonic() - started


# --------------------------------------------------------------------------- the corpus itself


def test_committed_corpus_is_what_the_generator_makes() -> None:
    """The small files are reproducible (so they can be reviewed and regenerated), and none is big."""
    for name in sorted(set(gen.SMALL) | set(gen.MAIL)):
        path = BAD / name
        assert path.read_bytes() == gen.build_small(name), f"{name}: run tests/bad_inputs/make_bad_inputs.py"
        assert path.stat().st_size < 200_000, name


# --------------------------------------------------------------------------- parsing level


@pytest.mark.parametrize(("name", "reason"), sorted((n, r) for n, (_, r) in gen.SMALL.items()))
def test_parsing_quarantines_each_bad_input(name: str, reason: str) -> None:
    content = (BAD / name).read_bytes()
    result, _ = bounded(PER_INPUT_SECONDS, lambda: extract_document(content, file_name=name, settings=PARSING))
    assert result.error_reason == reason, result.error
    assert result.error and len(result.error) < 300
    assert result.pages == [] and result.detainers == []
    assert result.sha256 == sha256_hex(content)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The big inputs, generated now (never committed)."""
    folder = tmp_path_factory.mktemp("big-bad-inputs")
    files = {
        "thousands_of_pages.pdf": gen.thousands_of_pages(3000),
        "oversized.pdf": gen.oversized(51 * MiB),  # over parsing.max_input_bytes (50 MiB)
        "noise.png": gen.noise_png(),
        "attachment_50mb.eml": gen.mail_with_attachment(50 * 1000 * 1000),
    }
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return {name: folder / name for name in files}


@pytest.mark.parametrize(
    ("name", "reason", "settings"),
    [
        ("thousands_of_pages.pdf", "too_large", PARSING),
        ("oversized.pdf", "too_large", PARSING),
        ("noise.png", "unreadable", PARSING),
        # A page Tesseract cannot finish in time is quarantined, not retried forever.
        ("noise.png", "ocr_timeout", PARSING.model_copy(update={"ocr_timeout_seconds": 0.2})),
    ],
    ids=["thousands of pages", "51 MiB", "noise", "noise with a tight OCR timeout"],
)
def test_parsing_quarantines_each_big_input(
    big: dict[str, Path], name: str, reason: str, settings: ParsingSettings
) -> None:
    content = big[name].read_bytes()
    result, seconds = bounded(PER_INPUT_SECONDS, lambda: extract_document(content, file_name=name, settings=settings))
    assert result.error_reason == reason, result.error
    assert result.error and len(result.error) < 300
    assert result.pages == [] and result.detainers == []
    if reason == "too_large":
        assert seconds < 5, "a size limit must be enforced before anything is decoded"


def multipage_tiff(*pages: bytes) -> bytes:
    from PIL import Image

    frames = [Image.open(io.BytesIO(page)).convert("L") for page in pages]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate",
                   dpi=(200, 200))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("pages", "kinds"),
    [
        # A noise page beside a readable one (a line hit mid-fax): the input is read, not quarantined.
        (lambda: (gen.text_png(), gen.noise_png()), 2),
        (lambda: (gen.blank_png(),), 1),  # a blank page has no text either, but is no noise: read as today
        (lambda: (gen.text_png(("FAX", "1 of 1")),), 1),  # a cover sheet with very little text
    ],
    ids=["text page + noise page", "blank page", "little text"],
)
def test_pages_that_are_not_all_noise_are_read(pages: Callable[[], tuple[bytes, ...]], kinds: int) -> None:
    parts = pages()
    content = parts[0] if len(parts) == 1 else multipage_tiff(*parts)
    result, _ = bounded(PER_INPUT_SECONDS, lambda: extract_document(content, settings=PARSING))
    assert result.error_reason is None, result.error
    assert len(result.pages) == kinds


def test_pdf_pages_poppler_cannot_finish_in_time_are_quarantined(tmp_path: Path) -> None:
    """pdftotext / pdftoppm are bounded by parsing.render_timeout_seconds; over it the input is quarantined
    with its own reason (not an untyped crash, not a hang)."""
    from parsing import pages as P

    pdf = gen.small_pdf()
    tight = PARSING.model_copy(update={"render_timeout_seconds": 0.001})
    result, _ = bounded(PER_INPUT_SECONDS, lambda: extract_document(pdf, settings=tight))
    assert result.error_reason == "render_timeout", result.error
    assert result.error and len(result.error) < 300
    assert result.pages == [] and result.detainers == []
    # The page render itself (the text layer read in time) is bounded the same way.
    (tmp_path / "in.pdf").write_bytes(pdf)
    (ref,) = P.open_input(pdf, tmp_path / "in.pdf", tight).pages
    with pytest.raises(P.RenderTimeout):
        P.render_pdf_page(ref, P.OCR_DPI)
    assert extract_document(pdf, settings=PARSING).error_reason is None  # the same input in time


def test_pdfinfo_that_never_finishes_is_a_render_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pdf2image asks pdfinfo for the page count before rendering, with no timeout of its own: a PDF
    that keeps pdfinfo busy costs the page's render timeout, not the run."""
    from parsing import pages as P

    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "pdfinfo").write_text("#!/bin/sh\nexec sleep 60\n")
    (tools / "pdfinfo").chmod(0o755)
    pdf = gen.small_pdf()
    (tmp_path / "in.pdf").write_bytes(pdf)
    settings = PARSING.model_copy(update={"render_timeout_seconds": 1.0})
    (ref,) = P.open_input(pdf, tmp_path / "in.pdf", settings).pages
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    started = time.monotonic()
    with pytest.raises(P.RenderTimeout):
        P.render_pdf_page(ref, P.OCR_DPI)
    assert time.monotonic() - started < 10


def test_parsing_limits_are_the_configured_ones() -> None:
    """max_pages / max_pixels / max_input_bytes are settings, not constants."""
    pdf = gen.small_pdf(pages=4)
    assert extract_document(pdf, settings=PARSING.model_copy(update={"max_pages": 3})).error_reason == "too_large"
    tiff = gen.g4_tiff(1728, 2200)
    assert extract_document(tiff, settings=PARSING.model_copy(update={"max_pixels": 1_000_000})).error_reason == (
        "too_large"
    )
    small = gen.text_png()
    assert extract_document(small, settings=PARSING.model_copy(update={"max_input_bytes": 100})).error_reason == (
        "too_large"
    )
    assert extract_document(small, settings=PARSING).error_reason is None  # the same input within the limits


# --------------------------------------------------------------------------- ingest level


def test_fax_folder_reads_files_with_hostile_names(tmp_path: Path) -> None:
    """Control characters and the longest name a file system takes (whose ``.info`` sidecar name
    would be too long to even look up) must not make the channel unreadable."""
    from core.channels import Channel
    from core.config import FolderChannelSettings
    from ingest.folders import poll_fax_folder
    from ingest.state import MemoryState

    names = ["F" * 251 + ".pdf", "fax\x01\x1b[2J\r.tif", "ok.tif"]
    for number, name in enumerate(names):
        (tmp_path / name).write_bytes(b"%PDF-1.4 " + bytes([number]))
    settings = FolderChannelSettings(path=tmp_path, quiet_seconds=0)
    arrivals = list(poll_fax_folder(settings, Channel.dedicated_fax, MemoryState(), tz="America/New_York"))
    assert sorted(a.path.name for a in arrivals) == sorted(names)
    for arrival in arrivals:
        name = arrival.receipt.file_name
        assert all(ch.isprintable() for ch in name) and 0 < len(name) <= 120, repr(name)


def test_fax_with_the_longest_name_sent_twice_is_moved_twice(tmp_path: Path) -> None:
    """processed/ already holds that name: the second move needs a free name that still fits."""
    from core.channels import Channel
    from core.config import FolderChannelSettings
    from ingest.folders import move_to_processed, poll_fax_folder
    from ingest.state import MemoryState

    name = "F" * 251 + ".pdf"
    settings = FolderChannelSettings(path=tmp_path, quiet_seconds=0, move_processed=True)
    for number in range(3):
        (tmp_path / name).write_bytes(b"%PDF-1.4 " + bytes([number]))
        (arrival,) = poll_fax_folder(settings, Channel.dedicated_fax, MemoryState(), tz="America/New_York")
        moved = move_to_processed(arrival)
        assert moved is not None and moved.parent == tmp_path / "processed" and moved.suffix == ".pdf"
    contents = sorted(p.read_bytes() for p in (tmp_path / "processed").iterdir())
    assert contents == [b"%PDF-1.4 " + bytes([n]) for n in range(3)]


# --------------------------------------------------------------------------- run level

# Fax files: (file name in the folder, content source, expected reason).
HOSTILE_DISK_NAMES = {
    "fax\x01\x1b[2J\r.tif": "truncated.tif",  # control characters in a file name
    "F" * 251 + ".pdf": "truncated.pdf",  # the longest name a file system takes
}
BIG_FAX = {"thousands_of_pages.pdf": "too_large", "oversized.pdf": "too_large", "noise.png": "unreadable"}
GOOD_FAX = {"R007", "R046"}  # a 1-page decoy and a 2-page cancellation notice, dedicated line
GOOD_MAIL = {"R029"}  # a born-digital I-247A packet by mail


@pytest.fixture(scope="module")
def run_level(
    tmp_path_factory: pytest.TempPathFactory, truth: dict[str, Any], big: dict[str, Path], ocr_cache_dir: Path
) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("bad-run")
    corpus = rs.build_corpus(root / "corpus", truth, GOOD_FAX | GOOD_MAIL)
    dedicated = corpus / "dedicated"
    expected: dict[str, str] = {}  # sha256 -> reason, for every bad fax file
    for name, (_, reason) in gen.SMALL.items():
        shutil.copy(BAD / name, dedicated / name)
        expected[sha256_hex((BAD / name).read_bytes())] = reason
    for disk_name, source in HOSTILE_DISK_NAMES.items():
        content = (BAD / source).read_bytes()[:-7]  # a different truncation: its own document
        (dedicated / disk_name).write_bytes(content)
        expected[sha256_hex(content)] = "truncated"
    for name, reason in BIG_FAX.items():
        shutil.copy(big[name], dedicated / name)
        expected[sha256_hex(big[name].read_bytes())] = reason

    mailbox = corpus / "mailbox"
    messages = {name: build() for name, build in gen.MAIL.items()}  # type: ignore[operator]
    messages["attachment_50mb.eml"] = big["attachment_50mb.eml"].read_bytes()
    for number, (_name, raw) in enumerate(sorted(messages.items())):
        (mailbox / "new" / f"{1741100000 + number}.M{number}P1.bad.example").write_bytes(raw)
    keys = {
        name: f"maildir:mailbox/{1741100000 + number}.M{number}P1.bad.example"
        for number, name in enumerate(sorted(messages))
    }
    config = rs.intake_config(
        root / "config.toml",
        corpus=corpus,
        data=root / "data",
        cache=ocr_cache_dir,
        mail_action="none",
        move_processed=False,
        extra="ocr_timeout_seconds = 30\n",
    )
    config.write_text(config.read_text().replace('move_to = "Processed"', 'move_to = "Processed"\nmax_attempts = 1'))
    settings = load_settings(config)
    assert settings.channels.bfs_email.max_attempts == 1

    def run() -> list[steps.CommitSummary]:
        intake = steps.Intake.open(settings)
        try:
            return run_once(intake)
        finally:
            intake.close()

    summaries, seconds = bounded(300, run)
    return {
        "config": config,
        "settings": settings,
        "expected": expected,
        "keys": keys,
        "summaries": summaries,
        "seconds": seconds,
        "run": run,
        "truth": truth,
    }


def ledger_rows(config: Path) -> dict[str, Any]:
    intake = rs.open_intake(config)
    try:
        with intake.ledger.engine.connect() as c:
            docs = {
                sha: status for sha, status in c.execute(select(schema.Document.sha256, schema.Document.parse_status))
            }
            receipts = c.execute(
                select(schema.Receipt.source_key, schema.Receipt.file_name, schema.Document.sha256).join(
                    schema.Document, schema.Document.id == schema.Receipt.document_id
                )
            ).all()
            quarantine = dict(c.execute(select(schema.Quarantine.input_ref, schema.Quarantine.reason)).tuples().all())
            mail = {
                k: (s, n)
                for k, s, n in c.execute(
                    select(schema.MailMessage.message_key, schema.MailMessage.status, schema.MailMessage.n_documents)
                )
            }
            reviews = set(c.execute(select(schema.ReviewItem.key)).scalars())
        return {
            "docs": docs,
            "receipts": receipts,
            "quarantine": quarantine,
            "mail": mail,
            "reviews": reviews,
            "snapshot": snapshot(intake.ledger),
            "counts": rs.table_counts(config),
        }
    finally:
        intake.close()


def test_run_quarantines_every_bad_fax_file_with_its_reason(run_level: dict[str, Any]) -> None:
    rows = ledger_rows(run_level["config"])
    for sha, reason in run_level["expected"].items():
        assert rows["docs"].get(sha) == "quarantined", (reason, sha[:12])
        assert rows["quarantine"].get(f"sha256:{sha}") == reason, sha[:12]
        assert f"quarantine:{sha}" in rows["reviews"]
    received = {sha for _, _, sha in rows["receipts"]}
    assert set(run_level["expected"]) <= received


def test_run_commits_the_good_documents_normally(run_level: dict[str, Any]) -> None:
    rows = ledger_rows(run_level["config"])
    truth = run_level["truth"]
    for receipt in truth["receipts"]:
        if receipt["id"] in GOOD_FAX | GOOD_MAIL:
            assert rows["docs"].get(receipt["sha256"]) == "parsed", receipt["id"]
    assert rows["snapshot"]["requests"], "the good detainer packets made no request"


def test_run_reads_recoverable_messages_and_quarantines_broken_ones(run_level: dict[str, Any]) -> None:
    rows = ledger_rows(run_level["config"])
    keys = run_level["keys"]
    assert rows["mail"][keys["broken_structure.eml"]][0] == "quarantined"
    assert rows["quarantine"][f"mail:{keys['broken_structure.eml']}"] == "malformed_message"
    for name, documents in (("missing_boundary.eml", 1), ("undecodable_headers.eml", 1), ("hostile_names.eml", 3)):
        assert rows["mail"][keys[name]] == ("handled", documents), name
        parts = [(key, sha) for key, _, sha in rows["receipts"] if key.startswith(keys[name] + ";")]
        assert len(parts) == documents, name
        assert all(rows["docs"][sha] == "parsed" for _, sha in parts), name


def test_run_sanitises_hostile_file_names(run_level: dict[str, Any]) -> None:
    rows = ledger_rows(run_level["config"])
    names = [name for _, name, _ in rows["receipts"]]
    assert len(names) == len(rows["receipts"])
    for name in names:
        assert name and "/" not in name and "\\" not in name and not name.startswith(".")
        assert all(ch.isprintable() for ch in name), repr(name)
        assert len(name) <= 120
    hostile = [name for key, name, _ in rows["receipts"] if key.startswith(run_level["keys"]["hostile_names.eml"])]
    assert sorted(hostile)[0].endswith(".png") and len(hostile) == 3
    assert not Path("/tmp/escape").exists()  # the ../ name must not have been followed


def test_run_quarantines_mail_parts_it_rejects(run_level: dict[str, Any]) -> None:
    """A 50 MB attachment (over bfs_email.max_attachment_bytes) and a document forwarded too deep are not
    taken, but the message is not silently done with: each part has its quarantine record and review item."""
    rows = ledger_rows(run_level["config"])
    keys = run_level["keys"]
    for name, reason in (("attachment_50mb.eml", "too_large"), ("nested_too_deep.eml", "nested_too_deep")):
        assert rows["mail"][keys[name]] == ("handled", 0), name
        parts = {ref: r for ref, r in rows["quarantine"].items() if ref.startswith(f"mail:{keys[name]};part=")}
        assert parts and set(parts.values()) == {reason}, name
        assert {f"quarantine:{ref}" for ref in parts} <= rows["reviews"]


def test_run_completes_in_bounded_time_and_leaves_a_consistent_ledger(run_level: dict[str, Any]) -> None:
    assert run_level["seconds"] < 300
    rows = ledger_rows(run_level["config"])
    assert "pending" not in rows["docs"].values()
    assert {sha for _, _, sha in rows["receipts"]} == set(rows["docs"])  # no document without an arrival
    quarantined = {sha for sha, status in rows["docs"].items() if status == "quarantined"}
    assert {f"sha256:{sha}" for sha in quarantined} <= set(rows["quarantine"])
    assert all(status in ("handled", "quarantined") for status, _ in rows["mail"].values())
    assert len(rows["mail"]) == len(run_level["keys"]) + len(GOOD_MAIL)


def test_second_run_adds_nothing(run_level: dict[str, Any]) -> None:
    before = ledger_rows(run_level["config"])
    summaries, _ = bounded(120, run_level["run"])
    assert all(s.receipts_new == 0 and s.messages_handled == 0 and s.messages_failed == 0 for s in summaries)
    after = ledger_rows(run_level["config"])
    assert after["snapshot"] == before["snapshot"]
    assert after["counts"] == before["counts"]
