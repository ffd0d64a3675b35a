"""What the audit reads: a request's whole story, and every act since a date.

A request's story is each detainer copy it holds (the rule and score that grouped it, the
document's SHA-256 and every arrival of that document: channel, station, received at, file
name), the cancellation notices that cancel it, every operator act on it or its copies
(corrections, rulings, review resolutions, dispositions: ``ledger.decisions``) and its
disposition history. Copy fields, correction values, senders and free text are personal data:
the caller (``application.audit``) decides what to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.errors import LedgerError
from ledger import copy_rows, decisions, dispositions, schema
from ledger.decisions import DecisionView
from ledger.unit_of_work import chunks


@dataclass(frozen=True)
class ArrivalFacts:
    channel: str
    station: str | None
    received_at: datetime
    file_name: str
    sha256: str
    size: int
    source_key: str  # carries no personal data: a folder path or mailbox key
    sender: str | None  # personal data
    message_id: str | None


@dataclass(frozen=True)
class CopyFacts:
    copy_key: str
    form_type: str
    rule: str  # the grouping rule that joined the copy to the request (``first`` for its founder)
    score: float
    founding: bool
    cancels_previous: bool
    arrivals: tuple[ArrivalFacts, ...]  # of the copy's document, in arrival order
    fields: dict[str, Any]  # effective values (OCR with corrections): personal data


@dataclass(frozen=True)
class RequestStory:
    request_id: str
    exists: bool  # False: the id is gone (merged away), only its acts remain
    copies: tuple[CopyFacts, ...]
    cancelled_by: tuple[str, ...]  # copy keys of cancellation notices
    acts: tuple[DecisionView, ...]  # oldest first
    dispositions: tuple[dict[str, Any], ...]  # oldest first (``dispositions.history``)


def _arrivals(session: Session, document_ids: list[int]) -> dict[int, list[ArrivalFacts]]:
    out: dict[int, list[ArrivalFacts]] = {}
    for chunk in chunks(document_ids):
        for receipt, sha in session.execute(
            select(schema.Receipt, schema.Document.sha256)
            .join(schema.Document, schema.Document.id == schema.Receipt.document_id)
            .where(schema.Receipt.document_id.in_(chunk))
            .order_by(schema.Receipt.received_at, schema.Receipt.id)
        ).tuples():
            out.setdefault(receipt.document_id, []).append(
                ArrivalFacts(
                    channel=receipt.channel,
                    station=receipt.station,
                    received_at=receipt.received_at,
                    file_name=receipt.file_name,
                    sha256=sha,
                    size=receipt.size,
                    source_key=receipt.source_key,
                    sender=receipt.sender,
                    message_id=receipt.message_id,
                )
            )
    return out


def request_story(session: Session, request_id: str) -> RequestStory:
    """The request's whole story; LedgerError when the ledger never knew the id."""
    request = session.get(schema.Request, request_id)
    rows = session.execute(
        select(schema.DetainerCopy, schema.RequestLink, schema.Document.sha256)
        .join(schema.RequestLink, schema.RequestLink.copy_id == schema.DetainerCopy.id)
        .join(schema.Document, schema.Document.id == schema.DetainerCopy.document_id)
        .where(schema.RequestLink.request_id == request_id)
        .order_by(schema.DetainerCopy.id)
    ).tuples().all()
    arrivals = _arrivals(session, sorted({copy.document_id for copy, _, _ in rows}))
    corrections_by_sha: dict[str, dict[int, list[tuple[str, str | None]]]] = {}
    copies = []
    for copy, link, sha in rows:
        if sha not in corrections_by_sha:
            corrections_by_sha[sha] = copy_rows.stored_corrections(session, sha)
        copies.append(
            CopyFacts(
                copy_key=f"{sha}:{copy.index}",
                form_type=copy.form_type,
                rule=link.rule,
                score=link.score,
                founding=request is not None and request.founding_copy_id == copy.id,
                cancels_previous=copy.cancels_previous,
                arrivals=tuple(arrivals.get(copy.document_id, ())),
                fields=copy_rows.apply_corrections(copy.fields, corrections_by_sha[sha].get(copy.index, ())),
            )
        )
    never = datetime.max.replace(tzinfo=UTC)
    copies.sort(key=lambda c: (c.arrivals[0].received_at if c.arrivals else never, c.copy_key))
    cancelled_by = tuple(
        f"{sha}:{index}"
        for sha, index in session.execute(
            select(schema.Document.sha256, schema.DetainerCopy.index)
            .select_from(schema.Cancellation)
            .join(schema.DetainerCopy, schema.DetainerCopy.id == schema.Cancellation.copy_id)
            .join(schema.Document, schema.Document.id == schema.DetainerCopy.document_id)
            .where(schema.Cancellation.request_id == request_id)
        ).tuples()
    )
    keys = [c.copy_key for c in copies] + list(cancelled_by)
    shas = sorted({k.partition(":")[0] for k in keys})
    conditions = [schema.Decision.request_id == request_id, schema.Decision.subject == request_id]
    acts: list[DecisionView] = []
    for chunk in chunks(keys):
        conditions += [schema.Decision.copy_key.in_(chunk), schema.Decision.other_copy_key.in_(chunk)]
    for chunk in chunks(shas):
        conditions.append(schema.Decision.document_sha256.in_(chunk))
    acts += [decisions.view(row) for row in session.scalars(select(schema.Decision).where(or_(*conditions)))]
    wanted = set(keys)
    for chunk in chunks(shas):
        for row in session.scalars(select(schema.Correction).where(schema.Correction.document_sha256.in_(chunk))):
            if f"{row.document_sha256}:{row.copy_index}" in wanted:
                acts.append(decisions.correction_view(row))
    acts.sort(key=lambda a: (a.at, a.id))
    if request is None and not acts:
        raise LedgerError("unknown request id")
    return RequestStory(
        request_id=request_id,
        exists=request is not None,
        copies=tuple(copies),
        cancelled_by=cancelled_by,
        acts=tuple(acts),
        dispositions=tuple(dispositions.history(session, request_id)),
    )


def activity(session: Session, since: datetime) -> list[DecisionView]:
    """Every operator act recorded at or after ``since`` (UTC), oldest first."""
    acts = [
        decisions.view(row)
        for row in session.scalars(select(schema.Decision).where(schema.Decision.at >= since))
    ]
    acts += [
        decisions.correction_view(row)
        for row in session.scalars(select(schema.Correction).where(schema.Correction.at >= since))
    ]
    acts.sort(key=lambda a: (a.at, a.id))
    return acts


def archive_references(session: Session) -> dict[str, int | None]:
    """SHA-256 -> expected size (None: unknown) of every file the archive must hold: each document,
    and each mail message's raw bytes."""
    out: dict[str, int | None] = {
        sha: size for sha, size in session.execute(select(schema.Document.sha256, schema.Document.size)).tuples()
    }
    for (sha,) in session.execute(select(schema.MailMessage.sha256).where(schema.MailMessage.sha256.is_not(None))):
        out.setdefault(sha, None)
    return out
