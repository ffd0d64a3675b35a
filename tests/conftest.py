"""Fixtures shared by the whole suite: the sample corpus, its truth, and configurations."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # single-threaded Tesseract: ~8x faster on 2 cores

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ROOT = PROJECT_ROOT / "sample_faxes"
TRUTH_PATH = SAMPLE_ROOT / "truth.json"


@pytest.fixture(scope="session")
def truth() -> dict[str, Any]:
    assert TRUTH_PATH.is_file(), "sample_faxes/truth.json is missing: run `python -m samplegen generate`"
    return json.loads(TRUTH_PATH.read_text(encoding="utf-8"))


def write_config(
    path: Path,
    *,
    data_dir: Path,
    sample_root: Path = SAMPLE_ROOT,
    ledger_url: str | None = None,
    extraction_cache: Path | None = None,
    mail_action: str = "none",
    move_processed: bool = False,
    workers: int | None = None,
    extra: str = "",
) -> Path:
    """A configuration file over a corpus laid out like sample_faxes/, with its own data folder.

    ``extraction_cache`` lets several runs in one test session share OCR results; ``extra``
    is appended last (after ``[parsing]`` when ``workers`` is given).
    """
    url = ledger_url or f"sqlite:///{data_dir / 'ledger.db'}"
    cache_line = f'extraction_cache = "{extraction_cache}"' if extraction_cache else ""
    moved = "true" if move_processed else "false"
    parsing = f"[parsing]\nworkers = {workers}" if workers is not None else ""
    path.write_text(
        f"""
[ledger]
url = "{url}"
[archive]
path = "{data_dir / "archive"}"
{cache_line}
[channels.dedicated_fax]
path = "{sample_root / "dedicated"}"
quiet_seconds = 0
move_processed = {moved}
[channels.station_fax]
path = "{sample_root / "stations"}"
quiet_seconds = 0
move_processed = {moved}
[channels.bfs_email]
enabled = true
maildir = "{sample_root / "mailbox"}"
action = "{mail_action}"
move_to = "Processed"
{parsing}
{extra}
""",
        encoding="utf-8",
    )
    return path


def copy_corpus(destination: Path, truth: dict[str, Any], receipt_ids: set[str] | None = None) -> Path:
    """Copy (part of) the sample corpus with its receive-time mtimes, so a test may move or kill freely."""
    wanted = truth["receipts"] if receipt_ids is None else [r for r in truth["receipts"] if r["id"] in receipt_ids]
    paths = {r["path"] for r in wanted}
    for relative in sorted(paths):
        source = SAMPLE_ROOT / relative
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        for sidecar in source.parent.glob(source.name + ".*"):
            shutil.copy2(sidecar, target.parent / sidecar.name)
    for folder in ("dedicated", "stations", "mailbox/cur", "mailbox/new", "mailbox/tmp"):
        (destination / folder).mkdir(parents=True, exist_ok=True)
    return destination

# --------------------------------------------------------------------------- throw-away ledgers

if TYPE_CHECKING:
    from ledger.store import Ledger


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A throw-away ledger URL: SQLite, and PostgreSQL in a schema of its own (marked ``postgres``)."""
    from tests import ledger_support

    with ledger_support.ledger_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    """A migrated ledger at ``ledger_url``, closed afterwards."""
    from ledger.db import open_ledger

    opened = open_ledger(ledger_url)
    try:
        yield opened
    finally:
        opened.close()
