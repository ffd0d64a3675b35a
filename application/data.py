"""What the reports read, from the ledger's read model (``Ledger.read_model``, one session per call).

``request_rows`` gives one row per unique request with its arrivals, the founding copy's
effective fields (OCR with corrections applied) and its disposition. The rows carry
personal data (``RequestRow.person``, ``RequestRow.identities``); writers decide what to show.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from application.definitions import OUTCOME_LABELS
from ledger.read_model import ArrivalRecord, CopyIdentity, DispositionRecord
from ledger.store import Ledger
from ledger.views import CHANNEL_ORDER

PERSONAL_FIELDS: tuple[str, ...] = ("subject_name", "date_of_birth", "file_number", "event_number")


@dataclass(frozen=True)
class Disposition(DispositionRecord):
    """A recorded disposition, with the label the reports print for its outcome."""

    @property
    def label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)


@dataclass(frozen=True)
class RequestRow:
    id: str
    arrivals: tuple[ArrivalRecord, ...]  # in arrival order; the first is the first arrival
    copies: int
    form_type: str | None
    warrant_form: str | None
    cancelled: bool
    disposition: Disposition | None
    person: dict[str, Any]  # PERSONAL_FIELDS of the founding copy (effective values, JSON form)
    identities: tuple[CopyIdentity, ...]  # every copy's normalised identity

    @property
    def first(self) -> ArrivalRecord:
        return self.arrivals[0]

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(c for c in CHANNEL_ORDER if any(a.channel == c for a in self.arrivals))

    def local_first(self, zone: ZoneInfo) -> datetime:
        return self.first.received_at.astimezone(zone)


def request_rows(ledger: Ledger, tz: str | ZoneInfo, year: int | None = None) -> list[RequestRow]:
    """Every unique request (or those first received in ``year``, department time), by first arrival."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    rows = []
    for record in ledger.read_model.request_records():
        view = record.view
        first = view.first_received_at.astimezone(zone)
        if year is not None and first.year != year:
            continue
        fields = record.founding_fields
        rows.append(
            RequestRow(
                id=view.id,
                arrivals=tuple(record.arrivals),
                copies=len(view.copy_keys),
                form_type=fields.get("form_type"),
                warrant_form=fields.get("warrant_form"),
                cancelled=bool(view.cancelled_by),
                disposition=_disposition(record.disposition),
                person={name: fields.get(name) for name in PERSONAL_FIELDS},
                identities=tuple(record.identities),
            )
        )
    return rows


def _disposition(found: DispositionRecord | None) -> Disposition | None:
    return Disposition(**asdict(found)) if found else None


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


def cancellation_identities(ledger: Ledger) -> list[CopyIdentity]:
    """Identities of every cancellation notice (personal data), for reconciliation hints."""
    return ledger.read_model.cancellation_identities()
