"""One document whose reading keeps failing unexpectedly (a parser fault, not a bad input) is tried
again by the next runs, then quarantined with reason ``parse_failed``: it neither blocks its channel
nor loops forever, and the documents beside it are counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import load_settings
from flows import steps
from flows.sequence import run_once
from ingest.models import sha256_hex
from tests import run_support as rs
from tests.born_digital import Page, i247a_page


def _header(number: str) -> object:
    def draw(page: Page) -> None:
        page.text(40, 100, f"Event #: {number}", 9)

    return draw


def _run(config: Path) -> list[steps.CommitSummary]:
    intake = steps.Intake.open(load_settings(config))
    try:
        return run_once(intake)
    finally:
        intake.close()


def test_a_document_that_keeps_failing_is_quarantined_after_its_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = tmp_path / "corpus"
    for folder in ("dedicated", "stations/C-6", "mailbox/new", "mailbox/cur", "mailbox/tmp"):
        (corpus / folder).mkdir(parents=True)
    good = i247a_page(_header("EID0000001"))  # type: ignore[arg-type]
    poison = i247a_page(_header("EID0000002"))  # type: ignore[arg-type]
    (corpus / "dedicated" / "good.pdf").write_bytes(good)
    (corpus / "stations" / "C-6" / "poison.pdf").write_bytes(poison)
    config = rs.intake_config(
        tmp_path / "config.toml", corpus=corpus, data=tmp_path / "data", mail_action="none", move_processed=True
    )
    settings = load_settings(config)
    assert settings.parsing.max_parse_attempts == 3

    real = steps.extract_document

    def faulty(content: bytes, **kwargs: object) -> object:
        if sha256_hex(content) == sha256_hex(poison):
            raise RuntimeError("a message that could quote the document")
        return real(content, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(steps, "extract_document", faulty)
    for _ in range(2):  # attempts 1 and 2: the run fails, the arrival waits, nothing is moved
        with pytest.raises(RuntimeError):
            _run(config)
        assert (corpus / "stations" / "C-6" / "poison.pdf").exists()
    _run(config)  # attempt 3 gives up on it
    quarantined = dict(rs.quarantine_rows(config))
    assert quarantined == {f"sha256:{sha256_hex(poison)}": "parse_failed"}
    assert not (corpus / "stations" / "C-6" / "poison.pdf").exists()  # committed, so moved like any fax
    assert not (corpus / "dedicated" / "good.pdf").exists()
    counts = rs.table_counts(config)
    assert counts["documents"] == 2 and counts["receipts"] == 2
    assert _run(config) == []  # the next run adds nothing
    assert "quote the document" not in caplog.text  # only the exception's class is kept
    assert "RuntimeError" in caplog.text
