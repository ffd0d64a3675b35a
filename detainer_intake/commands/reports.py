"""Bodies of the report, reconciliation, review-queue and disposition commands.

``detainer_intake.cli`` wires them to typer; each takes the loaded ``Settings`` and plain
values and returns an exit code. Typed errors (``IntakeError``) propagate to the CLI's
handler. ``report`` and ``reconcile`` print no personal data unless ``include_pii``;
``review show`` / ``review correct`` print field values on purpose (operator tools, stdout
only, never logged).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from application.definitions import DISPOSITION_KEYS, FIGURE_BY_KEY, OUTCOME_LABELS
from application.review import BadArgument
from core.config import Settings
from core.errors import ExitCode
from core.keys import CopyKey
from ledger.db import open_ledger
from ledger.dedupe import DedupeConfig
from ledger.store import Ledger
from ledger.uncertainty import range_text

STATUSES: dict[str, str] = {o.replace("_", "-"): o for o in OUTCOME_LABELS}  # CLI spelling -> stored outcome


def _open(settings: Settings) -> Ledger:
    return open_ledger(settings.ledger_url, DedupeConfig.from_settings(settings.dedupe))


def _who(who: str) -> str:
    who = (who or "").strip()
    if not who:
        raise BadArgument("--who must name the person making the change")
    if len(who) > 128:
        raise BadArgument("--who is limited to 128 characters")
    return who


def _console() -> Console:
    # No markup: values read from documents and lists (names, file names) may hold "[...]".
    console = Console(highlight=False, soft_wrap=True, markup=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = max(console.width, 160)  # piped to a file or pager: do not fold values at 80 columns
    return console


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
    ledger = _open(settings)
    try:
        data = collect(ledger, settings, year, include_pii, reconcile_list, options)
    finally:
        ledger.close()
    paths = write_report(data, out)
    m = data.metrics
    console = _console()
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

    ledger = _open(settings)
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
    console = _console()
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


# --------------------------------------------------------------------------- review queue


def review_list_command(settings: Settings, as_json: bool = False, all_items: bool = False) -> int:
    """Open review items (``all_items``: resolved ones too), with their source and reason."""
    from application.review import review_entries

    ledger = _open(settings)
    try:
        entries = review_entries(ledger, status=None if all_items else "open", tz=settings.department.timezone)
    finally:
        ledger.close()
    console = _console()
    if as_json:
        console.print_json(json.dumps({"count": len(entries), "items": [e.to_json() for e in entries]}))
        return ExitCode.ok
    zone = ZoneInfo(settings.department.timezone)
    table = Table(title=f"Review queue: {len(entries)} {'items' if all_items else 'open items'}")
    for name in ("id", "kind", "impact", "reason", "source", "received", "request", "suggested"):
        table.add_column(name, justify="right" if name == "id" else "left", overflow="fold")
    for e in entries:
        suggested = e.default_decision or ""
        if e.score is not None:
            suggested += f" ({e.score:.0f})"
        if e.status != "open":
            suggested = f"{e.status}: {e.resolution or ''} by {e.resolved_by or '?'}"
        table.add_row(
            str(e.id),
            e.kind,
            e.impact_text,
            e.reason.replace(",", ", "),
            e.source or "",
            e.received_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if e.received_at else "",
            ", ".join(r or "–" for r in e.request_ids),
            suggested,
        )
    console.print(table)
    if entries:
        console.print("details: detainer-intake review show ITEM_ID")
    if any(e.kind == "possible_detainer" and e.status == "open" for e in entries):
        console.print(
            "possible detainers: detainer-intake review detainer ITEM_ID (it is one) | review dismiss ITEM_ID (not one)"
        )
    return ExitCode.ok


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "–"
    return str(value)


def review_show_command(settings: Settings, item_id: int, out: Path | None = None) -> int:
    """An item's copies field by field (value, confidence, page, corrections) and a PNG crop per value.

    Prints personal data on purpose. Crops go to ``out`` (default: ``<archive>/../review/item-<id>``), 0700/0600.
    """
    from application.review import copy_details, review_entry, write_crops
    from ingest.archive import Archive

    console = _console()
    ledger = _open(settings)
    try:
        entry = review_entry(ledger, item_id)
        details = [copy_details(ledger, key) for key in entry.copy_keys]
    finally:
        ledger.close()
    console.print(f"review item {entry.id}: {entry.kind}, {entry.status}; reason {entry.reason}", style="bold")
    console.print(f"source: {entry.source or '–'}")
    if entry.received_at:
        zone = ZoneInfo(settings.department.timezone)
        console.print(f"first received: {entry.received_at.astimezone(zone):%Y-%m-%d %H:%M %Z}")
    if entry.message:
        console.print(f"message: {entry.message}")
    if entry.default_decision:
        score = f", score {entry.score:.1f}" if entry.score is not None else ""
        console.print(f"suggested: {entry.default_decision}{score}")
    if entry.impact_text:
        console.print(f"impact on the count: {entry.impact_text}")
    if entry.kind == "possible_detainer" and entry.status == "open":
        console.print(f"rule: detainer-intake review detainer {entry.id} | review dismiss {entry.id} (not a detainer)")
    archive = Archive(settings.archive.path)
    if entry.document_sha256 and not details:
        path = archive.path_for(entry.document_sha256)
        console.print(f"archived input: {path}" + ("" if path.is_file() else " (missing from the archive)"))
    if not details:
        return ExitCode.ok
    target = out or settings.archive.path.parent / "review" / f"item-{entry.id}"
    differs: set[str] = set()
    if len(details) == 2:  # a match: mark the fields on which the two copies disagree
        values = [{v.name: v.value for v in d.fields} for d in details]
        differs = {name for name in values[0] if values[0][name] != values[1].get(name)}
    for n, copy in enumerate(details):
        sha = CopyKey.parse(copy.key).document_sha256
        console.print(
            f"\ncopy {copy.key}  request {copy.request_id or '–'} ({copy.rule or 'not linked'})", style="bold"
        )
        crops: list[Path] = []
        try:
            content = archive.load(sha)
        except FileNotFoundError:
            console.print("the document is not in the archive: no crops", style="yellow")
        else:
            crops = write_crops(copy, content, target, settings.parsing, prefix=f"copy{n + 1}-")
        table = Table()
        for name in ("field", "value", "OCR read", "confidence", "page", "flag", "crop"):
            table.add_column(name, overflow="fold", justify="right" if name in ("confidence", "page") else "left")
        for view in copy.fields:
            ev = view.evidence
            flags = [r.partition(":")[2] or r for r in view.flagged] + (["differs"] if view.name in differs else [])
            if view.value in (None, [], False) and ev is None and not view.corrected and not flags:
                continue
            corrected = ""
            if view.corrected:
                last = view.corrected[-1]
                corrected = f" (corrected by {last['who']} {last['at']:%Y-%m-%d})"
            table.add_row(
                view.name,
                _fmt(view.value) + corrected,
                _fmt(view.ocr_value) if view.corrected else "",
                f"{ev.confidence:.2f}" if ev else "",
                str(ev.page) if ev else "",
                ", ".join(flags),
                view.crop.name if view.crop else "",
            )
        console.print(table)
        if crops:
            console.print(f"{len(crops)} crops in {target}")
    return ExitCode.ok


def review_correct_command(settings: Settings, target: str, field: str, value: str, who: str) -> int:
    """Correct one field of one copy (copy key, request id or review item number); audited."""
    from application.review import parse_value, resolve_copy

    who = _who(who)
    ledger = _open(settings)
    try:
        key = resolve_copy(ledger, target)
        before = _stored_copy(ledger, key)
        new_value = parse_value(field, value)
        ledger.correct(key, field, new_value, who)
        after = _stored_copy(ledger, key)
    finally:
        ledger.close()
    console = _console()
    console.print(
        f"copy {key}: {field} {_fmt(before['fields'].get(field))} -> {_fmt(after['fields'].get(field))} "
        f"(by {who}); request {after['request_id'] or '–'}"
    )
    if before["request_id"] != after["request_id"]:
        console.print(f"the copy moved from request {before['request_id'] or '–'} to {after['request_id'] or '–'}")
    return ExitCode.ok


def _stored_copy(ledger: Ledger, key: str) -> dict[str, Any]:
    """The copy as the ledger holds it (``Ledger.copies``: personal data)."""
    copy_key = CopyKey.parse(key)
    return next(c for c in ledger.copies(copy_key.document_sha256) if c["index"] == copy_key.index)


def review_accept_command(settings: Settings, item_id: int, who: str, resolution: str = "accept") -> int:
    """Resolve a review item (matches: the suggested decision becomes the operator's); audited."""
    from application.review import review_entry

    who = _who(who)
    ledger = _open(settings)
    try:
        review_entry(ledger, item_id)  # BadArgument when there is no such item
        ledger.resolve_review(item_id, resolution, who)
    finally:
        ledger.close()
    _console().print(f"review item {item_id} resolved ({resolution}) by {who}")
    return ExitCode.ok


def _decide(settings: Settings, a: str, b: str, who: str, same: bool) -> int:
    from application.review import resolve_copy

    who = _who(who)
    ledger = _open(settings)
    try:
        key_a, key_b = resolve_copy(ledger, a), resolve_copy(ledger, b)
        ledger.decide(key_a, key_b, same, who)
        req_a = _stored_copy(ledger, key_a)["request_id"]
        req_b = _stored_copy(ledger, key_b)["request_id"]
    finally:
        ledger.close()
    verb = "merged" if same else "kept apart"
    _console().print(f"{verb} by {who}: {key_a} -> {req_a or '–'}, {key_b} -> {req_b or '–'}")
    return ExitCode.ok


def review_merge_command(settings: Settings, a: str, b: str, who: str) -> int:
    """Rule that two copies (copy keys or request ids) are the same request; audited, survives reprocessing."""
    return _decide(settings, a, b, who, True)


def review_split_command(settings: Settings, a: str, b: str, who: str) -> int:
    """Rule that two copies are different requests; audited, survives reprocessing."""
    return _decide(settings, a, b, who, False)


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
    who = _who(who)
    amount = None
    if reimbursement is not None and reimbursement.strip():
        try:
            amount = Decimal(reimbursement.strip().replace("$", "").replace(",", ""))
        except InvalidOperation:
            raise BadArgument("--reimbursement must be an amount such as 1250.00") from None
        if amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise BadArgument("--reimbursement must be a non-negative amount in dollars and cents")
    request_id = request_id.strip().upper()
    ledger = _open(settings)
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
    _console().print(
        f"{recorded['request_id']}: {OUTCOME_LABELS[outcome]}{money}; recorded by {who} at {at:%Y-%m-%d %H:%M %Z}"
    )
    return ExitCode.ok


def dispositions_command(settings: Settings, year: int, as_json: bool = False) -> int:
    """The disposition figures of ``year``'s requests (what summary.json's disposition figures equal)."""
    from application.data import disposition_totals, request_rows

    ledger = _open(settings)
    try:
        rows = request_rows(ledger, settings.department.timezone, year)
    finally:
        ledger.close()
    totals = disposition_totals(rows)
    console = _console()
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
