"""Channel-usage metrics, exactly as defined in samplegen/TRUTH.md ("Metric definitions").

Computed from the stored receipts, documents, copies and request links only, so the
figures depend on what was received and never on the order it was processed in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import dedupe, schema
from ledger.store import CHANNEL_ORDER, RequestView, arrival_key
from ledger.uncertainty import OpenItem, effects, range_text, ranges


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


@dataclass(frozen=True)
class _Arrival:
    id: int
    source_key: str
    channel: str
    station: str | None
    received_at: datetime
    document_id: int

    @property
    def order(self) -> tuple[datetime, int, str]:
        return arrival_key(self.received_at, self.channel, self.source_key)


@dataclass
class Snapshot:
    """Everything the metrics need, read in one session (no personal data in it)."""

    receipts: list[_Arrival]
    doc_status: dict[int, str]
    doc_sha: dict[int, str]
    copies: dict[int, tuple[int, int, bool]]  # copy id -> (document id, index, cancels_previous)
    links: dict[int, str]  # copy id -> request id
    rules: dict[int, str]  # copy id -> the dedupe rule that linked it
    cancellations: dict[int, str | None]  # copy id -> request id cancelled (None: not found)
    open_reviews: list[datetime | None]
    open_items: list[OpenItem] = field(default_factory=list)
    by_doc: dict[int, list[_Arrival]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_doc: dict[int, list[_Arrival]] = defaultdict(list)
        for arrival in sorted(self.receipts, key=lambda a: a.order):
            by_doc[arrival.document_id].append(arrival)
        self.by_doc = dict(by_doc)

    def request_arrivals(self) -> dict[str, list[_Arrival]]:
        """Request id -> every arrival carrying one of its copies, in arrival order."""
        docs: dict[str, set[int]] = defaultdict(set)
        for copy_id, request_id in self.links.items():
            docs[request_id].add(self.copies[copy_id][0])
        out: dict[str, list[_Arrival]] = {}
        for request_id, doc_ids in docs.items():
            arrivals = [a for d in doc_ids for a in self.by_doc.get(d, ())]
            if arrivals:
                out[request_id] = sorted(arrivals, key=lambda a: a.order)
        return out

    def request_views(self) -> list[RequestView]:
        copy_keys: dict[str, list[str]] = defaultdict(list)
        for copy_id, request_id in sorted(self.links.items()):
            doc_id, index, _ = self.copies[copy_id]
            copy_keys[request_id].append(dedupe.copy_key(self.doc_sha[doc_id], index))
        cancelled: dict[str, list[str]] = defaultdict(list)
        for copy_id, cancelled_id in self.cancellations.items():
            if cancelled_id:
                doc_id, index, _ = self.copies[copy_id]
                cancelled[cancelled_id].append(dedupe.copy_key(self.doc_sha[doc_id], index))
        doc_rule: dict[tuple[str, int], str] = {}
        for copy_id, request_id in sorted(self.links.items(), key=lambda kv: self.copies[kv[0]][1]):
            doc_rule.setdefault((request_id, self.copies[copy_id][0]), self.rules[copy_id])
        views = []
        for request_id, arrivals in self.request_arrivals().items():
            first = arrivals[0]
            rules, seen_docs = [], set()
            for arrival in arrivals:
                if arrival is first:
                    rules.append(dedupe.RULE_FIRST)
                elif arrival.document_id in seen_docs:
                    rules.append(dedupe.RULE_SAME_CONTENT)
                else:
                    rules.append(doc_rule[(request_id, arrival.document_id)])
                seen_docs.add(arrival.document_id)
            views.append(
                RequestView(
                    id=request_id,
                    first_received_at=first.received_at,
                    first_channel=first.channel,
                    first_station=first.station if first.channel == "station_fax" else None,
                    channels=tuple(c for c in CHANNEL_ORDER if any(a.channel == c for a in arrivals)),
                    receipt_keys=tuple(a.source_key for a in arrivals),
                    receipt_rules=tuple(rules),
                    copy_keys=tuple(sorted(copy_keys[request_id])),
                    cancelled_by=tuple(sorted(cancelled[request_id])),
                )
            )
        return sorted(views, key=lambda v: (v.first_received_at, v.receipt_keys[0], v.id))


def load_snapshot(session: Session) -> Snapshot:
    receipts = [
        _Arrival(*row)
        for row in session.execute(
            select(
                schema.Receipt.id,
                schema.Receipt.source_key,
                schema.Receipt.channel,
                schema.Receipt.station,
                schema.Receipt.received_at,
                schema.Receipt.document_id,
            )
        )
    ]
    docs = session.execute(select(schema.Document.id, schema.Document.parse_status, schema.Document.sha256)).all()
    copies = {
        cid: (doc_id, index, bool(cancels))
        for cid, doc_id, index, cancels in session.execute(
            select(
                schema.DetainerCopy.id,
                schema.DetainerCopy.document_id,
                schema.DetainerCopy.index,
                schema.DetainerCopy.cancels_previous,
            )
        )
    }
    links, rules = {}, {}
    for copy_id, request_id, rule in session.execute(
        select(schema.RequestLink.copy_id, schema.RequestLink.request_id, schema.RequestLink.rule)
    ):
        links[copy_id], rules[copy_id] = request_id, rule
    cancellations = dict(
        session.execute(select(schema.Cancellation.copy_id, schema.Cancellation.request_id)).tuples().all()
    )
    open_items = [
        OpenItem(i.id, i.key, i.kind, i.reason, i.copy_key, i.other_copy_key, i.document_sha256, i.received_at,
                 i.created_at)
        for i in session.scalars(select(schema.ReviewItem).where(schema.ReviewItem.status == "open"))
    ]
    return Snapshot(
        receipts=receipts,
        doc_status={d: s for d, s, _ in docs},
        doc_sha={d: sha for d, _, sha in docs},
        copies=copies,
        links=links,
        rules=rules,
        cancellations=cancellations,
        open_reviews=[i.received_at for i in open_items],
        open_items=open_items,
    )


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
            1 for i in snapshot.open_items
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


def metrics_table_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows for the operator's table view."""
    rows = [("unique requests", str(metrics["unique_requests"]))]
    if "unique_requests_range" in metrics:
        low, high = metrics["unique_requests_range"]
        rate_low, rate_high = metrics["dedicated_line_rate_range"]
        rows += [
            ("unique requests, range", range_text(metrics["unique_requests"], [low, high],
                                                  metrics["open_items_moving_count"])),
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
    for station, n in metrics["by_station"].items():
        rows.append((f"station {station}", str(n)))
    for channel in CHANNEL_ORDER:
        rows.append((f"copies received: {channel}", str(metrics["copies_per_channel"][channel])))
    for key in ("duplicates_merged", "cancellations", "decoys", "quarantined", "awaiting_review"):
        rows.append((key.replace("_", " "), str(metrics[key])))
    return rows
