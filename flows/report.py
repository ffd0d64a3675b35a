"""The ``annual_report`` flow: the auditors' report for a year, published as Prefect artifacts.

A markdown artifact (``annual-report-<year>``) readable in the UI: the year's figures with their
definitions' labels, and each channel's coverage of the year (days read, gaps and their reasons),
taken from the ``summary.json`` the report wrote; plus a link artifact to the HTML file for whoever
can open it. Always PII-free (the ``--include-pii`` variant is an operator command, never an artifact).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_link_artifact, create_markdown_artifact

from application import build_report
from core.config import load_settings
from flows.steps import Intake

GAPS_LISTED = 20  # per channel; the count of days is always whole


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{key} {_cell(item)}" for key, item in value.items())
    if isinstance(value, list):
        return " – ".join(_cell(item) for item in value)
    if isinstance(value, float):
        return f"{value:.2%}" if 0 <= value <= 1 else f"{value:g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def report_markdown(summary: dict[str, Any]) -> str:
    """The report's figures and channel coverage as markdown (from its summary.json)."""
    year, totals = summary["year"], summary["totals"]
    lines = [
        f"# {summary['report']} {year}: {summary['department']}",
        "",
        f"**{summary['count_with_range']}** (time zone {summary['timezone']}, generated {summary['generated_at']}).",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    skipped = {"channels", "by_month", "by_station", "range_components"}
    lines += [f"| {entry['label']} | {_cell(entry['value'])} |" for key, entry in totals.items() if key not in skipped]
    channels = totals.get("channels", {}).get("value", {})
    if channels:
        lines += [
            "",
            "## Channel coverage",
            "",
            "| channel | configuration | status | days read | days not read | last read ok |",
            "|---|---|---|---|---|---|",
        ]
        for name, channel in channels.items():
            lines.append(
                f"| {name} | {channel['configuration']} | {_cell(channel['status'])} | {channel['days_read']} | "
                f"{channel['days_not_read']} | {channel['last_read_ok'] or '—'} |"
            )
        gaps = [(name, gap) for name, channel in channels.items() for gap in channel.get("gaps", [])]
        if gaps:
            lines += ["", "### Gaps", ""]
            for name in channels:
                theirs = [gap for owner, gap in gaps if owner == name]
                lines += [f"- {_cell(gap['text'])}" for gap in theirs[:GAPS_LISTED]]
                if len(theirs) > GAPS_LISTED:
                    lines.append(f"- {name}: … and {len(theirs) - GAPS_LISTED} more gaps (`detainer-intake metrics`)")
    checks = summary.get("checks", {})
    if checks:
        lines += ["", "## Checks", ""] + [f"- {name}: {'ok' if ok else 'FAILED'}" for name, ok in checks.items()]
    lines += ["", f"Reproduce: `detainer-intake report --year {year} --out DIR`"]
    return "\n".join(lines)


@flow(name="annual_report", flow_run_name="report-{year}", log_prints=False, persist_result=False)
def annual_report(year: int, out: str, config_path: str | None = None, reconcile_list: str | None = None) -> str:
    """Write report.html, summary.json and requests.csv for ``year`` into ``out``; returns the HTML path.

    ``config_path`` empty: ``$DETAINER_INTAKE_CONFIG`` of the process that runs it, read at run time.
    """
    settings = load_settings(Path(config_path) if config_path else None)
    intake = Intake.open(settings)
    try:
        paths = build_report(
            intake.ledger, settings, year, Path(out), reconcile_list=Path(reconcile_list) if reconcile_list else None
        )
    finally:
        intake.close()
    summary = json.loads(paths.summary_json.read_text(encoding="utf-8"))
    create_markdown_artifact(
        key=f"annual-report-{year}",
        markdown=report_markdown(summary),
        description=f"Detainer requests {year}: figures and channel coverage",
    )
    create_link_artifact(
        key=f"annual-report-{year}-file",
        link=paths.report_html.resolve().as_uri(),
        link_text=f"Detainer requests {year}: annual report (HTML, on the machine that ran it)",
        description=f"Reproduce: detainer-intake report --year {year} --out DIR",
    )
    get_run_logger().info("annual report %d written to %s", year, paths.directory)
    return str(paths.report_html)
