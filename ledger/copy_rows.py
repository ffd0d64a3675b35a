"""Detainer-copy rows: their identity columns, name tokens, keys and stored corrections.

Shared by every part that writes copies (recording, corrections) or regroups them. The
identity columns hold the *effective* values: what OCR read with the operator's corrections
laid over it, normalised the way ``ledger.dedupe`` compares them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.errors import LedgerError
from core.keys import CopyKey
from ledger import dedupe, schema
from ledger.dedupe import CopyFacts, DedupeConfig
from ledger.unit_of_work import chunks
from ledger.views import arrival_key
from parsing.models import DetainerRequest

# Fields whose low-confidence reading may support a match but never rule one out.
UNSURE_FIELDS = ("file_number", "event_number", "date_of_birth")


def copy_columns(fields: dict[str, Any]) -> dict[str, Any]:
    """Identity columns from (effective) DetainerRequest fields in JSON form."""

    def as_date(value: Any) -> date | None:
        return date.fromisoformat(value) if isinstance(value, str) and value else None

    return {
        "form_type": fields.get("form_type") or "I-247A",
        "file_number": dedupe.normalize_file_number(fields.get("file_number")),
        "event_number": dedupe.normalize_event_number(fields.get("event_number")),
        "subject_id": dedupe.normalize_subject_id(fields.get("subject_id")),
        "issued_date": as_date(fields.get("issued_date")),
        "name": dedupe.normalize_name(fields.get("subject_name")),
        "dob": as_date(fields.get("date_of_birth")),
        "cancels_previous": bool(fields.get("cancels_previous")),
        "cancelled_detainer_date": as_date(fields.get("cancelled_detainer_date")),
        "needs_review": bool(fields.get("needs_review")),
    }


def detainer_fields(detainer: DetainerRequest) -> dict[str, Any]:
    return detainer.model_dump(mode="json", exclude={"evidence"})


def unsure_fields(detainer: DetainerRequest, config: DedupeConfig) -> set[str]:
    """Identity fields the parser read with low confidence or flagged (``field:low_confidence`` etc.)."""
    unsure = set()
    for field in UNSURE_FIELDS:
        evidence = detainer.evidence.get(field)
        if evidence is not None and evidence.confidence < config.trusted_confidence:
            unsure.add(field)
        if any(reason.split(":", 1)[0] == field for reason in detainer.review_reasons):
            unsure.add(field)
    return unsure


def facts(row: schema.DetainerCopy, key: str = "", order: tuple[Any, ...] = ()) -> CopyFacts:
    return CopyFacts(
        key=key,
        order=order,
        file_number=row.file_number,
        event_number=row.event_number,
        subject_id=row.subject_id,
        issued_date=row.issued_date,
        name=row.name,
        dob=row.dob,
        cancels_previous=row.cancels_previous,
        cancelled_detainer_date=row.cancelled_detainer_date,
        unsure=frozenset(f for f in (row.unsure or "").split(",") if f),
    )


def sync_tokens(session: Session, row: schema.DetainerCopy) -> None:
    """Keep ``copy_tokens`` in line with the copy's (effective) name."""
    session.execute(delete(schema.CopyToken).where(schema.CopyToken.copy_id == row.id))
    for token in sorted(dedupe.name_tokens(row.name)):
        session.add(schema.CopyToken(copy_id=row.id, token=token[:64]))


def jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def apply_corrections(fields: dict[str, Any], corrections: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
    """A copy's effective fields: what OCR read, with each operator correction (a JSON-encoded
    value, in the order made) laid over it. Reports use it too, so they show what the ledger counts."""
    out = dict(fields)
    for field, encoded in corrections:
        out[field] = json.loads(encoded) if encoded is not None else None
    return out


def stored_corrections(session: Session, sha256: str) -> dict[int, list[tuple[str, str | None]]]:
    """Copy index -> the document's corrections (field, JSON-encoded value), in the order made."""
    out: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    rows = session.scalars(
        select(schema.Correction).where(schema.Correction.document_sha256 == sha256).order_by(schema.Correction.id)
    )
    for row in rows:
        out[row.copy_index].append((row.field, row.new_value))
    return out


def first_arrivals(session: Session, doc_ids: Iterable[int]) -> dict[int, tuple[datetime, int, str]]:
    """Each document's first arrival as an ``arrival_key``."""
    firsts: dict[int, tuple[datetime, int, str]] = {}
    ids = sorted(set(doc_ids))
    for chunk in chunks(ids):
        rows = session.execute(
            select(
                schema.Receipt.document_id,
                schema.Receipt.received_at,
                schema.Receipt.channel,
                schema.Receipt.source_key,
            ).where(schema.Receipt.document_id.in_(chunk))
        )
        for doc_id, received_at, channel, source_key in rows:
            key = arrival_key(received_at, channel, source_key)
            if doc_id not in firsts or key < firsts[doc_id]:
                firsts[doc_id] = key
    return firsts


def copies_by_keys(session: Session, keys: Sequence[CopyKey]) -> list[schema.DetainerCopy]:
    wanted: dict[str, set[int]] = defaultdict(set)
    for key in keys:
        wanted[key.document_sha256].add(key.index)
    rows = session.execute(
        select(schema.DetainerCopy, schema.Document.sha256)
        .join(schema.Document, schema.Document.id == schema.DetainerCopy.document_id)
        .where(schema.Document.sha256.in_(list(wanted)))
    )
    return [row for row, sha in rows if row.index in wanted[sha]]


def copy_keys(session: Session, rows: Sequence[schema.DetainerCopy]) -> dict[int, str]:
    """Copy id -> its copy key (``<sha256>:<index>``)."""
    shas: dict[int, str] = {}
    doc_ids = sorted({r.document_id for r in rows})
    for chunk in chunks(doc_ids):
        shas.update(
            session.execute(select(schema.Document.id, schema.Document.sha256).where(schema.Document.id.in_(chunk)))
            .tuples()
            .all()
        )
    return {r.id: dedupe.copy_key(shas[r.document_id], r.index) for r in rows}


def find_copy(session: Session, copy: int | str) -> tuple[schema.DetainerCopy, str]:
    """The copy named by its id or its copy key, with its copy key; LedgerError when there is none."""
    if isinstance(copy, str):
        try:
            key = CopyKey.parse(copy)
        except ValueError:
            raise LedgerError("unknown detainer copy") from None
        rows = copies_by_keys(session, [key])
        if not rows:
            raise LedgerError("unknown detainer copy")
        row = rows[0]
    else:
        found = session.get(schema.DetainerCopy, copy)
        if found is None:
            raise LedgerError("unknown detainer copy")
        row = found
    return row, copy_keys(session, [row])[row.id]
