"""One document whose reading keeps failing unexpectedly (a parser fault, not a bad input) is tried
again by the next runs, then quarantined with reason ``parse_failed``: it neither blocks its channel
nor loops forever, and the documents beside it are counted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from core.config import load_settings
from flows import steps
from flows.sequence import InProcess, run_sequence
from ingest.archive import Archive
from ingest.channel import Arrival, IntakeChannel
from ingest.models import MailMessage, Receipt, sha256_hex
from ledger.store import Ledger
from tests import run_support as rs
from tests.born_digital import i247a_page


def test_a_document_that_keeps_failing_is_quarantined_after_its_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = tmp_path / "corpus"
    for folder in ("dedicated", "stations/C-6", "mailbox/new", "mailbox/cur", "mailbox/tmp"):
        (corpus / folder).mkdir(parents=True)
    good = i247a_page(rs.event_header("EID0000001"))  # type: ignore[arg-type]
    poison = i247a_page(rs.event_header("EID0000002"))  # type: ignore[arg-type]
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
            rs.run_in_process(config)
        assert (corpus / "stations" / "C-6" / "poison.pdf").exists()
    rs.run_in_process(config)  # attempt 3 gives up on it
    quarantined = dict(rs.quarantine_rows(config))
    assert quarantined == {f"sha256:{sha256_hex(poison)}": "parse_failed"}
    assert not (corpus / "stations" / "C-6" / "poison.pdf").exists()  # committed, so moved like any fax
    assert not (corpus / "dedicated" / "good.pdf").exists()
    counts = rs.table_counts(config)
    assert counts["documents"] == 2 and counts["receipts"] == 2
    assert rs.run_in_process(config) == []  # the next run adds nothing
    assert "quote the document" not in caplog.text  # only the exception's class is kept
    assert "RuntimeError" in caplog.text


class _Tolerant(InProcess):
    """Like Prefect's runner: a failed commit is tried once more, then recorded, and the run goes on."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def commit(  # type: ignore[override]
        self, intake: steps.Intake, channel: IntakeChannel, arrival: Arrival
    ) -> steps.CommitSummary | None:
        for retry in (True, False):
            try:
                return super().commit(intake, channel, arrival)
            except Exception as exc:  # the runner records any failure
                if not retry:
                    self.failures.append(type(exc).__name__)
        return None


def _tolerant_run(config: Path) -> _Tolerant:
    runner = _Tolerant()
    intake = steps.Intake.open(load_settings(config))
    try:
        run_sequence(intake, runner)
    finally:
        intake.close()
    return runner


def _three_faxes(tmp_path: Path) -> tuple[Path, Path, bytes]:
    corpus = tmp_path / "corpus"
    for folder in ("dedicated", "stations/C-6", "mailbox/new", "mailbox/cur", "mailbox/tmp"):
        (corpus / folder).mkdir(parents=True)
    poison = i247a_page(rs.event_header("EID0000012"))  # type: ignore[arg-type]
    (corpus / "dedicated" / "good.pdf").write_bytes(i247a_page(rs.event_header("EID0000011")))  # type: ignore[arg-type]
    (corpus / "stations" / "C-6" / "poison.pdf").write_bytes(poison)
    (corpus / "stations" / "C-6" / "neighbour.pdf").write_bytes(i247a_page(rs.event_header("EID0000013")))  # type: ignore[arg-type]
    config = rs.intake_config(
        tmp_path / "config.toml", corpus=corpus, data=tmp_path / "data", mail_action="none", move_processed=True
    )
    return corpus, config, poison


def _failing_commit(monkeypatch: pytest.MonkeyPatch, poison: bytes, times: int | None) -> None:
    """The ledger's record raises for ``poison`` (``times`` times, or always) unless it records a quarantine."""
    real = Ledger.record
    calls = {"n": 0}

    def record(self: Ledger, receipt: Receipt, extraction: object, *, quarantine: object = None) -> object:
        if receipt.sha256 == sha256_hex(poison) and quarantine is None and (times is None or calls["n"] < times):
            calls["n"] += 1
            raise RuntimeError("a message that could quote the document")
        return real(self, receipt, extraction, quarantine=quarantine)  # type: ignore[arg-type]

    monkeypatch.setattr(Ledger, "record", record)


def test_a_file_whose_commit_keeps_failing_is_quarantined_after_its_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    corpus, config, poison = _three_faxes(tmp_path)
    assert load_settings(config).flows.max_commit_attempts == 3
    _failing_commit(monkeypatch, poison, times=None)

    first = _tolerant_run(config)
    assert first.failures == ["RuntimeError"]
    assert rs.table_counts(config)["receipts"] == 2  # the neighbours are counted in the first run
    assert not (corpus / "dedicated" / "good.pdf").exists()
    assert (corpus / "stations" / "C-6" / "poison.pdf").exists()  # waits for the next run
    assert _tolerant_run(config).failures == ["RuntimeError"]  # attempt 2
    assert rs.quarantine_rows(config) == []

    assert _tolerant_run(config).failures == []  # attempt 3 gives up on it
    quarantined = dict(rs.quarantine_rows(config))
    assert quarantined == {f"sha256:{sha256_hex(poison)}": "commit_failed"}
    counts = rs.table_counts(config)
    assert counts["receipts"] == 3 and counts["documents"] == 3
    assert not (corpus / "stations" / "C-6" / "poison.pdf").exists()  # committed, so filed like any fax
    assert Archive(load_settings(config).archive.path).load(sha256_hex(poison)) == poison  # still archived

    fourth = _tolerant_run(config)
    assert fourth.failures == [] and rs.table_counts(config) == counts  # the next run adds nothing
    assert "quote the document" not in caplog.text  # only the exception's class is kept
    assert "RuntimeError" in caplog.text


def test_a_commit_that_failed_once_heals_on_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    corpus, config, poison = _three_faxes(tmp_path)
    _failing_commit(monkeypatch, poison, times=2)  # the first run and its retry
    assert _tolerant_run(config).failures == ["RuntimeError"]
    assert "(RuntimeError), attempt 1 of 3" in caplog.text  # counted once, not once per retry
    assert _tolerant_run(config).failures == []
    assert rs.quarantine_rows(config) == []
    assert rs.table_counts(config)["receipts"] == 3
    assert not (corpus / "stations" / "C-6" / "poison.pdf").exists()


def test_a_message_whose_commit_keeps_failing_is_recorded_with_its_documents_quarantined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same one place serves a mail message: its documents are quarantined commit_failed, the message handled."""
    from tests.test_wild_inputs import _message

    corpus, config, _ = _three_faxes(tmp_path)
    poison = i247a_page(rs.event_header("EID0000014"))  # type: ignore[arg-type]
    (corpus / "mailbox" / "new" / "1741100000.M1P1.poison.example").write_bytes(_message(1, "poison.pdf", poison))
    real = Ledger.record_message

    def record_message(self: Ledger, message: MailMessage, documents: Sequence[Any] = ()) -> list[Any]:
        if any(quarantine is None for _, _, quarantine in documents):
            raise RuntimeError("a message that could quote the document")
        return real(self, message, documents)

    monkeypatch.setattr(Ledger, "record_message", record_message)
    for _ in range(2):
        assert _tolerant_run(config).failures == ["RuntimeError"]
    assert _tolerant_run(config).failures == []
    assert dict(rs.quarantine_rows(config)) == {f"sha256:{sha256_hex(poison)}": "commit_failed"}
    assert [status for _, status in rs.mail_rows(config)] == ["handled"]  # not fetched again
    assert _tolerant_run(config).failures == []
