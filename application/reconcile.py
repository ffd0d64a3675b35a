"""Reconcile the ledger with a list someone else (ICE) says it sent.

The list is a CSV with at least an A-number and/or an event number column and a date
column; headers are recognised automatically or named with options. Each list row is
matched to a ledger request by event number (exact, normalised as the ledger does), else
by A-number (normalised with ``ledger.dedupe.normalize_file_number``) with a date within
``window_days`` of one of the request's issued dates or arrival dates. Rows never match a
request whose event number differs from theirs (two events are two requests, as in dedupe).

Results identify list rows by their spreadsheet row number (the header is row 1) and
ledger requests by request id; personal values appear only when asked for.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from application.data import RequestRow
from core.errors import ExitCode, IntakeError
from ledger.dedupe import normalize_event_number, normalize_file_number
from ledger.read_model import CopyIdentity
from parsing.fields import parse_date

DEFAULT_WINDOW_DAYS = 3

# Header spellings (lower-case letters and digits only), most specific first.
A_NUMBER_HEADERS = (
    "anumber",
    "alienumber",
    "aliennumber",
    "alienfilenumber",
    "afilenumber",
    "afile",
    "anum",
    "ano",
    "alienregistrationnumber",
    "filenumber",
    "fileno",
    "a",
)
EVENT_HEADERS = ("eventnumber", "eventno", "eventnum", "eventid", "event")
DATE_HEADERS = (
    "issueddate",
    "dateissued",
    "issuedate",
    "issued",
    "detainerdate",
    "datesent",
    "sentdate",
    "sent",
    "lodgeddate",
    "datelodged",
    "lodged",
    "requestdate",
    "daterequested",
    "faxdate",
    "date",
)
_NOT_A_DATE = ("birth", "dob")


class ReconcileError(IntakeError):
    """The list cannot be read or its columns cannot be found."""

    exit_code = ExitCode.bad_args
    remedy = "Name the columns with --col-a-number, --col-event and --col-date (header text or 1-based number)."


@dataclass(frozen=True)
class Columns:
    a_number: str | None
    event_number: str | None
    date: str | None


@dataclass(frozen=True)
class ListEntry:
    row: int  # spreadsheet row number: the header is row 1, the first entry row 2
    a_number: str | None  # normalised
    event_number: str | None  # normalised
    date: date | None
    raw_date: str | None
    raw_a_number: str | None = None  # as written on the list (personal data)
    raw_event_number: str | None = None


@dataclass(frozen=True)
class Matched:
    row: int
    request_id: str
    rule: str  # event_number | a_number_date | a_number_only
    days_apart: int | None
    in_year: bool  # the request was first received in the reconciled year
    duplicate_of_row: int | None = None  # an earlier list row matched the same request


@dataclass(frozen=True)
class ListOnly:
    row: int
    reason: str  # not_in_ledger | a_number_date_outside_window | event_number_differs | cancellation_only
    candidates: tuple[str, ...] = ()  # request ids sharing the A-number


@dataclass
class Reconciliation:
    year: int
    list_name: str
    columns: Columns
    window_days: int
    entries: list[ListEntry]
    matched: list[Matched] = field(default_factory=list)
    list_only: list[ListOnly] = field(default_factory=list)
    unusable: list[int] = field(default_factory=list)  # rows with neither A-number nor event number
    ledger_only: list[RequestRow] = field(default_factory=list)
    year_requests: int = 0
    context: dict[str, int] = field(default_factory=dict)  # quarantined / awaiting_review / decoys of the year

    def counts(self) -> dict[str, int]:
        return {
            "list_rows": len(self.entries) + len(self.unusable),
            "matched_rows": len(self.matched),
            "matched_requests": len({m.request_id for m in self.matched}),
            "duplicate_list_rows": sum(1 for m in self.matched if m.duplicate_of_row is not None),
            "matched_outside_year": len({m.request_id for m in self.matched if not m.in_year}),
            "list_only": len(self.list_only),
            "unusable_rows": len(self.unusable),
            "ledger_requests": self.year_requests,
            "ledger_only": len(self.ledger_only),
        }

    def to_json(self, zone: ZoneInfo, include_pii: bool = False) -> dict[str, Any]:
        entries = {e.row: e for e in self.entries}

        def personal(row: int) -> dict[str, Any]:
            if not include_pii:
                return {}
            e = entries[row]
            return {"a_number": e.raw_a_number, "event_number": e.raw_event_number, "date": e.raw_date}

        ledger_only = []
        for r in self.ledger_only:
            item: dict[str, Any] = {
                "request_id": r.id,
                "first_received": r.local_first(zone).date().isoformat(),
                "first_channel": r.first.channel,
                "first_station": r.first.station if r.first.channel == "station_fax" else None,
            }
            if include_pii:
                item.update({"a_number": r.person.get("file_number"), "event_number": r.person.get("event_number")})
            ledger_only.append(item)
        return {
            "year": self.year,
            "list": {
                "file": self.list_name,
                "columns": {
                    "a_number": self.columns.a_number,
                    "event_number": self.columns.event_number,
                    "date": self.columns.date,
                },
                "window_days": self.window_days,
                "row_numbers": "spreadsheet rows: the header is row 1",
            },
            "counts": self.counts(),
            "context": self.context,
            "matched": [
                {
                    "row": m.row,
                    "request_id": m.request_id,
                    "rule": m.rule,
                    "days_apart": m.days_apart,
                    "first_received_in_year": m.in_year,
                    "duplicate_of_row": m.duplicate_of_row,
                    **personal(m.row),
                }
                for m in self.matched
            ],
            "list_only": [
                {"row": o.row, "reason": o.reason, "candidates": list(o.candidates), **personal(o.row)}
                for o in self.list_only
            ],
            "unusable_rows": self.unusable,
            "ledger_only": ledger_only,
        }


# --------------------------------------------------------------------------- reading the list


def _norm_header(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _pick(headers: list[str], explicit: str | None, candidates: tuple[str, ...], what: str) -> int | None:
    normalised = [_norm_header(h) for h in headers]
    if explicit is not None:
        if explicit.isdigit() and 1 <= int(explicit) <= len(headers):
            return int(explicit) - 1
        wanted = _norm_header(explicit)
        if wanted in normalised:
            return normalised.index(wanted)
        raise ReconcileError(f"the list has no {what} column named {explicit!r}")
    for candidate in candidates:
        for i, name in enumerate(normalised):
            if name == candidate and not (what == "date" and any(x in name for x in _NOT_A_DATE)):
                return i
    if what == "date":  # any other header with "date" in it, birth dates excepted
        for i, name in enumerate(normalised):
            if "date" in name and not any(x in name for x in _NOT_A_DATE):
                return i
    return None


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


def read_list(
    path: Path,
    *,
    col_a_number: str | None = None,
    col_event: str | None = None,
    col_date: str | None = None,
) -> tuple[list[ListEntry], list[int], Columns]:
    """The list's usable entries, the row numbers without any identifier, and the columns used."""
    try:
        text = _decode(path.read_bytes())
    except OSError as exc:
        raise ReconcileError(f"cannot read the list {path.name} ({type(exc).__name__})") from exc
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    while rows and not any(cell.strip() for cell in rows[0]):
        rows.pop(0)
    if not rows:
        raise ReconcileError(f"the list {path.name} is empty")
    headers = [h.strip() for h in rows[0]]
    a_col = _pick(headers, col_a_number, A_NUMBER_HEADERS, "A-number")
    e_col = _pick(headers, col_event, EVENT_HEADERS, "event number")
    d_col = _pick(headers, col_date, DATE_HEADERS, "date")
    if a_col is None and e_col is None:
        raise ReconcileError(f"no A-number or event number column found among the list's headers: {', '.join(headers)}")
    columns = Columns(
        headers[a_col] if a_col is not None else None,
        headers[e_col] if e_col is not None else None,
        headers[d_col] if d_col is not None else None,
    )

    def cell(values: list[str], index: int | None) -> str | None:
        if index is None or index >= len(values):
            return None
        return values[index].strip() or None

    entries: list[ListEntry] = []
    unusable: list[int] = []
    for number, values in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        raw_a_number, raw_event, raw_date = cell(values, a_col), cell(values, e_col), cell(values, d_col)
        a_number, event = normalize_file_number(raw_a_number), normalize_event_number(raw_event)
        if a_number is None and event is None:
            unusable.append(number)
            continue
        entries.append(ListEntry(number, a_number, event, parse_date(raw_date), raw_date, raw_a_number, raw_event))
    return entries, unusable, columns


# --------------------------------------------------------------------------- matching


def _days_apart(day: date, row: RequestRow, zone: ZoneInfo) -> int | None:
    dates = {i.issued_date for i in row.identities if i.issued_date}
    dates |= {a.received_at.astimezone(zone).date() for a in row.arrivals}
    return min((abs((day - d).days) for d in dates), default=None)


def _events(row: RequestRow) -> set[str]:
    return {i.event_number for i in row.identities if i.event_number}


def reconcile(
    entries: list[ListEntry],
    unusable: list[int],
    columns: Columns,
    rows: list[RequestRow],
    *,
    year: int,
    tz: str | ZoneInfo,
    list_name: str,
    window_days: int = DEFAULT_WINDOW_DAYS,
    cancellations: list[CopyIdentity] | None = None,
    context: dict[str, int] | None = None,
) -> Reconciliation:
    """Match list entries to ledger requests (``rows``: every request of the ledger, any year)."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    by_event: dict[str, list[RequestRow]] = defaultdict(list)
    by_file: dict[str, list[RequestRow]] = defaultdict(list)
    for row in rows:
        for event in _events(row):
            by_event[event].append(row)
        for file_number in {i.file_number for i in row.identities if i.file_number}:
            by_file[file_number].append(row)
    order = {row.id: n for n, row in enumerate(rows)}
    in_year = {row.id for row in rows if row.local_first(zone).year == year}
    result = Reconciliation(
        year=year,
        list_name=list_name,
        columns=columns,
        window_days=window_days,
        entries=entries,
        unusable=list(unusable),
        year_requests=len(in_year),
        context=dict(context or {}),
    )
    found: dict[int, tuple[RequestRow, str, int | None]] = {}  # list row -> (request, rule, days apart)
    taken: set[str] = set()

    def take(entry: ListEntry, row: RequestRow, rule: str, days: int | None) -> None:
        found[entry.row] = (row, rule, days)
        taken.add(row.id)

    # Pass 1: event numbers, exact (normalised).
    for entry in entries:
        if entry.event_number and by_event.get(entry.event_number):
            row = min(by_event[entry.event_number], key=lambda r: order[r.id])
            take(entry, row, "event_number", _days_apart(entry.date, row, zone) if entry.date else None)
    # Pass 2: A-number with a date in the window (never across differing event numbers).
    misses: dict[int, ListOnly] = {}
    for entry in entries:
        if entry.row in found:
            continue
        candidates = by_file.get(entry.a_number or "", [])
        if not candidates:
            continue
        compatible = [
            r for r in candidates if not (entry.event_number and _events(r) and entry.event_number not in _events(r))
        ]
        if entry.date is None:
            if len(compatible) == 1:
                take(entry, compatible[0], "a_number_only", None)
                continue
            if compatible:
                misses[entry.row] = ListOnly(
                    entry.row, "a_number_ambiguous_without_date", tuple(sorted(r.id for r in compatible))
                )
                continue
        else:
            scored = [(d, r) for r in compatible if (d := _days_apart(entry.date, r, zone)) is not None]
            close = [(d, r) for d, r in scored if d <= window_days]
            if close:
                d, row = min(close, key=lambda dr: (dr[0], dr[1].id in taken, order[dr[1].id]))
                take(entry, row, "a_number_date", d)
                continue
        reason = "a_number_date_outside_window" if compatible else "event_number_differs"
        misses[entry.row] = ListOnly(entry.row, reason, tuple(sorted(r.id for r in candidates)))
    cancelled_events = {c.event_number for c in cancellations or () if c.event_number}
    cancelled_files = {c.file_number for c in cancellations or () if c.file_number}
    first_row_of: dict[str, int] = {}
    for entry in entries:  # in list order: the first row matching a request owns it, later ones are duplicates
        if entry.row in found:
            row, rule, days = found[entry.row]
            earlier = first_row_of.setdefault(row.id, entry.row)
            duplicate = earlier if earlier != entry.row else None
            result.matched.append(Matched(entry.row, row.id, rule, days, row.id in in_year, duplicate))
        elif entry.row in misses:
            result.list_only.append(misses[entry.row])
        elif (entry.event_number and entry.event_number in cancelled_events) or (
            entry.a_number and entry.a_number in cancelled_files
        ):
            result.list_only.append(ListOnly(entry.row, "cancellation_only"))
        else:
            result.list_only.append(ListOnly(entry.row, "not_in_ledger"))
    matched_ids = {m.request_id for m in result.matched}
    result.ledger_only = [r for r in rows if r.id in in_year and r.id not in matched_ids]
    return result


RULE_LABELS: dict[str, str] = {
    "event_number": "event number",
    "a_number_date": "A-number + date",
    "a_number_only": "A-number only (no date on the list)",
}
LIST_ONLY_REASONS: dict[str, str] = {
    "not_in_ledger": "no request with this event number or A-number was ever recognised",
    "a_number_date_outside_window": "the A-number is known, but no request of it is dated within the window",
    "event_number_differs": "the A-number is known, but only under another event number",
    "a_number_ambiguous_without_date": "no date on the list, and the A-number has several requests",
    "cancellation_only": "only a cancellation notice for it was received",
}
