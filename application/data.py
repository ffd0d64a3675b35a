"""Read-only queries the reports need, in one session per call (one consistent snapshot).

``request_rows`` gives one row per unique request with its arrivals, the founding copy's
effective fields (OCR with corrections applied) and its disposition. The rows carry
personal data (``RequestRow.person``, ``RequestRow.identities``); writers decide what to show.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from application.definitions import OUTCOME_LABELS
from core.errors import LedgerError
from ledger import schema
from ledger.snapshot import load_snapshot
from ledger.store import CHANNEL_ORDER, Ledger, apply_corrections

PERSONAL_FIELDS: tuple[str, ...] = ("subject_name", "date_of_birth", "file_number", "event_number")


@dataclass(frozen=True)
class Arrival:
    channel: str
    station: str | None
    received_at: datetime  # UTC
    file_name: str


@dataclass(frozen=True)
class Identity:
    """The normalised identity of one copy (what dedupe compares): personal data."""

    file_number: str | None
    event_number: str | None
    issued_date: date | None


@dataclass(frozen=True)
class Disposition:
    outcome: str  # not_acted_upon | detained | transferred
    reimbursement: Decimal | None
    note: str | None
    who: str
    at: datetime

    @property
    def label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)


@dataclass(frozen=True)
class RequestRow:
    id: str
    arrivals: tuple[Arrival, ...]  # in arrival order; the first is the first arrival
    copies: int
    form_type: str | None
    warrant_form: str | None
    cancelled: bool
    disposition: Disposition | None
    person: dict[str, Any]  # PERSONAL_FIELDS of the founding copy (effective values, JSON form)
    identities: tuple[Identity, ...]  # every copy's normalised identity

    @property
    def first(self) -> Arrival:
        return self.arrivals[0]

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(c for c in CHANNEL_ORDER if any(a.channel == c for a in self.arrivals))

    def local_first(self, zone: ZoneInfo) -> datetime:
        return self.first.received_at.astimezone(zone)


@contextmanager
def read_session(ledger: Ledger) -> Iterator[Session]:
    """A read session on the ledger's engine; database errors become LedgerError (no parameters shown)."""
    try:
        with Session(ledger.engine) as session:
            yield session
    except SQLAlchemyError as exc:
        raise LedgerError(f"ledger read failed ({type(exc).__name__})") from exc


def request_rows(ledger: Ledger, tz: str | ZoneInfo, year: int | None = None) -> list[RequestRow]:
    """Every unique request (or those first received in ``year``, department time), by first arrival."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    with read_session(ledger) as session:
        snapshot = load_snapshot(session)
        views = snapshot.request_views()
        arrivals = snapshot.request_arrivals()
        file_names = dict(session.execute(select(schema.Receipt.id, schema.Receipt.file_name)).tuples().all())
        founders = dict(session.execute(select(schema.Request.id, schema.Request.founding_copy_id)).tuples().all())
        copy_rows = session.execute(
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
            d.request_id: Disposition(d.outcome, d.reimbursement, d.note, d.who, d.at)
            for d in session.scalars(select(schema.Disposition))
        }

    identities: dict[str, list[Identity]] = defaultdict(list)
    founding_fields: dict[str, dict[str, Any]] = {}
    for copy_id, index, fields, file_number, event_number, issued, sha, request_id in copy_rows:
        identities[request_id].append(Identity(file_number, event_number, issued))
        if founders.get(request_id) == copy_id:
            founding_fields[request_id] = apply_corrections(fields, corrections.get((sha, index), ()))

    rows = []
    for view in views:
        first = view.first_received_at.astimezone(zone)
        if year is not None and first.year != year:
            continue
        fields = founding_fields.get(view.id, {})
        rows.append(
            RequestRow(
                id=view.id,
                arrivals=tuple(
                    Arrival(a.channel, a.station, a.received_at, file_names.get(a.id, "")) for a in arrivals[view.id]
                ),
                copies=len(view.copy_keys),
                form_type=fields.get("form_type"),
                warrant_form=fields.get("warrant_form"),
                cancelled=bool(view.cancelled_by),
                disposition=dispositions.get(view.id),
                person={name: fields.get(name) for name in PERSONAL_FIELDS},
                identities=tuple(identities[view.id]),
            )
        )
    return rows


def disposition_totals(rows: list[RequestRow]) -> dict[str, Any]:
    """The disposition figures of ``rows`` (one year's requests), as ``definitions.DISPOSITION_KEYS``."""
    counts = {outcome: 0 for outcome in OUTCOME_LABELS}
    not_recorded = reimbursed = 0
    total = Decimal("0.00")
    for row in rows:
        if row.disposition is None:
            not_recorded += 1
            continue
        counts[row.disposition.outcome] = counts.get(row.disposition.outcome, 0) + 1
        if row.disposition.reimbursement is not None:
            reimbursed += 1
            total += row.disposition.reimbursement
    return {
        "detained": counts["detained"],
        "transferred": counts["transferred"],
        "not_acted_upon": counts["not_acted_upon"],
        "not_recorded": not_recorded,
        "reimbursements_received": reimbursed,
        "reimbursement_total": f"{total.quantize(Decimal('0.01'))}",
    }


def cancellation_identities(ledger: Ledger) -> list[Identity]:
    """Identities of every cancellation notice (personal data), for reconciliation hints."""
    with read_session(ledger) as session:
        rows = session.execute(
            select(
                schema.DetainerCopy.file_number,
                schema.DetainerCopy.event_number,
                schema.DetainerCopy.cancelled_detainer_date,
            ).where(schema.DetainerCopy.cancels_previous.is_(True))
        ).all()
    return [Identity(f, e, d) for f, e, d in rows]  # columns hold normalised values
