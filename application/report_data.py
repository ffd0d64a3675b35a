"""The annual report's data: what one read of the ledger gives (``ReportData``) and where the files go
(``ReportPaths``). ``application.report`` builds and writes them; ``application.html`` renders them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from application.data import RequestRow
from application.definitions import METRIC_KEYS
from application.reconcile import Reconciliation


@dataclass(frozen=True)
class ReportPaths:
    directory: Path
    requests_csv: Path
    summary_json: Path
    report_html: Path
    manifest: Path  # MANIFEST.sha256: every file's SHA-256, as sha256sum -c reads it


@dataclass
class ReportData:
    """Everything the three files are written from (one read of the ledger)."""

    department: str
    year: int
    timezone: str
    generated_at: datetime
    metrics: dict[str, Any]
    dispositions: dict[str, Any]
    rows: list[RequestRow]
    include_pii: bool
    reconciliation: Reconciliation | None = None
    # software and parser versions, git commit, ledger schema revision, generated at, command,
    # counting settings (``application.provenance``) and the channel coverage
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def value(self, key: str) -> Any:
        return self.metrics[key] if key in METRIC_KEYS else self.dispositions[key]
