"""The read model for the operators' review work: the queue with where each item came from, and lookups.

Keys, slugs, channels, file names and quarantine messages (written without personal data),
plus the correction history of one copy (its values are personal data: operator tools only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from core.keys import CopyKey
from ledger import dedupe, schema
from ledger.unit_of_work import UnitOfWork
from ledger.views import ReviewView

_HEX = "0123456789abcdef"


@dataclass(frozen=True)
class FirstArrival:
    """A document's first arrival: where an operator finds what an item is about."""

    received_at: datetime
    channel: str
    station: str | None
    file_name: str
    source_key: str


@dataclass(frozen=True)
class ReviewListing:
    """Review items with what the queue shows beside them, read in one session."""

    items: list[ReviewView]
    first_arrivals: dict[str, FirstArrival]  # document SHA-256 -> its first arrival
    links: dict[str, str]  # copy key -> the request it is linked to
    messages: dict[str, str]  # quarantine input ref (``sha256:...``, ``mail:...``) -> its message


@dataclass(frozen=True)
class CorrectionView:
    field: str
    who: str
    at: datetime
    old: Any  # the effective value before (JSON form): personal data
    new: Any


def _view(item: schema.ReviewItem) -> ReviewView:
    return ReviewView(
        id=item.id,
        kind=item.kind,
        status=item.status,
        reason=item.reason,
        score=item.score,
        default_decision=item.default_decision,
        copy_key=item.copy_key,
        other_copy_key=item.other_copy_key,
        document_sha256=item.document_sha256,
        received_at=item.received_at,
        resolution=item.resolution,
        resolved_by=item.resolved_by,
        key=item.key,
    )


def _loads(value: str | None) -> Any:
    return json.loads(value) if value is not None else None


class ReviewReads:
    """Reads for the review queue; each call is one read session on the ledger's unit of work."""

    def __init__(self, work: UnitOfWork) -> None:
        self.work = work

    def review_items(self, status: str | None = "open", kind: str | None = None) -> list[ReviewView]:
        with self.work.read() as session:
            query = select(schema.ReviewItem).order_by(schema.ReviewItem.id)
            if status is not None:
                query = query.where(schema.ReviewItem.status == status)
            if kind is not None:
                query = query.where(schema.ReviewItem.kind == kind)
            return [_view(i) for i in session.scalars(query)]

    def review_item(self, item_id: int) -> ReviewView | None:
        with self.work.read() as session:
            item = session.get(schema.ReviewItem, item_id)
            return _view(item) if item is not None else None

    def listing(self, status: str | None = "open") -> ReviewListing:
        """Items (open ones by default, all with ``None``) and the first arrival of each document
        they concern, their copies' requests and the quarantine messages."""
        with self.work.read() as session:
            query = select(schema.ReviewItem).order_by(schema.ReviewItem.id)
            if status is not None:
                query = query.where(schema.ReviewItem.status == status)
            items = [_view(i) for i in session.scalars(query)]
            shas = {i.document_sha256 for i in items if i.document_sha256}
            for item in items:
                shas |= {CopyKey.parse(k).document_sha256 for k in (item.copy_key, item.other_copy_key) if k}
            first: dict[str, FirstArrival] = {}
            if shas:
                rows = session.execute(
                    select(
                        schema.Document.sha256,
                        schema.Receipt.received_at,
                        schema.Receipt.channel,
                        schema.Receipt.station,
                        schema.Receipt.file_name,
                        schema.Receipt.source_key,
                    )
                    .join(schema.Receipt, schema.Receipt.document_id == schema.Document.id)
                    .where(schema.Document.sha256.in_(sorted(shas)))
                ).all()
                for sha, *rest in sorted(rows, key=lambda r: (r[1], r[5])):
                    first.setdefault(sha, FirstArrival(*rest))
            links = {
                dedupe.copy_key(sha, index): request_id
                for sha, index, request_id in session.execute(
                    select(schema.Document.sha256, schema.DetainerCopy.index, schema.RequestLink.request_id)
                    .join(schema.DetainerCopy, schema.DetainerCopy.document_id == schema.Document.id)
                    .join(schema.RequestLink, schema.RequestLink.copy_id == schema.DetainerCopy.id)
                    .where(schema.Document.sha256.in_(sorted(shas)))
                )
            }
            messages = dict(
                session.execute(select(schema.Quarantine.input_ref, schema.Quarantine.message)).tuples().all()
            )
        return ReviewListing(items, first, links, messages)

    def founding_copy(self, request_id: str) -> str | None:
        """The copy key of the request's founding copy; None for an unknown request id."""
        with self.work.read() as session:
            row = session.execute(
                select(schema.Document.sha256, schema.DetainerCopy.index)
                .join(schema.DetainerCopy, schema.DetainerCopy.document_id == schema.Document.id)
                .join(schema.Request, schema.Request.founding_copy_id == schema.DetainerCopy.id)
                .where(schema.Request.id == request_id)
            ).first()
        return dedupe.copy_key(row[0], row[1]) if row is not None else None

    def documents_by_prefix(self, prefix: str) -> dict[str, list[int]]:
        """Documents whose SHA-256 starts with ``prefix`` (lower-case hex digits), each with its copies' indexes."""
        if not prefix or prefix.strip(_HEX):
            return {}
        with self.work.read() as session:
            docs = session.execute(  # a hex prefix: nothing to escape for LIKE
                select(schema.Document.id, schema.Document.sha256).where(schema.Document.sha256.like(prefix + "%"))
            ).all()
            return {
                sha: list(
                    session.scalars(select(schema.DetainerCopy.index).where(schema.DetainerCopy.document_id == doc_id))
                )
                for doc_id, sha in docs
            }

    def correction_history(self, key: CopyKey) -> list[CorrectionView]:
        """Every correction of the copy, in the order made (values are personal data)."""
        with self.work.read() as session:
            rows = session.scalars(
                select(schema.Correction)
                .where(
                    schema.Correction.document_sha256 == key.document_sha256, schema.Correction.copy_index == key.index
                )
                .order_by(schema.Correction.id)
            ).all()
            return [CorrectionView(c.field, c.who, c.at, _loads(c.old_value), _loads(c.new_value)) for c in rows]
