"""The read model for metrics and reports: what the ledger holds, as plain values, one session per call.

Nothing outside the ledger reads its tables: the application layer (report, reconciliation,
dispositions) reads through here. ``RequestRecord`` and ``copies`` carry personal data (a
request's founding fields, its copies' identities); callers decide what to show.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ledger import copy_rows, dedupe, schema
from ledger.metrics import compute_metrics
from ledger.snapshot import load_snapshot
from ledger.uncertainty import Effect, effects
from ledger.unit_of_work import UnitOfWork
from ledger.views import RequestView


@dataclass(frozen=True)
class ArrivalRecord:
    channel: str
    station: str | None
    received_at: datetime  # UTC
    file_name: str


@dataclass(frozen=True)
class CopyIdentity:
    """A copy's normalised identity (what dedupe compares): personal data."""

    file_number: str | None
    event_number: str | None
    issued_date: date | None  # of a cancellation notice: the date of the detainer it cancels


@dataclass(frozen=True)
class DispositionRecord:
    outcome: str  # not_acted_upon | detained | transferred
    reimbursement: Decimal | None
    note: str | None
    who: str
    at: datetime


@dataclass(frozen=True)
class RequestRecord:
    """One unique request as the reports read it."""

    view: RequestView
    arrivals: tuple[ArrivalRecord, ...]  # in arrival order; the first is the first arrival
    founding_fields: dict[str, Any]  # the founding copy's effective fields (OCR, corrections applied; JSON form)
    identities: tuple[CopyIdentity, ...]  # every linked copy's identity
    disposition: DispositionRecord | None


class ReadModel:
    """Reads for metrics and reports; each call is one read session on the ledger's unit of work."""

    def __init__(self, work: UnitOfWork) -> None:
        self.work = work

    def requests(self) -> list[RequestView]:
        """Every unique request with its arrivals, in order of first arrival."""
        with self.work.read() as session:
            snapshot = load_snapshot(session)
        return snapshot.request_views()

    def metrics(self, year: int, tz: str | ZoneInfo) -> dict[str, Any]:
        """Channel-usage metrics for ``year`` in zone ``tz`` (samplegen/TRUTH.md, "Metric definitions")."""
        with self.work.read() as session:
            snapshot = load_snapshot(session)
        return compute_metrics(snapshot, year, tz).model_dump()

    def review_effects(self, tz: str | ZoneInfo) -> dict[int, Effect]:
        """Open review item id -> how far its decision could move the count (``ledger.uncertainty``);
        items that cannot move it are absent."""
        with self.work.read() as session:
            snapshot = load_snapshot(session)
        return {e.item_id: e for e in effects(snapshot, snapshot.open_items, tz)}

    def copies(self, sha256: str) -> list[dict[str, Any]]:
        """The document's detainer copies (personal data!): ``id``, ``key``, ``index``, ``fields`` (the
        effective DetainerRequest fields: OCR values with corrections applied, JSON form), ``match``
        (the normalised identity dedupe compares) and the ``request_id``/``rule`` it is linked by."""
        with self.work.read() as session:
            corrections = copy_rows.stored_corrections(session, sha256)
            rows = session.execute(
                select(schema.DetainerCopy, schema.RequestLink.request_id, schema.RequestLink.rule)
                .join(schema.Document, schema.Document.id == schema.DetainerCopy.document_id)
                .outerjoin(schema.RequestLink, schema.RequestLink.copy_id == schema.DetainerCopy.id)
                .where(schema.Document.sha256 == sha256)
                .order_by(schema.DetainerCopy.index)
            )
            return [
                {
                    "id": row.id,
                    "key": dedupe.copy_key(sha256, row.index),
                    "index": row.index,
                    "fields": copy_rows.apply_corrections(row.fields, corrections.get(row.index, ())),
                    "match": {
                        "file_number": row.file_number,
                        "event_number": row.event_number,
                        "subject_id": row.subject_id,
                        "issued_date": row.issued_date,
                        "name": row.name,
                        "dob": row.dob,
                        "cancels_previous": row.cancels_previous,
                        "cancelled_detainer_date": row.cancelled_detainer_date,
                    },
                    "request_id": request_id,
                    "rule": rule,
                }
                for row, request_id, rule in rows
            ]

    def request_records(self) -> list[RequestRecord]:
        """Every unique request, in order of first arrival, read in one session (one consistent set)."""
        with self.work.read() as session:
            snapshot = load_snapshot(session)
            views = snapshot.request_views()
            arrivals = snapshot.request_arrivals()
            file_names = dict(session.execute(select(schema.Receipt.id, schema.Receipt.file_name)).tuples().all())
            founders = dict(session.execute(select(schema.Request.id, schema.Request.founding_copy_id)).tuples().all())
            copies = session.execute(
                select(
                    schema.DetainerCopy.id,
                    schema.DetainerCopy.index,
                    schema.DetainerCopy.fields,
                    schema.DetainerCopy.file_number,
                    schema.DetainerCopy.event_number,
                    schema.DetainerCopy.issued_date,
                    schema.Document.sha256,
                    schema.RequestLink.request_id,
                )
                .join(schema.Document, schema.Document.id == schema.DetainerCopy.document_id)
                .join(schema.RequestLink, schema.RequestLink.copy_id == schema.DetainerCopy.id)
            ).all()
            corrections: dict[tuple[str, int], list[tuple[str, str | None]]] = defaultdict(list)
            for sha, index, field, value in session.execute(
                select(
                    schema.Correction.document_sha256,
                    schema.Correction.copy_index,
                    schema.Correction.field,
                    schema.Correction.new_value,
                ).order_by(schema.Correction.id)
            ):
                corrections[(sha, index)].append((field, value))
            dispositions = {
                d.request_id: DispositionRecord(d.outcome, d.reimbursement, d.note, d.who, d.at)
                for d in session.scalars(select(schema.Disposition))
            }

        identities: dict[str, list[CopyIdentity]] = defaultdict(list)
        founding_fields: dict[str, dict[str, Any]] = {}
        for copy_id, index, fields, file_number, event_number, issued, sha, request_id in copies:
            identities[request_id].append(CopyIdentity(file_number, event_number, issued))
            if founders.get(request_id) == copy_id:
                founding_fields[request_id] = copy_rows.apply_corrections(fields, corrections.get((sha, index), ()))
        return [
            RequestRecord(
                view=view,
                arrivals=tuple(
                    ArrivalRecord(a.channel, a.station, a.received_at, file_names.get(a.id, ""))
                    for a in arrivals[view.id]
                ),
                founding_fields=founding_fields.get(view.id, {}),
                identities=tuple(identities[view.id]),
                disposition=dispositions.get(view.id),
            )
            for view in views
        ]

    def cancellation_identities(self) -> list[CopyIdentity]:
        """Identities of every cancellation notice (personal data), ``issued_date`` the cancelled detainer's."""
        with self.work.read() as session:
            rows = session.execute(
                select(
                    schema.DetainerCopy.file_number,
                    schema.DetainerCopy.event_number,
                    schema.DetainerCopy.cancelled_detainer_date,
                ).where(schema.DetainerCopy.cancels_previous.is_(True))
            ).all()
        return [CopyIdentity(f, e, d) for f, e, d in rows]  # columns hold normalised values

    def request_exists(self, request_id: str) -> bool:
        with self.work.read() as session:
            return session.get(schema.Request, request_id) is not None
