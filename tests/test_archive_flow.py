"""The ``archive_verify`` Prefect flow: a whole archive completes with its counts, a damaged one fails
the run naming the counts (never a personal value)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.archive import Archive
from ingest.models import Receipt
from ledger.db import open_ledger
from parsing.models import ExtractionResult, PageResult


@pytest.fixture(scope="module")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_archive_verify_flow_passes_a_whole_archive_and_fails_a_damaged_one(prefect_harness, tmp_path: Path):
    from flows.archive import ArchiveDamaged, archive_verify

    root = tmp_path / "archive"
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = open_ledger(url)
    shas = []
    try:
        for i, content in enumerate([b"alpha", b"beta"]):
            Archive(root).store(content)
            digest = hashlib.sha256(content).hexdigest()
            shas.append(digest)
            ledger.record(
                Receipt(
                    channel="dedicated_fax",
                    source_key=f"flow:{i}",
                    received_at=datetime(2025, 3, 3, 15, i, tzinfo=UTC),
                    file_name=f"f{i}.pdf",
                    sha256=digest,
                    size=len(content),
                ),
                ExtractionResult(sha256=digest, pages=[PageResult(page=1, kind="other")]),
            )
    finally:
        ledger.close()
    config = tmp_path / "config.toml"
    config.write_text(f'[ledger]\nurl = "{url}"\n[archive]\npath = "{root}"\n', encoding="utf-8")

    result = archive_verify(str(config))
    assert result["ok"] and (result["expected"], result["checked"], result["missing"]) == (2, 2, 0)

    Archive(root).path_for(shas[0]).write_bytes(b"alphA")
    state = archive_verify(str(config), return_state=True)
    assert state.is_failed()
    with pytest.raises(ArchiveDamaged, match="0 missing, 1 corrupt, 0 unreferenced"):
        state.result()
