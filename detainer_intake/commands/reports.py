"""Bodies of the report, reconciliation and disposition commands.

``detainer_intake.cli`` wires them to typer; each takes the loaded ``Settings`` and plain
values and returns an exit code. Typed errors (``IntakeError``) propagate to the CLI's
handler. ``report`` and ``reconcile`` print no personal data unless ``include_pii``.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.table import Table

from application.definitions import DISPOSITION_KEYS, FIGURE_BY_KEY, OUTCOME_LABELS
from application.review import BadArgument
from core.config import Settings
from core.errors import ExitCode
from detainer_intake.commands.common import checked_who, open_configured, plain_console
from ledger.uncertainty import range_text

STATUSES: dict[str, str] = {o.replace("_", "-"): o for o in OUTCOME_LABELS}  # CLI spelling -> stored outcome


# --------------------------------------------------------------------------- report


def report_command(
    settings: Settings,
    year: int,
    out: Path,
    include_pii: bool = False,
    reconcile_list: Path | None = None,
    col_a_number: str | None = None,
    col_event: str | None = None,
    col_date: str | None = None,
    window_days: int | None = None,
) -> int:
    """Write requests.csv, summary.json and report.html for ``year`` into ``out``."""
    from application.report import collect, summary, write_report

    options = {"col_a_number": col_a_number, "col_event": col_event, "col_date": col_date, "window_days": window_days}
    ledger = open_configured(settings, writes=False)
    try:
        data = collect(ledger, settings, year, include_pii, reconcile_list, options)
    finally:
        ledger.close()
    paths = write_report(data, out)
    m = data.metrics
    console = plain_console()
    rate_low, rate_high = m["dedicated_line_rate_range"]
    console.print(
        f"{year}: {range_text(m['unique_requests'], m['unique_requests_range'], m['open_items_moving_count'])}, "
        f"dedicated-line rate {m['dedicated_line_rate']:.4f} ({rate_low:.4f}–{rate_high:.4f}; "
        f"any arrival {m['dedicated_line_any_rate']:.4f}), "
        f"{m['possible_requests_awaiting_review']} possible requests awaiting review, "
        f"{data.dispositions['not_recorded']} without a recorded disposition"
    )
    for path in (paths.report_html, paths.summary_json, paths.requests_csv):
        console.print(f"  wrote {path}")
    if include_pii:
        console.print("these files contain personal data", style="yellow")
    failed = [name for name, ok in summary(data)["checks"].items() if not ok]
    if failed:
        console.print(f"consistency checks failed: {', '.join(failed)}", style="red")
        return ExitCode.other
    return ExitCode.ok


def report_verify_command(settings: Settings, directory: Path, as_json: bool = False) -> int:
    """Check a written report: its files against MANIFEST.sha256, its figures recomputed from the ledger.
    Exit 0 when everything still matches, ``application.report_verify.EXIT_MOVED`` (9) naming each
    figure that moved (old -> new) and each file that changed or is missing."""
    from application.report_verify import verify_report

    ledger = open_configured(settings, writes=False)
    try:
        result = verify_report(ledger, settings, directory)
    finally:
        ledger.close()
    console = plain_console()
    if as_json:
        console.print_json(json.dumps(result.to_json(), default=str))
    else:
        for line in result.lines():
            console.print(line)
    return result.exit_code


# --------------------------------------------------------------------------- reconcile


def reconcile_command(
    settings: Settings,
    year: int,
    list_path: Path,
    as_json: bool = False,
    include_pii: bool = False,
    col_a_number: str | None = None,
    col_event: str | None = None,
    col_date: str | None = None,
    window_days: int | None = None,
) -> int:
    """Compare the ledger's requests of ``year`` with an external list (CSV)."""
    from application.reconcile import LIST_ONLY_REASONS
    from application.report import reconcile_with_list

    ledger = open_configured(settings, writes=False)
    try:
        result = reconcile_with_list(
            ledger,
            settings,
            year,
            list_path,
            col_a_number=col_a_number,
            col_event=col_event,
            col_date=col_date,
            window_days=window_days,
        )
    finally:
        ledger.close()
    zone = ZoneInfo(settings.department.timezone)
    payload = result.to_json(zone, include_pii)
    console = plain_console()
    if as_json:
        console.print_json(json.dumps(payload))
        return ExitCode.ok
    counts = payload["counts"]
    cols = payload["list"]["columns"]
    console.print(
        f"list {result.list_name}: columns A-number={cols['a_number']!s}, event={cols['event_number']!s}, "
        f"date={cols['date']!s}; date window {result.window_days} days; rows are spreadsheet rows (header = 1)"
    )
    table = Table(title=f"Reconciliation {year}")
    table.add_column("")
    table.add_column("count", justify="right")
    for label, key in (
        ("entries on the list", "list_rows"),
        ("matched list entries", "matched_rows"),
        ("  ledger requests matched", "matched_requests"),
        ("  duplicate entries on the list", "duplicate_list_rows"),
        ("  requests first received in another year", "matched_outside_year"),
        ("on the list, not found in the ledger", "list_only"),
        ("list entries without A-number or event number", "unusable_rows"),
        (f"ledger requests of {year}", "ledger_requests"),
        ("in the ledger, not on the list", "ledger_only"),
    ):
        table.add_row(label, str(counts[key]))
    console.print(table)
    context = payload["context"]
    console.print(
        f"context {year}: {context.get('quarantined', 0)} documents quarantined (unreadable), "
        f"{context.get('awaiting_review', 0)} items awaiting review, {context.get('decoys', 0)} documents without "
        "a detainer form"
    )
    missing = Table(title="On the list, not found in the ledger")
    missing.add_column("row", justify="right")
    if include_pii:
        for name in ("A-number", "event number", "date"):
            missing.add_column(name)
    missing.add_column("finding")
    missing.add_column("requests with that A-number")
    for item in payload["list_only"]:
        pii = [str(item.get(k) or "") for k in ("a_number", "event_number", "date")] if include_pii else []
        missing.add_row(
            str(item["row"]), *pii, LIST_ONLY_REASONS.get(item["reason"], item["reason"]), ", ".join(item["candidates"])
        )
    console.print(missing)
    extra = Table(title="In the ledger, not on the list")
    for name in ("request", "first received", "first channel", "station"):
        extra.add_column(name)
    for item in payload["ledger_only"]:
        extra.add_row(item["request_id"], item["first_received"], item["first_channel"], item["first_station"] or "")
    console.print(extra)
    matched = Table(title="Matched")
    for name in ("row", "request", "matched by", "days apart", "note"):
        matched.add_column(name, justify="right" if name in ("row", "days apart") else "left")
    for item in payload["matched"]:
        note = []
        if item["duplicate_of_row"] is not None:
            note.append(f"same request as row {item['duplicate_of_row']}")
        if not item["first_received_in_year"]:
            note.append("first received in another year")
        days = "" if item["days_apart"] is None else str(item["days_apart"])
        matched.add_row(str(item["row"]), item["request_id"], item["rule"], days, "; ".join(note))
    console.print(matched)
    return ExitCode.ok


# --------------------------------------------------------------------------- dispositions


def disposition_command(
    settings: Settings,
    request_id: str,
    status: str,
    who: str,
    reimbursement: str | None = None,
    note: str | None = None,
) -> int:
    """Record what the department did with a request (not-acted-upon | detained | transferred); audited."""
    outcome = STATUSES.get(status.strip().lower().replace("_", "-"))
    if outcome is None:
        raise BadArgument(f"--status must be one of {', '.join(STATUSES)}")
    who = checked_who(who)
    amount = None
    if reimbursement is not None and reimbursement.strip():
        try:
            amount = Decimal(reimbursement.strip().replace("$", "").replace(",", ""))
        except InvalidOperation:
            raise BadArgument("--reimbursement must be an amount such as 1250.00") from None
        if amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise BadArgument("--reimbursement must be a non-negative amount in dollars and cents")
    request_id = request_id.strip().upper()
    ledger = open_configured(settings, writes=True)
    try:
        if not ledger.read_model.request_exists(request_id):
            raise BadArgument(f"no request {request_id} in the ledger")
        ledger.set_disposition(request_id, outcome, who, reimbursement=amount, note=note)
        recorded = ledger.disposition(request_id)
    finally:
        ledger.close()
    assert recorded is not None
    money = f", reimbursement ${recorded['reimbursement']:,.2f}" if recorded["reimbursement"] is not None else ""
    at: datetime = recorded["at"].astimezone(ZoneInfo(settings.department.timezone))
    plain_console().print(
        f"{recorded['request_id']}: {OUTCOME_LABELS[outcome]}{money}; recorded by {who} at {at:%Y-%m-%d %H:%M %Z}"
    )
    return ExitCode.ok


def dispositions_command(settings: Settings, year: int, as_json: bool = False) -> int:
    """The disposition figures of ``year``'s requests (what summary.json's disposition figures equal)."""
    from application.data import disposition_totals, request_rows

    ledger = open_configured(settings, writes=False)
    try:
        rows = request_rows(ledger, settings.department.timezone, year)
    finally:
        ledger.close()
    totals = disposition_totals(rows)
    console = plain_console()
    if as_json:
        payload = {"year": year, "timezone": settings.department.timezone, "unique_requests": len(rows), **totals}
        console.print_json(json.dumps(payload))
        return ExitCode.ok
    table = Table(title=f"Dispositions of the requests received in {year} ({len(rows)} requests)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in DISPOSITION_KEYS:
        table.add_row(FIGURE_BY_KEY[key].label, str(totals[key]))
    console.print(table)
    return ExitCode.ok
