"""Bodies of the ledger's operator commands; ``detainer_intake.cli`` wires them to typer."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime

from rich.console import Console
from rich.table import Table

from core.channels import Channel
from core.config import Settings
from core.errors import ExitCode
from ingest.configured import configured_states
from ledger.channel_polls import PollRecord
from ledger.db import open_ledger, upgrade_script
from ledger.dedupe import DedupeConfig
from ledger.metrics import metrics_table_rows


def metrics_command(settings: Settings, year: int, as_json: bool) -> int:
    """Print the channel-usage metrics for ``year`` (department time zone) as JSON or a table, with each
    channel's coverage of the year (``channels``: enabled, last_read_ok, days_read, gaps)."""
    ledger = open_ledger(settings.ledger_url, DedupeConfig.from_settings(settings.dedupe), migrate=False)
    try:
        metrics = ledger.metrics(year, settings.department.timezone, configured_states(settings))
    finally:
        ledger.close()
    console = Console()
    if as_json:
        payload = {"year": year, "timezone": settings.department.timezone, **metrics}
        console.print_json(json.dumps(payload, sort_keys=False))
        return ExitCode.ok
    table = Table(title=f"Detainer requests {year} ({settings.department.name}, {settings.department.timezone})")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for label, value in metrics_table_rows(metrics):
        table.add_row(label, value)
    console.print(table)
    months = Table(title=f"By month of first arrival, {year}")
    for column in ("month", "dedicated_fax", "station_fax", "bfs_email", "total"):
        months.add_column(column, justify="right" if column != "month" else "left")
    for month, counts in metrics["by_month"].items():
        months.add_row(month, *(str(counts[c]) for c in ("dedicated_fax", "station_fax", "bfs_email", "total")))
    console.print(months)
    return ExitCode.ok


def run_channels_lines(polls: Sequence[PollRecord], since: datetime) -> list[str]:
    """How a run found each channel, from the polls it recorded (those at or after ``since``, when it
    began): ``dedicated_fax read (2 new)``, ``station_fax disabled (enabled = false)``, ``bfs_email failed:
    login refused``, or ``not polled by this run``. Words of the run's log line ``channels: ...``."""
    latest = {poll.channel: poll for poll in polls if poll.at >= since}
    lines = []
    for channel in Channel:
        poll = latest.get(channel.value)
        if poll is None:
            lines.append(f"{channel.value} not polled by this run")
        elif poll.outcome == "read":
            lines.append(f"{channel.value} read ({poll.items} new)")
        elif poll.outcome == "disabled":
            lines.append(f"{channel.value} disabled ({poll.reason or 'not configured'})")
        else:
            lines.append(f"{channel.value} failed: {poll.reason or 'no reason recorded'}")
    return lines


def db_upgrade_command(settings: Settings, sql: bool = False, start: str | None = None) -> int:
    """Bring the ledger database to the current schema (idempotent), then group the copies again when a
    migration gave them new identity columns (as a run's own upgrade does).

    ``sql``: print the migrations' SQL instead (from revision ``start``, default an empty database), for
    the ledger URL's kind of database, without connecting to it."""
    if sql:
        sys.stdout.write(upgrade_script(settings.ledger_url, start))
        return ExitCode.ok
    open_ledger(settings.ledger_url, DedupeConfig.from_settings(settings.dedupe), migrate=True).close()
    Console().print("ledger database is at the current schema version")
    return ExitCode.ok
