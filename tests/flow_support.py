"""Helpers for the flow tests: configurations over the corpus and a comparable ledger snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.config import Settings, load_settings
from flows.steps import Intake
from ledger.store import Ledger
from tests.conftest import SAMPLE_ROOT, write_config


def corpus_config(tmp: Path, cache: Path, *, sample_root: Path = SAMPLE_ROOT, extra: str = "") -> Path:
    """A config over ``sample_root`` with its own ledger and archive, sharing the session's OCR cache."""
    tmp.mkdir(parents=True, exist_ok=True)
    return write_config(
        tmp / "config.toml", data_dir=tmp / "data", sample_root=sample_root, extraction_cache=cache, extra=extra
    )


def settings_of(config: Path) -> Settings:
    return load_settings(config)


def snapshot(ledger: Ledger, years: tuple[int, ...] = (2024, 2025), tz: str = "America/New_York") -> dict[str, Any]:
    """Everything an auditor's number depends on, in a form that compares across ledgers."""
    requests = sorted(
        (view.id, view.first_channel, view.first_station, tuple(sorted(view.receipt_keys)), view.cancelled_by)
        for view in ledger.requests()
    )
    return {
        "receipts": sorted(ledger.known_source_keys("")),
        "requests": requests,
        "metrics": {year: ledger.metrics(year, tz) for year in years},
    }


def snapshot_of(config: Path) -> dict[str, Any]:
    intake = Intake.open(settings_of(config))
    try:
        return snapshot(intake.ledger)
    finally:
        intake.close()
