"""Channel-usage metrics, exactly as defined in samplegen/TRUTH.md ("Metric definitions").

Computed from one ``ledger.snapshot.Snapshot`` (the stored receipts, documents, copies and request
links), so the figures depend on what was received and never on the order it was processed in.
``with_coverage`` adds what the channel polls say the figures cover (``ledger.channel_polls``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from ledger.channel_polls import Coverage, coverage_note
from ledger.snapshot import Snapshot
from ledger.uncertainty import effects, range_text, ranges
from ledger.views import CHANNEL_ORDER


class ChannelMetrics(BaseModel):
    unique_requests: int
    first_channel_counts: dict[str, int]
    any_channel_counts: dict[str, int]
    dedicated_line_rate: float
    dedicated_line_any_rate: float
    by_station: dict[str, int]
    by_month: dict[str, dict[str, int]]
    copies_per_channel: dict[str, int]
    duplicates_merged: int
    cancellations: int
    decoys: int
    quarantined: int
    awaiting_review: int
    # What the open review items could change (ledger.uncertainty): [low, high] of the figures above.
    unique_requests_range: list[int]
    dedicated_line_rate_range: list[float]
    possible_requests_awaiting_review: int  # open possible_detainer items: documents that may hold a detainer
    unreadable_inputs: int  # open quarantine items: each could have been a detainer (upper bound only)
    open_items_moving_count: int
    range_components: dict[str, list[int]]  # per item class: [lowest, highest] change of unique_requests


def _zero() -> dict[str, int]:
    return {c: 0 for c in CHANNEL_ORDER}


def compute_metrics(snapshot: Snapshot, year: int, tz: str | ZoneInfo) -> ChannelMetrics:
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)

    def local(moment: datetime) -> datetime:
        return moment.astimezone(zone)

    first_channel, any_channel = _zero(), _zero()
    by_station: dict[str, int] = defaultdict(int)
    by_month = {f"{year:04d}-{m:02d}": {**_zero(), "total": 0} for m in range(1, 13)}
    unique = 0
    first_receipt: dict[str, int] = {}
    for request_id, arrivals in snapshot.request_arrivals().items():
        first = arrivals[0]
        first_receipt[request_id] = first.id
        when = local(first.received_at)
        if when.year != year:
            continue
        unique += 1
        first_channel[first.channel] += 1
        for channel in {a.channel for a in arrivals}:
            any_channel[channel] += 1
        if first.channel == "station_fax" and first.station:
            by_station[first.station] += 1
        month = by_month[f"{when.year:04d}-{when.month:02d}"]
        month[first.channel] += 1
        month["total"] += 1

    doc_requests: dict[int, set[str]] = defaultdict(set)
    doc_copies: dict[int, int] = defaultdict(int)
    doc_cancels: dict[int, int] = defaultdict(int)
    for copy_id, (doc_id, _, cancels) in snapshot.copies.items():
        doc_copies[doc_id] += 1
        if cancels:
            doc_cancels[doc_id] += 1
        if copy_id in snapshot.links:
            doc_requests[doc_id].add(snapshot.links[copy_id])

    copies_per_channel = _zero()
    duplicates = cancellations = decoys = quarantined = 0
    for arrival in snapshot.receipts:
        if local(arrival.received_at).year != year:
            continue
        doc = arrival.document_id
        status = snapshot.doc_status.get(doc)
        if status == "quarantined":
            quarantined += 1
            continue
        if status != "parsed":
            continue  # pending: read later
        if doc_copies[doc] == 0:
            decoys += 1
            continue
        copies_per_channel[arrival.channel] += 1
        cancellations += doc_cancels[doc]  # notices (forms), as TRUTH.md counts them
        if any(first_receipt.get(rid) != arrival.id for rid in doc_requests[doc]):
            duplicates += 1

    awaiting = sum(1 for moment in snapshot.open_reviews if moment is not None and local(moment).year == year)
    found = effects(snapshot, snapshot.open_items, zone)
    spans = ranges(unique, first_channel["dedicated_fax"], year, found)

    def open_of(kind: str) -> int:
        return sum(
            1
            for i in snapshot.open_items
            if i.kind == kind and i.received_at is not None and local(i.received_at).year == year
        )

    def rate(n: int) -> float:
        return round(n / unique, 4) if unique else 0.0

    return ChannelMetrics(
        unique_requests=unique,
        first_channel_counts=first_channel,
        any_channel_counts=any_channel,
        dedicated_line_rate=rate(first_channel["dedicated_fax"]),
        dedicated_line_any_rate=rate(any_channel["dedicated_fax"]),
        by_station=dict(sorted(by_station.items())),
        by_month=by_month,
        copies_per_channel=copies_per_channel,
        duplicates_merged=duplicates,
        cancellations=cancellations,
        decoys=decoys,
        quarantined=quarantined,
        awaiting_review=awaiting,
        possible_requests_awaiting_review=open_of("possible_detainer"),
        unreadable_inputs=open_of("quarantine"),
        **spans,
    )


def with_coverage(metrics: Mapping[str, Any], channels: Mapping[str, Coverage]) -> dict[str, Any]:
    """The figures with the channels' coverage of the year: ``coverage_gaps`` and ``coverage`` (a sentence)
    beside the dedicated-line rate, ``channels`` (per channel: enabled, last_read_ok, days_read, gaps, ...)."""
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        out[key] = value
        if key == "dedicated_line_any_rate":
            out["coverage_gaps"] = any(c.gaps for c in channels.values())
            out["coverage"] = coverage_note(channels)
    out["channels"] = {name: c.as_json() for name, c in channels.items()}
    return out


def metrics_table_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows for the operator's table view."""
    rows = [("unique requests", str(metrics["unique_requests"]))]
    if "unique_requests_range" in metrics:
        low, high = metrics["unique_requests_range"]
        rate_low, rate_high = metrics["dedicated_line_rate_range"]
        rows += [
            (
                "unique requests, range",
                range_text(metrics["unique_requests"], [low, high], metrics["open_items_moving_count"]),
            ),
            ("dedicated line rate, range", f"{rate_low:.4f}–{rate_high:.4f}"),
            ("possible requests awaiting review", str(metrics["possible_requests_awaiting_review"])),
            ("unreadable inputs awaiting review", str(metrics["unreadable_inputs"])),
        ]
    for channel in CHANNEL_ORDER:
        rows.append(
            (
                f"first arrived: {channel}",
                f"{metrics['first_channel_counts'][channel]} (any copy: {metrics['any_channel_counts'][channel]})",
            )
        )
    rows += [
        ("dedicated line rate", f"{metrics['dedicated_line_rate']:.4f}"),
        ("dedicated line rate (any copy)", f"{metrics['dedicated_line_any_rate']:.4f}"),
    ]
    if "coverage" in metrics:
        rows.append(("coverage", metrics["coverage"]))
    for channel, state in metrics.get("channels", {}).items():
        read = f"{state['days_read']} of {state['days_in_period']} day(s) read" if state["period"] else ""
        rows.append((f"channel {channel}", "; ".join(p for p in (state["status"], read) if p)))
        rows += [(f"  {channel} gap", gap["text"]) for gap in state["gaps"]]
    for station, n in metrics["by_station"].items():
        rows.append((f"station {station}", str(n)))
    for channel in CHANNEL_ORDER:
        rows.append((f"copies received: {channel}", str(metrics["copies_per_channel"][channel])))
    for key in ("duplicates_merged", "cancellations", "decoys", "quarantined", "awaiting_review"):
        rows.append((key.replace("_", " "), str(metrics[key])))
    return rows
