"""The ``archive_verify`` flow: every archived file re-hashed against the ledger, monthly.

The same check as ``detainer-intake archive verify`` (``application.archive_verify``): missing,
corrupt and unreferenced files with their counts, published as a markdown artifact (SHA-256s
and archive-relative paths only: nothing personal). A damaged archive fails the run, so the
Prefect UI (and any notification on failed runs) shows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from application.archive_verify import verify_archive
from core.config import load_settings
from core.errors import IntakeError
from ledger.db import open_ledger

LISTED = 50  # files named per kind in the artifact; the counts are always whole


class ArchiveDamaged(IntakeError):
    """The archive does not match the ledger: files missing, corrupt or unreferenced."""

    remedy = "Restore the named files from backup (the ledger keeps their SHA-256s); `detainer-intake archive verify`."


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# Archive check: {'ok' if result['ok'] else 'DAMAGED'}",
        "",
        f"{result['checked']} of {result['expected']} expected files present and checked "
        f"({result['bytes_read'] / 1e6:.1f} MB read).",
        "",
        "| kind | count |",
        "|---|---|",
        f"| missing | {result['missing']} |",
        f"| corrupt | {result['corrupt']} |",
        f"| unreferenced | {result['unreferenced']} |",
    ]
    for kind in ("missing", "corrupt", "unreferenced"):
        names = result[f"{kind}_files"]
        if names:
            lines += ["", f"## {kind}", ""] + [f"- `{name}`" for name in names[:LISTED]]
            if len(names) > LISTED:
                lines.append(f"- … and {len(names) - LISTED} more (`detainer-intake archive verify --json`)")
    lines += ["", "Reproduce: `detainer-intake archive verify`"]
    return "\n".join(lines)


@flow(name="archive_verify", flow_run_name="archive-verify", log_prints=False, persist_result=False)
def archive_verify(config_path: str | None = None) -> dict[str, Any]:
    """Re-hash the archive against the ledger; the counts as a dict. Fails when anything is wrong."""
    settings = load_settings(Path(config_path) if config_path else None)
    ledger = open_ledger(settings.ledger_url, migrate=False)
    try:
        references = ledger.archive_references()
    finally:
        ledger.close()
    report = verify_archive(Path(settings.archive.path), references)
    result = report.to_json()
    create_markdown_artifact(key="archive-verify", markdown=_markdown(result), description=report.summary())
    get_run_logger().info(report.summary())
    if not report.ok:
        raise ArchiveDamaged(report.summary())
    return result
