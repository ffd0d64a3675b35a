"""The ``annual_report`` flow: the auditors' report for a year, published as a Prefect link artifact.

Always PII-free (the ``--include-pii`` variant is an operator command, never an artifact).
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_link_artifact

from application import build_report
from core.config import load_settings
from flows.steps import Intake


@flow(name="annual_report", flow_run_name="report-{year}", log_prints=False, persist_result=False)
def annual_report(year: int, out: str, config_path: str | None = None, reconcile_list: str | None = None) -> str:
    """Write report.html, summary.json and requests.csv for ``year`` into ``out``; returns the HTML path."""
    settings = load_settings(Path(config_path) if config_path else None)
    intake = Intake.open(settings)
    try:
        paths = build_report(
            intake.ledger, settings, year, Path(out), reconcile_list=Path(reconcile_list) if reconcile_list else None
        )
    finally:
        intake.close()
    create_link_artifact(
        key=f"annual-report-{year}",
        link=paths.report_html.resolve().as_uri(),
        link_text=f"Detainer requests {year}: annual report",
        description=f"Reproduce: detainer-intake report --year {year} --out DIR",
    )
    get_run_logger().info("annual report %d written to %s", year, paths.directory)
    return str(paths.report_html)
