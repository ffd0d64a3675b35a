"""Bodies of the review-queue commands (list, show, correct, accept, merge, split).

``review show`` / ``review correct`` print field values on purpose (operator tools, stdout
only, never logged).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.table import Table

from core.config import Settings
from core.errors import ExitCode
from core.keys import CopyKey
from detainer_intake.commands.common import checked_who, open_configured, plain_console
from ledger.store import Ledger

# --------------------------------------------------------------------------- review queue


def review_list_command(settings: Settings, as_json: bool = False, all_items: bool = False) -> int:
    """Open review items (``all_items``: resolved ones too), with their source and reason."""
    from application.review import review_entries

    ledger = open_configured(settings, writes=False)
    try:
        entries = review_entries(ledger, status=None if all_items else "open", tz=settings.department.timezone)
    finally:
        ledger.close()
    console = plain_console()
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

    console = plain_console()
    ledger = open_configured(settings, writes=False)
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


def review_correct_command(
    settings: Settings, target: str, field: str, value: str, who: str, why: str | None = None
) -> int:
    """Correct one field of one copy (copy key, request id or review item number); audited."""
    from application.review import parse_value, resolve_copy

    who = checked_who(who)
    ledger = open_configured(settings, writes=True)
    try:
        key = resolve_copy(ledger, target)
        before = _stored_copy(ledger, key)
        new_value = parse_value(field, value)
        ledger.correct(key, field, new_value, who, why=_why(why))
        after = _stored_copy(ledger, key)
    finally:
        ledger.close()
    console = plain_console()
    console.print(
        f"copy {key}: {field} {_fmt(before['fields'].get(field))} -> {_fmt(after['fields'].get(field))} "
        f"(by {who}); request {after['request_id'] or '–'}"
    )
    if before["request_id"] != after["request_id"]:
        console.print(f"the copy moved from request {before['request_id'] or '–'} to {after['request_id'] or '–'}")
    return ExitCode.ok


def _why(why: str | None) -> str | None:
    """The reason given with ``--why`` (free text, kept with the decision), None when none was given."""
    return why.strip() or None if why is not None else None


def _stored_copy(ledger: Ledger, key: str) -> dict[str, Any]:
    """The copy as the ledger holds it (``Ledger.copies``: personal data)."""
    copy_key = CopyKey.parse(key)
    return next(c for c in ledger.copies(copy_key.document_sha256) if c["index"] == copy_key.index)


def review_accept_command(
    settings: Settings, item_id: int, who: str, resolution: str = "accept", why: str | None = None
) -> int:
    """Resolve a review item (matches: the suggested decision becomes the operator's); audited."""
    from application.review import review_entry

    who = checked_who(who)
    ledger = open_configured(settings, writes=True)
    try:
        review_entry(ledger, item_id)  # BadArgument when there is no such item
        ledger.resolve_review(item_id, resolution, who, why=_why(why))
    finally:
        ledger.close()
    plain_console().print(f"review item {item_id} resolved ({resolution}) by {who}")
    return ExitCode.ok


def _decide(settings: Settings, a: str, b: str, who: str, same: bool, why: str | None = None) -> int:
    from application.review import resolve_copy

    who = checked_who(who)
    ledger = open_configured(settings, writes=True)
    try:
        key_a, key_b = resolve_copy(ledger, a), resolve_copy(ledger, b)
        ledger.decide(key_a, key_b, same, who, why=_why(why))
        req_a = _stored_copy(ledger, key_a)["request_id"]
        req_b = _stored_copy(ledger, key_b)["request_id"]
    finally:
        ledger.close()
    verb = "merged" if same else "kept apart"
    plain_console().print(f"{verb} by {who}: {key_a} -> {req_a or '–'}, {key_b} -> {req_b or '–'}")
    return ExitCode.ok


def review_merge_command(settings: Settings, a: str, b: str, who: str, why: str | None = None) -> int:
    """Rule that two copies (copy keys or request ids) are the same request; audited, survives reprocessing."""
    return _decide(settings, a, b, who, True, why)


def review_split_command(settings: Settings, a: str, b: str, who: str, why: str | None = None) -> int:
    """Rule that two copies are different requests; audited, survives reprocessing."""
    return _decide(settings, a, b, who, False, why)


