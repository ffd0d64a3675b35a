"""Scale-out as the README documents it: parsing in daemonic (Dask) workers, bounded runners, a real cluster."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from core.config import ParsingSettings
from tests.conftest import SAMPLE_ROOT


def _read_in_daemon(path: str, results: Any) -> None:
    from parsing.extract import extract_document

    try:
        result = extract_document(Path(path).read_bytes(), file_name="fax.tif", settings=ParsingSettings(workers=2))
        results.put(("ok", len(result.pages), result.error_reason))
    except BaseException as exc:  # what the parent asserts on
        results.put(("raised", type(exc).__name__, str(exc)))


def test_a_daemonic_process_reads_in_process(truth: dict[str, Any]) -> None:
    """A Dask worker is a daemonic process: with a pool configured it still reads (no pool of its own)."""
    receipt = next(r for r in truth["receipts"] if r["channel"] == "dedicated_fax" and len(r.get("pages", [])) == 1)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    worker = context.Process(target=_read_in_daemon, args=(str(SAMPLE_ROOT / receipt["path"]), results), daemon=True)
    worker.start()
    try:
        outcome = results.get(timeout=120)
    finally:
        worker.join(30)
    assert outcome == ("ok", 1, None), outcome
