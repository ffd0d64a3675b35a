"""Bodies of the audit commands: a request's whole story (``audit REQUEST_ID``), every act since a
date (``audit --since DATE``), and the archive check (``archive verify``).

The audit prints no personal data unless ``include_pii`` (``application.audit`` says what is
withheld). ``archive verify`` prints counts and SHA-256s only.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.table import Table

from application.review import BadArgument
from core.config import Settings
from core.errors import ExitCode
from detainer_intake.commands.common import open_configured, plain_console


def _when(value: str | None, zone: ZoneInfo) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _acts_table(title: str, acts: list[dict[str, Any]], zone: ZoneInfo) -> Table:
    from application.audit import change_text

    table = Table(title=title)
    for name in ("when", "kind", "subject", "field", "change", "who", "os user@host", "why"):
        table.add_column(name, overflow="fold")
    for act in acts:
        where = f"{act['os_user'] or '?'}@{act['host'] or '?'}" if act["os_user"] or act["host"] else "(before 0004)"
        table.add_row(
            _when(act["at"], zone),
            act["kind"],
            act["subject"],
            act["field"] or "",
            change_text(act),
            act["who"],
            where,
            act["why"] or "",
        )
    return table


def parse_since(since: str, zone: ZoneInfo) -> datetime:
    """``YYYY-MM-DD`` (midnight in the department's zone) or an ISO date-time (naive: the department's zone)."""
    text = since.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), zone)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadArgument("--since must be a date (YYYY-MM-DD) or an ISO date-time") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def audit_command(
    settings: Settings,
    request_id: str | None,
    since: str | None,
    as_json: bool = False,
    include_pii: bool = False,
) -> int:
    """A request's whole story, or every operator act since a date."""
    from application.audit import activity, request_audit

    if (request_id is None) == (since is None):
        raise BadArgument("give a request id or --since DATE (one of them)")
    zone = ZoneInfo(settings.department.timezone)
    ledger = open_configured(settings, writes=False)
    try:
        if request_id is not None:
            payload = request_audit(ledger, request_id, include_pii)
        else:
            assert since is not None
            payload = activity(ledger, parse_since(since, zone), include_pii)
    finally:
        ledger.close()
    console = plain_console()
    if as_json:
        console.print_json(json.dumps(payload))
        return ExitCode.ok
    if request_id is None:
        acts = payload["decisions"]
        console.print(_acts_table(f"Operator acts since {since} ({len(acts)})", acts, zone))
        return ExitCode.ok
    state = "" if payload["exists"] else " (no longer a request: merged into another or regrouped)"
    console.print(f"Request {payload['request_id']}{state}")
    copies = Table(title="Copies and their arrivals")
    for name in ("copy", "rule", "channel", "station", "received", "file", "sha256"):
        copies.add_column(name, overflow="fold")
    for copy in payload["copies"]:
        rule = f"{copy['rule']} ({copy['score']:.0f})" + (" founding" if copy["founding"] else "")
        for i, arrival in enumerate(copy["arrivals"]):
            copies.add_row(
                copy["copy_key"] if i == 0 else "",
                rule if i == 0 else "",
                arrival["channel"],
                arrival["station"] or "",
                _when(arrival["received_at"], zone),
                arrival["file_name"],
                arrival["sha256"],
            )
    console.print(copies)
    if include_pii:
        for copy in payload["copies"]:
            console.print(f"{copy['copy_key']}: {json.dumps(copy['fields'], default=str)}")
    if payload["cancelled_by"]:
        console.print("cancelled by: " + ", ".join(payload["cancelled_by"]))
    console.print(_acts_table("Decisions", payload["decisions"], zone))
    history = Table(title="Disposition history")
    for name in ("when", "outcome", "reimbursement", "who", "note"):
        history.add_column(name, overflow="fold")
    for d in payload["disposition_history"]:
        history.add_row(_when(d["at"], zone), d["outcome"] or "", d["reimbursement"] or "", d["who"], d["note"] or "")
    if not payload["disposition_history"]:
        history.add_row("", "not recorded", "", "", "")
    console.print(history)
    return ExitCode.ok


def archive_verify_command(settings: Settings, as_json: bool = False, progress: bool = True) -> int:
    """Re-hash every archived file against the ledger: missing, corrupt and unreferenced files.
    Exit 0 when the archive is whole, ``application.archive_verify.EXIT_DAMAGED`` (8) when anything is wrong."""
    from application.archive_verify import EXIT_DAMAGED, verify_archive

    ledger = open_configured(settings, writes=False)
    try:
        references = ledger.archive_references()
    finally:
        ledger.close()
    report = verify_archive(Path(settings.archive.path), references, progress=sys.stderr if progress else None)
    console = plain_console()
    if as_json:
        console.print_json(json.dumps(report.to_json()))
    else:
        console.print(report.summary())
        found = {"missing": report.missing, "corrupt": report.corrupt, "unreferenced": report.unreferenced}
        for kind, names in found.items():
            for name in names:
                console.print(f"{kind}: {name}")
    return ExitCode.ok if report.ok else EXIT_DAMAGED
