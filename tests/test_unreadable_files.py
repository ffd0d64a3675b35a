"""A fax file its channel lists but cannot read (no permission for the service's user, an I/O
error) is never a silent skip: it becomes a quarantine record and a review item keyed by the
file, the files beside it are counted, every later poll tries it again without a second record,
and once it can be read it is taken like any other fax."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest import folders
from tests import run_support as rs
from tests.born_digital import i247a_page


def test_a_file_that_cannot_be_read_is_quarantined_then_taken_once_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = tmp_path / "corpus"
    for folder in ("dedicated", "stations/C-6", "mailbox/new", "mailbox/cur", "mailbox/tmp"):
        (corpus / folder).mkdir(parents=True)
    (corpus / "dedicated" / "good.pdf").write_bytes(i247a_page(rs.event_header("EID0000001")))  # type: ignore[arg-type]
    locked = corpus / "stations" / "C-6" / "locked.pdf"
    locked.write_bytes(i247a_page(rs.event_header("EID0000002")))  # type: ignore[arg-type]
    config = rs.intake_config(
        tmp_path / "config.toml", corpus=corpus, data=tmp_path / "data", mail_action="none", move_processed=False
    )
    real = folders._read_as_listed

    def refused(path: Path, listed: os.stat_result) -> bytes | None:
        if path.name == "locked.pdf":  # the fax server wrote it 0600 under its own user
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, listed)

    monkeypatch.setattr(folders, "_read_as_listed", refused)
    rs.run_in_process(config)
    quarantined = dict(rs.quarantine_rows(config))
    assert list(quarantined.values()) == ["unreadable_file"]
    (ref,) = quarantined
    assert ref.startswith("file:station_fax") and "locked.pdf" in ref
    counts = rs.table_counts(config)
    assert counts["documents"] == 1 and counts["receipts"] == 1  # the good fax, counted beside it
    intake = rs.open_intake(config)
    try:
        assert [item.reason for item in intake.ledger.review_items(kind="quarantine")] == ["unreadable_file"]
    finally:
        intake.close()
    assert "Permission denied" not in caplog.text and "PermissionError" in caplog.text

    rs.run_in_process(config)  # tried again: still one record, its attempts counted
    assert dict(rs.quarantine_rows(config)) == quarantined
    assert rs.table_counts(config)["quarantine"] == 1

    monkeypatch.setattr(folders, "_read_as_listed", real)  # the permission fixed
    rs.run_in_process(config)
    counts = rs.table_counts(config)
    assert counts["documents"] == 2 and counts["receipts"] == 2
    assert locked.exists()  # left in place as configured
    intake = rs.open_intake(config)
    try:
        assert intake.ledger.review_items(kind="quarantine") == []  # read now: no longer open
    finally:
        intake.close()


def test_a_file_over_the_input_limit_is_quarantined_without_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A huge file costs its listing only: never read into memory, a too_large quarantine record, left in place."""
    corpus = tmp_path / "corpus"
    for folder in ("dedicated", "stations/C-6", "mailbox/new", "mailbox/cur", "mailbox/tmp"):
        (corpus / folder).mkdir(parents=True)
    (corpus / "dedicated" / "good.pdf").write_bytes(i247a_page(rs.event_header("EID0000003")))  # type: ignore[arg-type]
    huge = corpus / "dedicated" / "huge.tif"
    with huge.open("wb") as handle:  # sparse: 3 GB listed, nothing written
        handle.truncate(3 * 1024**3)
    config = rs.intake_config(
        tmp_path / "config.toml", corpus=corpus, data=tmp_path / "data", mail_action="none", move_processed=True
    )
    read: list[str] = []
    real = folders._read_as_listed

    def watched(path: Path, listed: os.stat_result) -> bytes | None:
        read.append(path.name)
        return real(path, listed)

    monkeypatch.setattr(folders, "_read_as_listed", watched)
    rs.run_in_process(config)
    assert read == ["good.pdf"]  # the huge file was never opened
    assert list(dict(rs.quarantine_rows(config)).values()) == ["too_large"]
    assert rs.table_counts(config)["documents"] == 1
    assert huge.exists() and not (corpus / "dedicated" / "good.pdf").exists()  # left in place; the good one filed
    rs.run_in_process(config)
    assert rs.table_counts(config)["quarantine"] == 1
