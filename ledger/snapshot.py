"""One read of everything the metrics, the review effects and the reports' request list need.

``load_snapshot`` reads receipts, documents, copies, request links, cancellations and open
review items in one session: keys, channels and times only, no personal data. Request views
(``ledger.views.RequestView``) and each request's arrivals are derived from it, so every
figure depends on what was received and never on the order it was processed in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import dedupe, schema
from ledger.views import CHANNEL_ORDER, RequestView, arrival_key


@dataclass(frozen=True)
class OpenItem:
    """An open review item as the effect computation needs it (slugs and keys only)."""

    id: int
    key: str
    kind: str
    reason: str
    copy_key: str | None
    other_copy_key: str | None
    document_sha256: str | None
    received_at: datetime | None
    created_at: datetime | None


@dataclass(frozen=True)
class Arrival:
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

    receipts: list[Arrival]
    doc_status: dict[int, str]
    doc_sha: dict[int, str]
    copies: dict[int, tuple[int, int, bool]]  # copy id -> (document id, index, cancels_previous)
    links: dict[int, str]  # copy id -> request id
    rules: dict[int, str]  # copy id -> the dedupe rule that linked it
    cancellations: dict[int, str | None]  # copy id -> request id cancelled (None: not found)
    open_reviews: list[datetime | None]
    open_items: list[OpenItem] = field(default_factory=list)
    by_doc: dict[int, list[Arrival]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_doc: dict[int, list[Arrival]] = defaultdict(list)
        for arrival in sorted(self.receipts, key=lambda a: a.order):
            by_doc[arrival.document_id].append(arrival)
        self.by_doc = dict(by_doc)

    def request_arrivals(self) -> dict[str, list[Arrival]]:
        """Request id -> every arrival carrying one of its copies, in arrival order."""
        docs: dict[str, set[int]] = defaultdict(set)
        for copy_id, request_id in self.links.items():
            docs[request_id].add(self.copies[copy_id][0])
        out: dict[str, list[Arrival]] = {}
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
        Arrival(*row)
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
        OpenItem(
            i.id, i.key, i.kind, i.reason, i.copy_key, i.other_copy_key, i.document_sha256, i.received_at, i.created_at
        )
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
