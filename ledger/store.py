"""The ledger: atomic per-document commits, request assignment, corrections, review queue.

Session/transaction model
-------------------------
Every public method that writes runs in ONE database transaction (``Ledger._write``):
on SQLite ``BEGIN IMMEDIATE`` (one writer at a time, others wait up to the busy
timeout), on PostgreSQL a transaction-scoped advisory lock serialises writers. A
crash or exception anywhere inside leaves nothing behind. ``record`` writes the
document (if new), the receipt, the detainer copies and the request assignment of
every copy the new arrival can affect, all in that one transaction.

Request assignment is recomputed, never patched: after a change, the connected
*component* of copies that could possibly match (sharing an A-number, an event number
or a date of birth, or tied by an operator decision) is re-run through
``ledger.dedupe.assign`` and the stored links are brought in line. Components are
independent, so the stored state always equals a from-scratch assignment of every copy:
the same inputs in any order give the same requests, links and metrics.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import Engine, delete, or_, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.channels import Channel
from core.errors import LedgerError
from ingest.models import MailMessage, RejectedPart
from ingest.models import Receipt as ReceiptModel
from ledger import dedupe, schema
from ledger.dedupe import CopyFacts, DedupeConfig
from parsing.models import DetainerRequest, ExtractionResult

if TYPE_CHECKING:
    from ledger.uncertainty import Effect

CHANNEL_ORDER: tuple[str, ...] = tuple(c.value for c in Channel)  # dedicated_fax, station_fax, bfs_email
PG_WRITE_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema()), hashtext('detainer-intake:write'))"
OUTCOMES = ("not_acted_upon", "detained", "transferred")
DEDUPE_KINDS = ("match", "cancellation")
AUTO_RESOLUTIONS = ("superseded", "reprocessed")  # closed by the ledger itself, not by a person
# A possible detainer (parsing.evidence) is resolved either way by a person: it is one (the document
# gains a detainer copy to fill in with ``correct``, counted and deduplicated like any copy) or not.
IS_DETAINER, NOT_DETAINER = "detainer", "not_detainer"
NOT_DETAINER_WORDS = ("accept", "dismiss", NOT_DETAINER)
OPERATOR_COPY_REASON = "copy:added_by_operator"  # its fields are for the operator to fill in (``correct``)
_IN_CHUNK = 500
# Rejected mail parts that may hold a document (too big to take, nested too deep): quarantined, never silent.
QUARANTINED_PARTS = ("too_large", "nested_too_deep")


def channel_rank(channel: str) -> int:
    return CHANNEL_ORDER.index(channel) if channel in CHANNEL_ORDER else len(CHANNEL_ORDER)


def arrival_key(received_at: datetime, channel: str, source_key: str) -> tuple[datetime, int, str]:
    """Total order of arrivals: time, then channel (dedicated, station, mail), then source key."""
    return (received_at, channel_rank(channel), source_key)


@dataclass(frozen=True)
class RecordOutcome:
    status: Literal["recorded", "already_known", "completed"]
    receipt_id: int
    document_sha256: str
    new_document: bool
    parse_status: str  # parsed | quarantined | pending
    copies: int  # detainer forms in the document
    request_ids: tuple[str, ...] = ()  # requests the document's copies belong to (cancellations excluded)
    possible_detainer: bool = False  # read with detainer evidence but no recognised detainer (on the review queue)


@dataclass(frozen=True)
class ReviewView:
    id: int
    kind: str
    status: str
    reason: str
    score: float | None
    default_decision: str | None
    copy_key: str | None
    other_copy_key: str | None
    document_sha256: str | None
    received_at: datetime | None
    resolution: str | None


@dataclass(frozen=True)
class RequestView:
    id: str
    first_received_at: datetime
    first_channel: str
    first_station: str | None
    channels: tuple[str, ...]
    receipt_keys: tuple[str, ...]  # source keys of every arrival carrying a copy, in arrival order
    # Why each arrival counts as this request: first | same_content (identical bytes arrived before)
    # | same_identity | fuzzy | operator_merge (the rule that linked its copy).
    receipt_rules: tuple[str, ...]
    copy_keys: tuple[str, ...]
    cancelled_by: tuple[str, ...]  # copy keys of cancellation notices linked to it


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), _IN_CHUNK):
        yield values[i : i + _IN_CHUNK]


def _copy_columns(fields: dict[str, Any]) -> dict[str, Any]:
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


def _detainer_fields(detainer: DetainerRequest) -> dict[str, Any]:
    return detainer.model_dump(mode="json", exclude={"evidence"})


class Ledger:
    """The system of record. Thread-safe: each call uses its own session."""

    def __init__(self, engine: Engine, dedupe_config: DedupeConfig | None = None) -> None:
        self.engine = engine
        self.config = dedupe_config or DedupeConfig()
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    # ------------------------------------------------------------------ sessions

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One write transaction: all or nothing; writers serialised."""
        try:
            with self._sessions.begin() as session:
                if self.engine.dialect.name == "postgresql":
                    # Writers are serialised per ledger (schema): request assignment reads then writes.
                    session.execute(text(PG_WRITE_LOCK))
                yield session
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger write failed ({type(exc).__name__})") from exc

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with self._sessions() as session:
                yield session
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger read failed ({type(exc).__name__})") from exc

    # ------------------------------------------------------------------ recording

    def record(
        self,
        receipt: ReceiptModel,
        extraction: ExtractionResult | None,
        *,
        quarantine: tuple[str, str] | None = None,
        format: str | None = None,
    ) -> RecordOutcome:
        """Record one arrival and what was read from it, atomically and idempotently.

        ``quarantine`` = (reason slug, message without personal data) when the input could not be read;
        an ``extraction`` carrying ``error`` is quarantined the same way. No extraction and no
        quarantine records the document as ``pending`` (a later ``record`` of the same source key
        with an extraction completes it).
        """
        with self._write() as session:
            return self._record(session, receipt, extraction, quarantine, format)

    def _record(
        self,
        session: Session,
        receipt: ReceiptModel,
        extraction: ExtractionResult | None,
        quarantine: tuple[str, str] | None,
        format: str | None,
    ) -> RecordOutcome:
        if extraction is not None and extraction.sha256 != receipt.sha256:
            raise LedgerError("extraction does not belong to the receipt's content (sha256 differs)")
        known = session.scalar(select(schema.Receipt).where(schema.Receipt.source_key == receipt.source_key))
        doc = session.scalar(select(schema.Document).where(schema.Document.sha256 == receipt.sha256))
        status: Literal["recorded", "already_known", "completed"] = "recorded"
        new_document = doc is None
        if known is not None:
            assert doc is not None
            if doc.parse_status != "pending" or (extraction is None and quarantine is None):
                return self._outcome(session, "already_known", known, doc, False)
            status = "completed"
        if doc is None:
            doc = schema.Document(sha256=receipt.sha256, size=receipt.size, parse_status="pending", format=format)
            session.add(doc)
            session.flush()
        elif format and not doc.format:
            doc.format = format
        if doc.parse_status == "pending" and (extraction is not None or quarantine is not None):
            self._fill_document(session, doc, extraction, quarantine)
        if known is None:
            known = schema.Receipt(
                source_key=receipt.source_key,
                channel=receipt.channel.value,
                station=receipt.station,
                received_at=receipt.received_at,
                file_name=receipt.file_name,
                sender=receipt.sender,
                message_id=receipt.message_id,
                document_id=doc.id,
                size=receipt.size,
            )
            session.add(known)
            session.flush()
        self._after_arrival(session, doc)
        return self._outcome(session, status, known, doc, new_document)

    def _fill_document(
        self,
        session: Session,
        doc: schema.Document,
        extraction: ExtractionResult | None,
        quarantine: tuple[str, str] | None,
    ) -> None:
        if extraction is not None:
            doc.extraction = extraction.model_dump(mode="json")
            doc.page_count = len(extraction.pages) or None
        if quarantine is None and extraction is not None and extraction.error is not None:
            quarantine = (extraction.error_reason or "unreadable", extraction.error)
        doc.updated_at = schema.utcnow()
        if quarantine is not None:
            reason, message = quarantine
            doc.parse_status, doc.error_reason = "quarantined", reason[:64]
            ref = f"sha256:{doc.sha256}"
            row = session.scalar(select(schema.Quarantine).where(schema.Quarantine.input_ref == ref))
            if row is None:
                session.add(
                    schema.Quarantine(input_ref=ref, document_id=doc.id, reason=reason[:64], message=message[:512])
                )
            self._write_copies(session, doc, [])  # a reprocess that fails drops what an older read found
            return
        assert extraction is not None
        if doc.parse_status == "quarantined" or doc.error_reason:
            # A reprocess read what could not be read before: off the quarantine list.
            session.execute(delete(schema.Quarantine).where(schema.Quarantine.input_ref == f"sha256:{doc.sha256}"))
            self._close_review(session, f"quarantine:{doc.sha256}", "reprocessed")
        doc.parse_status, doc.error_reason = "parsed", None
        self._write_copies(session, doc, [*extraction.detainers, *self._operator_detainers(session, doc, extraction)])

    def _operator_detainers(
        self, session: Session, doc: schema.Document, extraction: ExtractionResult
    ) -> list[DetainerRequest]:
        """The detainer a person said a possible detainer is, while the reading still misses it.

        Once a reprocess recognises the form itself, the read copy takes its place (the operator's
        corrections, keyed by copy index, then apply to it)."""
        if not extraction.possible_detainer_evidence:
            return []
        item = session.scalar(select(schema.ReviewItem).where(schema.ReviewItem.key == _possible_key(doc.sha256)))
        if item is None or item.status != "resolved" or item.resolution != IS_DETAINER:
            return []
        return [DetainerRequest(form_type="I-247A", needs_review=True, review_reasons=[OPERATOR_COPY_REASON])]

    def _write_copies(self, session: Session, doc: schema.Document, detainers: Sequence[DetainerRequest]) -> None:
        """Create or refresh the document's copies from OCR values, corrections applied on top."""
        existing = {
            c.index: c
            for c in session.scalars(select(schema.DetainerCopy).where(schema.DetainerCopy.document_id == doc.id))
        }
        corrections = self._corrections(session, doc.sha256)
        written = []
        for index, detainer in enumerate(detainers):
            fields = _detainer_fields(detainer)
            columns = _copy_columns(apply_corrections(fields, corrections.get(index, ())))
            corrected = {field for field, _ in corrections.get(index, ())}
            columns["unsure"] = ",".join(sorted(_unsure_fields(detainer, self.config) - corrected))
            row = existing.pop(index, None)
            if row is None:
                row = schema.DetainerCopy(document_id=doc.id, index=index, fields=fields, **columns)
                session.add(row)
            else:
                row.fields = fields
                for name, value in columns.items():
                    setattr(row, name, value)
            written.append(row)
        for stale in existing.values():
            session.execute(delete(schema.Request).where(schema.Request.founding_copy_id == stale.id))
            session.delete(stale)
        session.flush()
        for row in written:
            _sync_tokens(session, row)
        session.flush()

    def _after_arrival(self, session: Session, doc: schema.Document) -> None:
        """Bring requests and review items in line after a document gained a receipt or copies."""
        first = self._first_arrivals(session, [doc.id])[doc.id]
        if doc.parse_status == "quarantined":
            self._ensure_review(
                session,
                f"quarantine:{doc.sha256}",
                kind="quarantine",
                reason=doc.error_reason or "unreadable",
                document_sha256=doc.sha256,
                received_at=first[0],
            )
        self._sync_possible_detainer(session, doc, first[0])
        copies = list(session.scalars(select(schema.DetainerCopy).where(schema.DetainerCopy.document_id == doc.id)))
        for row in copies:
            if row.needs_review:
                reasons = row.fields.get("review_reasons") or []
                self._ensure_review(
                    session,
                    f"copy:{doc.sha256}:{row.index}",
                    kind="copy",
                    reason=",".join(str(r) for r in reasons)[:128] or "needs_review",
                    copy_key=dedupe.copy_key(doc.sha256, row.index),
                    document_sha256=doc.sha256,
                    received_at=first[0],
                )
        if copies:
            self._reassign(session, copies)

    def _sync_possible_detainer(self, session: Session, doc: schema.Document, received_at: datetime) -> None:
        """A document read without a recognised detainer but with detainer evidence is on the review
        queue (``possible_detainer``, reason = the evidence slugs), never silently an other document."""
        key = _possible_key(doc.sha256)
        evidence = (doc.extraction or {}).get("possible_detainer_evidence") or []
        if doc.parse_status != "parsed" or not evidence:
            self._close_review(session, key, "reprocessed")
            return
        reason = ",".join(str(e) for e in evidence)[:128]
        self._ensure_review(
            session, key, kind="possible_detainer", reason=reason, document_sha256=doc.sha256, received_at=received_at
        )
        item = session.scalar(select(schema.ReviewItem).where(schema.ReviewItem.key == key))
        if item is not None and item.status == "open":
            item.reason = reason  # a reprocess may have found other evidence

    def _decide_possible_detainer(self, session: Session, item: schema.ReviewItem) -> None:
        """Apply a person's ruling on a possible detainer: add (or drop) the operator's copy."""
        doc = session.scalar(select(schema.Document).where(schema.Document.sha256 == item.document_sha256))
        if doc is None or doc.extraction is None:
            return
        extraction = ExtractionResult.model_validate(doc.extraction)
        old_keys = self._component_seed(session, doc.id)
        kept = [*extraction.detainers, *self._operator_detainers(session, doc, extraction)]
        stale = session.scalars(
            select(schema.DetainerCopy.index).where(
                schema.DetainerCopy.document_id == doc.id, schema.DetainerCopy.index >= len(kept)
            )
        ).all()
        self._write_copies(session, doc, kept)
        for index in stale:
            self._close_review(session, f"copy:{doc.sha256}:{index}", "superseded")
        self._after_arrival(session, doc)
        if old_keys:
            self._reassign(session, [], extra_seed=old_keys)

    def _outcome(
        self, session: Session, status: Any, receipt: schema.Receipt, doc: schema.Document, new_document: bool
    ) -> RecordOutcome:
        rows = session.execute(
            select(schema.RequestLink.request_id)
            .join(schema.DetainerCopy, schema.DetainerCopy.id == schema.RequestLink.copy_id)
            .where(schema.DetainerCopy.document_id == doc.id)
            .order_by(schema.DetainerCopy.index)
        ).scalars()
        n_copies = len(
            session.scalars(select(schema.DetainerCopy.id).where(schema.DetainerCopy.document_id == doc.id)).all()
        )
        return RecordOutcome(
            status=status,
            receipt_id=receipt.id,
            document_sha256=doc.sha256,
            new_document=new_document,
            parse_status=doc.parse_status,
            copies=n_copies,
            request_ids=tuple(dict.fromkeys(rows)),
            possible_detainer=bool((doc.extraction or {}).get("possible_detainer_evidence")),
        )

    def regroup(self) -> None:
        """Re-run dedupe over every copy: after a migration gave copies a new identity column,
        or a change of the matching rules. Operator decisions and corrections hold as always."""
        with self._write() as session:
            rows = session.scalars(select(schema.DetainerCopy).order_by(schema.DetainerCopy.id)).all()
            if rows:
                self._reassign(session, rows)

    def reprocess(self, extraction: ExtractionResult) -> None:
        """Replace a known document's extraction (e.g. a better parser); corrections survive."""
        with self._write() as session:
            doc = session.scalar(select(schema.Document).where(schema.Document.sha256 == extraction.sha256))
            if doc is None:
                raise LedgerError("reprocess: unknown document")
            old_keys = self._component_seed(session, doc.id)
            doc.parse_status = "pending"
            self._fill_document(session, doc, extraction, None)
            self._after_arrival(session, doc)
            if old_keys:
                self._reassign(session, [], extra_seed=old_keys)

    def extraction_for(self, sha256: str) -> ExtractionResult | None:
        """What was read from these bytes before (so nothing is OCR'd twice); None if never read."""
        with self._read() as session:
            doc = session.scalar(select(schema.Document).where(schema.Document.sha256 == sha256))
            if doc is None or doc.parse_status == "pending":
                return None
            if doc.extraction is not None:
                return ExtractionResult.model_validate(doc.extraction)
            reason = doc.error_reason or "unreadable"
            quarantine = session.scalar(
                select(schema.Quarantine).where(schema.Quarantine.input_ref == f"sha256:{sha256}")
            )
            return ExtractionResult(
                sha256=sha256, error=quarantine.message if quarantine else reason, error_reason=reason
            )

    def is_known(self, source_key: str) -> bool:
        with self._read() as session:
            return session.scalar(select(schema.Receipt.id).where(schema.Receipt.source_key == source_key)) is not None

    # ------------------------------------------------------------------ IntakeState (ingest/state.py)

    def known_source_keys(self, prefix: str) -> set[str]:
        """Source keys of every recorded arrival starting with ``prefix``."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._read() as session:
            rows = session.scalars(
                select(schema.Receipt.source_key).where(schema.Receipt.source_key.like(escaped + "%", escape="\\"))
            )
            return set(rows)

    def mail_attempts(self, message_key: str) -> int:
        with self._read() as session:
            row = session.scalar(select(schema.MailMessage).where(schema.MailMessage.message_key == message_key))
            return row.attempts if row else 0

    def mail_handled(self, message_key: str) -> bool:
        """True once the message's record is committed (with or without documents), or it is quarantined."""
        with self._read() as session:
            row = session.scalar(select(schema.MailMessage).where(schema.MailMessage.message_key == message_key))
            return row is not None and row.status in ("handled", "quarantined")

    def record_mail_failure(
        self, message_key: str, reason: str, *, quarantined: bool = False, message: str = ""
    ) -> int:
        """Count one failed attempt at a message; returns the attempts so far.

        ``quarantined``: this was the last allowed attempt; the message goes on the quarantine list
        and the review queue. ``reason``/``message`` must carry no personal data.
        """
        with self._write() as session:
            return self._mail_failure(session, message_key, reason, quarantined, message)

    def _mail_failure(self, session: Session, message_key: str, reason: str, quarantined: bool, message: str) -> int:
        row = self._mail_row(session, message_key)
        row.attempts += 1
        row.last_error = reason[:256]
        row.updated_at = schema.utcnow()
        row.status = "failed"
        if quarantined:
            row.status = "quarantined"
            slug = _slug(reason.partition(":")[0])  # "malformed_message: <detail>" (MailMessage.error) -> its slug
            ref = f"mail:{message_key}"
            existing = session.scalar(select(schema.Quarantine).where(schema.Quarantine.input_ref == ref))
            if existing is None:
                session.add(
                    schema.Quarantine(
                        input_ref=ref,
                        reason=slug,
                        message=(message or reason)[:512],
                        attempts=row.attempts,
                    )
                )
            else:
                existing.attempts, existing.message = row.attempts, (message or reason)[:512]
            self._ensure_review(
                session,
                f"quarantine:{ref}"[:300],
                kind="quarantine",
                reason=slug,
                received_at=row.updated_at,
            )
        return row.attempts

    def reset_mail_attempts(self, message_key: str) -> None:
        """Release a quarantined (or failing) message: the next run fetches it again from scratch."""
        with self._write() as session:
            row = session.scalar(select(schema.MailMessage).where(schema.MailMessage.message_key == message_key))
            if row is not None and row.status != "handled":
                row.attempts, row.status, row.updated_at = 0, "failed", schema.utcnow()
            session.execute(delete(schema.Quarantine).where(schema.Quarantine.input_ref == f"mail:{message_key}"))

    def record_mail_handled(
        self, message_key: str, message_id: str | None, sha256: str | None, n_documents: int
    ) -> None:
        with self._write() as session:
            self._mail_handled(session, message_key, message_id, sha256, n_documents)

    def _mail_handled(
        self, session: Session, message_key: str, message_id: str | None, sha256: str | None, n_documents: int
    ) -> None:
        row = self._mail_row(session, message_key)
        row.status, row.message_id, row.sha256, row.n_documents = "handled", message_id, sha256, n_documents
        row.updated_at = schema.utcnow()

    def record_message(
        self,
        message: MailMessage,
        documents: Sequence[tuple[ReceiptModel, ExtractionResult | None, tuple[str, str] | None]] = (),
    ) -> list[RecordOutcome]:
        """Commit one mail message in ONE transaction: its documents (as ``record`` would) and the
        message record (handled), or, when ``message.error`` is set, one failed attempt.

        ``documents`` are the ledger inputs for ``message.documents``; ``message.already_received``
        (arrivals committed before under another key) are not recorded again.
        """
        with self._write() as session:
            if message.error is not None:
                self._mail_failure(session, message.message_key, message.error, message.quarantined, message.error)
                return []
            outcomes = [
                self._record(session, receipt, extraction, quarantine, None)
                for receipt, extraction, quarantine in documents
            ]
            self._mail_handled(
                session, message.message_key, message.message_id, message.raw_sha256, len(message.documents)
            )
            for part in message.rejected_parts:
                if part.reason in QUARANTINED_PARTS:
                    self._quarantine_part(session, message, part)
            return outcomes

    def _quarantine_part(self, session: Session, message: MailMessage, part: RejectedPart) -> None:
        """A part that may hold a document the intake did not take: on the quarantine list and the review queue.

        Its bytes stay in the archived raw message. No file name in the text (it may carry a name).
        """
        ref = f"mail:{message.message_key};part={part.part}"
        if session.scalar(select(schema.Quarantine.id).where(schema.Quarantine.input_ref == ref)) is None:
            text = f"mail part {part.part} ({part.content_type}, {part.size} bytes) not taken: {part.reason}"
            session.add(schema.Quarantine(input_ref=ref, reason=part.reason, message=text[:512], attempts=1))
        self._ensure_review(
            session, f"quarantine:{ref}"[:300], kind="quarantine", reason=part.reason, received_at=message.received_at
        )

    def _mail_row(self, session: Session, message_key: str) -> schema.MailMessage:
        row = session.scalar(select(schema.MailMessage).where(schema.MailMessage.message_key == message_key))
        if row is None:
            row = schema.MailMessage(message_key=message_key, status="failed", attempts=0)
            session.add(row)
            session.flush()
        return row

    # ------------------------------------------------------------------ request assignment

    def _first_arrivals(self, session: Session, doc_ids: Iterable[int]) -> dict[int, tuple[datetime, int, str]]:
        """Each document's first arrival as an ``arrival_key``."""
        firsts: dict[int, tuple[datetime, int, str]] = {}
        ids = sorted(set(doc_ids))
        for chunk in _chunks(ids):
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

    def _component_seed(self, session: Session, doc_id: int) -> set[tuple[str, object]]:
        rows = session.scalars(select(schema.DetainerCopy).where(schema.DetainerCopy.document_id == doc_id))
        seed: set[tuple[str, object]] = set()
        for row in rows:
            seed |= dedupe.block_keys(row)
            seed.add(("id", row.id))
        return seed

    def _component(self, session: Session, seed: set[tuple[str, object]]) -> list[schema.DetainerCopy]:
        """Every copy transitively tied to the seed: sharing an A-number, event number or birth date,
        an operator decision, or a word of the name with identifiers a slip apart (``token_linked``)
        or with arrivals within the issue window (``_arrival_partners``)."""
        found: dict[int, schema.DetainerCopy] = {}
        done: set[tuple[str, object]] = set()
        todo = set(seed)
        columns = {
            "file": schema.DetainerCopy.file_number,
            "event": schema.DetainerCopy.event_number,
            "subject": schema.DetainerCopy.subject_id,
            "dob": schema.DetainerCopy.dob,
            "id": schema.DetainerCopy.id,
        }
        while todo:
            done |= todo
            by_kind: dict[str, list[Any]] = defaultdict(list)
            for kind, value in todo:
                by_kind[kind].append(value)
            todo = set()
            fresh: list[schema.DetainerCopy] = []
            for kind, values in by_kind.items():
                if kind == "key":
                    for key_chunk in _chunks(sorted(values)):  # type: ignore[type-var]
                        fresh += self._copies_by_keys(session, key_chunk)
                    continue
                for chunk in _chunks(values):
                    fresh += session.scalars(select(schema.DetainerCopy).where(columns[kind].in_(chunk))).all()
            new_rows = [row for row in fresh if row.id not in found]
            for row in new_rows:
                found[row.id] = row
            if new_rows:
                keys = self._copy_keys(session, new_rows)
                todo |= {("key", k) for k in self._decided_partners(session, list(keys.values()))}
                for row in new_rows:
                    todo |= dedupe.block_keys(row)
                todo |= {("id", cid) for cid in self._name_partners(session, new_rows, found)}
                todo |= {("id", cid) for cid in self._arrival_partners(session, new_rows, found)}
            todo -= done
        return sorted(found.values(), key=lambda r: r.id)

    def _name_partners(
        self, session: Session, rows: Sequence[schema.DetainerCopy], found: dict[int, schema.DetainerCopy]
    ) -> set[int]:
        """Copies ``dedupe.token_linked`` to one of ``rows`` (a word of the name, identifiers a slip apart)."""
        by_token: dict[str, list[schema.DetainerCopy]] = defaultdict(list)
        for row in rows:
            if row.file_number or row.event_number or row.subject_id:
                for token in dedupe.name_tokens(row.name):
                    by_token[token].append(row)
        # token -> (copy ids, then A-numbers, event numbers and subject IDs) of the other copies with that word
        others: dict[str, tuple[list[int], list[str | None], list[str | None], list[str | None]]] = defaultdict(
            lambda: ([], [], [], [])
        )
        copy = schema.DetainerCopy
        for chunk in _chunks(sorted(by_token)):
            for token, other_id, file_number, event_number, subject_id in session.execute(
                select(schema.CopyToken.token, copy.id, copy.file_number, copy.event_number, copy.subject_id)
                .join(copy, copy.id == schema.CopyToken.copy_id)
                .where(schema.CopyToken.token.in_(chunk))
                .where(or_(copy.file_number.is_not(None), copy.event_number.is_not(None), copy.subject_id.is_not(None)))
            ):
                if other_id not in found:
                    ids, files, events, subjects = others[token]
                    ids.append(other_id)
                    files.append(file_number)
                    events.append(event_number)
                    subjects.append(subject_id)
        partners: set[int] = set()
        for token, (ids, files, events, subjects) in others.items():
            for row in by_token[token]:
                for index in (
                    dedupe.slipped(row.file_number, files)
                    | dedupe.slipped(row.event_number, events)
                    | dedupe.slipped(row.subject_id, subjects)
                ):
                    partners.add(ids[index])
        return partners

    def _arrival_partners(
        self, session: Session, rows: Sequence[schema.DetainerCopy], found: dict[int, schema.DetainerCopy]
    ) -> set[int]:
        """Copies sharing a word of the name with one of ``rows`` whose documents first arrived
        within the issue window of each other (``dedupe.arrived_near``: offered for review)."""
        tokens: dict[str, list[schema.DetainerCopy]] = defaultdict(list)
        for row in rows:
            for token in dedupe.name_tokens(row.name):
                tokens[token].append(row)
        if not tokens:
            return set()
        others: dict[str, list[tuple[int, int]]] = defaultdict(list)  # token -> (copy id, document id)
        copy = schema.DetainerCopy
        for chunk in _chunks(sorted(tokens)):
            for token, other_id, document_id in session.execute(
                select(schema.CopyToken.token, copy.id, copy.document_id)
                .join(copy, copy.id == schema.CopyToken.copy_id)
                .where(schema.CopyToken.token.in_(chunk))
            ):
                if other_id not in found:
                    others[token].append((other_id, document_id))
        if not others:
            return set()
        documents = {r.document_id for r in rows} | {d for pairs in others.values() for _, d in pairs}
        firsts = self._first_arrivals(session, documents)
        window = timedelta(days=self.config.issued_window_days + 1)
        partners: set[int] = set()
        for token, pairs in others.items():
            for row in tokens[token]:
                mine = firsts.get(row.document_id)
                for other_id, document_id in pairs:
                    theirs = firsts.get(document_id)
                    if mine and theirs and abs(mine[0] - theirs[0]) <= window:
                        partners.add(other_id)
        return partners

    def _copies_by_keys(self, session: Session, keys: Sequence[str]) -> list[schema.DetainerCopy]:
        wanted = defaultdict(set)
        for key in keys:
            sha, _, index = key.rpartition(":")
            wanted[sha].add(int(index))
        rows = session.execute(
            select(schema.DetainerCopy, schema.Document.sha256)
            .join(schema.Document, schema.Document.id == schema.DetainerCopy.document_id)
            .where(schema.Document.sha256.in_(list(wanted)))
        )
        return [row for row, sha in rows if row.index in wanted[sha]]

    def _copy_keys(self, session: Session, rows: Sequence[schema.DetainerCopy]) -> dict[int, str]:
        shas: dict[int, str] = {}
        doc_ids = sorted({r.document_id for r in rows})
        for chunk in _chunks(doc_ids):
            shas.update(
                session.execute(select(schema.Document.id, schema.Document.sha256).where(schema.Document.id.in_(chunk)))
                .tuples()
                .all()
            )
        return {r.id: dedupe.copy_key(shas[r.document_id], r.index) for r in rows}

    def _decided_partners(self, session: Session, keys: Sequence[str]) -> set[str]:
        partners: set[str] = set()
        for chunk in _chunks(sorted(keys)):
            rows = session.execute(
                select(schema.MatchDecision.copy_a, schema.MatchDecision.copy_b).where(
                    or_(schema.MatchDecision.copy_a.in_(chunk), schema.MatchDecision.copy_b.in_(chunk))
                )
            )
            for a, b in rows:
                partners |= {a, b}
        return partners

    def _decisions(self, session: Session, keys: Sequence[str]) -> dict[tuple[str, str], bool]:
        out: dict[tuple[str, str], bool] = {}
        for chunk in _chunks(sorted(keys)):
            for row in session.scalars(
                select(schema.MatchDecision).where(
                    or_(schema.MatchDecision.copy_a.in_(chunk), schema.MatchDecision.copy_b.in_(chunk))
                )
            ):
                out[(row.copy_a, row.copy_b)] = row.same
        return out

    def _reassign(
        self,
        session: Session,
        rows: Sequence[schema.DetainerCopy],
        extra_seed: set[tuple[str, object]] | None = None,
    ) -> set[int]:
        """Recompute requests, links, cancellations and match reviews for the component of ``rows``.

        Returns the ids of the copies in the component."""
        seed: set[tuple[str, object]] = set(extra_seed or ())
        for row in rows:
            seed |= dedupe.block_keys(row)
            seed.add(("id", row.id))
        component = self._component(session, seed)
        if not component:
            return set()
        keys = self._copy_keys(session, component)
        by_key = {keys[r.id]: r for r in component}
        firsts = self._first_arrivals(session, {r.document_id for r in component})
        facts = [_facts(r, keys[r.id], (*firsts[r.document_id], r.index)) for r in component if r.document_id in firsts]
        result = dedupe.assign(facts, self.config, self._decisions(session, list(keys.values())))
        copy_ids = [r.id for r in component]

        # Requests: old ones of this component (linked to, or founded by, its copies).
        old_links = {
            link.copy_id: link
            for chunk in _chunks(copy_ids)
            for link in session.scalars(select(schema.RequestLink).where(schema.RequestLink.copy_id.in_(chunk)))
        }
        old_requests = {
            req.id: req
            for chunk in _chunks(copy_ids)
            for req in session.scalars(
                select(schema.Request).where(
                    or_(
                        schema.Request.founding_copy_id.in_(chunk),
                        schema.Request.id.in_({link.request_id for link in old_links.values()}),
                    )
                )
            )
        }
        wanted = {rid: by_key[founder].id for rid, founder in result.requests.items()}
        gone = [rid for rid, req in old_requests.items() if wanted.get(rid) != req.founding_copy_id]
        self._migrate_dispositions(session, gone, old_requests, keys, result)
        for copy_id, link in old_links.items():
            new = result.links.get(keys[copy_id])
            if new is None or new.request_id in gone or new.request_id != link.request_id:
                session.delete(link)
        session.flush()
        for rid in gone:
            session.execute(
                update(schema.Cancellation).where(schema.Cancellation.request_id == rid).values(request_id=None)
            )
            session.execute(delete(schema.Request).where(schema.Request.id == rid))
        session.flush()
        for rid, founder_id in wanted.items():
            if rid not in old_requests or rid in gone:
                session.add(schema.Request(id=rid, founding_copy_id=founder_id))
        session.flush()
        kept = {cid: link for cid, link in old_links.items() if link in session}
        for key, new in result.links.items():
            cid = by_key[key].id
            link_row = kept.get(cid)
            if link_row is None:
                session.add(schema.RequestLink(request_id=new.request_id, copy_id=cid, rule=new.rule, score=new.score))
            else:
                link_row.rule, link_row.score = new.rule, new.score

        old_cancels = {
            c.copy_id: c
            for chunk in _chunks(copy_ids)
            for c in session.scalars(select(schema.Cancellation).where(schema.Cancellation.copy_id.in_(chunk)))
        }
        for key, cancel in result.cancellations.items():
            cid = by_key[key].id
            cancel_row = old_cancels.pop(cid, None)
            if cancel_row is None:
                session.add(
                    schema.Cancellation(copy_id=cid, request_id=cancel.request_id, rule=cancel.rule, score=cancel.score)
                )
            else:
                cancel_row.request_id, cancel_row.rule = cancel.request_id, cancel.rule
                cancel_row.score = cancel.score
        for cancel_row in old_cancels.values():
            session.delete(cancel_row)
        # Copies that are no longer in any request (became cancellations) lost their links above.
        session.flush()
        self._sync_match_reviews(session, result, keys, {keys[r.id]: firsts.get(r.document_id) for r in component})
        return {r.id for r in component}

    def _migrate_dispositions(
        self,
        session: Session,
        gone: Sequence[str],
        old_requests: dict[str, schema.Request],
        keys: dict[int, str],
        result: dedupe.Assignment,
    ) -> None:
        """Dispositions follow their request when its id changes (its founding copy moved)."""
        for rid in gone:
            disposition = session.scalar(select(schema.Disposition).where(schema.Disposition.request_id == rid))
            if disposition is None:
                continue
            founder_key = keys.get(old_requests[rid].founding_copy_id)
            link = result.links.get(founder_key) if founder_key else None
            target = link.request_id if link else None
            taken = target and session.scalar(
                select(schema.Disposition.id).where(schema.Disposition.request_id == target)
            )
            if target and not taken:
                disposition.request_id = target
            else:
                self._ensure_review(
                    session,
                    f"disposition:{rid}",
                    kind="disposition",
                    reason="disposition_request_merged_or_gone",
                    received_at=None,
                )

    def _sync_match_reviews(
        self,
        session: Session,
        result: dedupe.Assignment,
        keys: dict[int, str],
        arrivals: dict[str, tuple[datetime, int, str] | None],
    ) -> None:
        wanted = {review.key: review for review in result.reviews}
        component_keys = sorted(keys.values())
        existing: dict[str, schema.ReviewItem] = {}
        for chunk in _chunks(component_keys):
            for found in session.scalars(
                select(schema.ReviewItem).where(
                    schema.ReviewItem.kind.in_(DEDUPE_KINDS), schema.ReviewItem.copy_key.in_(chunk)
                )
            ):
                existing[found.key] = found
        for key, stale in existing.items():
            if key not in wanted and stale.status == "open":
                stale.status, stale.resolution, stale.resolved_at = "resolved", "superseded", schema.utcnow()
        for key, review in wanted.items():
            arrival = arrivals.get(review.copy_key)
            item = existing.get(key)
            if item is None:
                session.add(
                    schema.ReviewItem(
                        key=key,
                        kind=review.kind,
                        status="open",
                        reason=review.reason[:128],
                        score=review.score,
                        default_decision=review.default_decision,
                        copy_key=review.copy_key,
                        other_copy_key=review.other_copy_key,
                        document_sha256=review.copy_key.rpartition(":")[0],
                        received_at=arrival[0] if arrival else None,
                    )
                )
            else:
                item.score, item.reason, item.default_decision = (
                    review.score,
                    review.reason[:128],
                    review.default_decision,
                )
                if item.status == "resolved" and item.resolution in AUTO_RESOLUTIONS:
                    item.status, item.resolution, item.resolved_at = "open", None, None

    def _ensure_review(
        self,
        session: Session,
        key: str,
        *,
        kind: str,
        reason: str,
        received_at: datetime | None,
        copy_key: str | None = None,
        document_sha256: str | None = None,
    ) -> None:
        item = session.scalar(select(schema.ReviewItem).where(schema.ReviewItem.key == key))
        if item is None:
            session.add(
                schema.ReviewItem(
                    key=key,
                    kind=kind,
                    status="open",
                    reason=reason,
                    copy_key=copy_key,
                    document_sha256=document_sha256,
                    received_at=received_at,
                )
            )
        else:
            if item.status == "resolved" and item.resolution in AUTO_RESOLUTIONS:
                item.status, item.resolution, item.resolved_at = "open", None, None  # the problem is back
            if received_at is not None and (item.received_at is None or received_at < item.received_at):
                item.received_at = received_at

    def _close_review(self, session: Session, key: str, resolution: str) -> None:
        item = session.scalar(select(schema.ReviewItem).where(schema.ReviewItem.key == key))
        if item is not None and item.status == "open":
            item.status, item.resolution, item.resolved_at = "resolved", resolution, schema.utcnow()

    def rebuild(self) -> int:
        """Recompute every request from scratch (e.g. after changing dedupe settings). Returns copies seen."""
        with self._write() as session:
            rows = list(session.scalars(select(schema.DetainerCopy)))
            done: set[int] = set()
            for row in rows:
                if row.id in done:
                    continue
                done |= self._reassign(session, [row])
            return len(rows)

    # ------------------------------------------------------------------ operator actions

    def _copy_row(self, session: Session, copy: int | str) -> tuple[schema.DetainerCopy, str]:
        if isinstance(copy, str):
            rows = self._copies_by_keys(session, [copy])
            if not rows:
                raise LedgerError("unknown detainer copy")
            row = rows[0]
        else:
            found = session.get(schema.DetainerCopy, copy)
            if found is None:
                raise LedgerError("unknown detainer copy")
            row = found
        return row, self._copy_keys(session, [row])[row.id]

    def correct(self, copy: int | str, field: str, new_value: Any, who: str) -> None:
        """Correct one field of one detainer copy (by id or ``"<sha256>:<index>"``).

        The correction is kept apart from the OCR values and re-applied whenever the document is
        reprocessed; dedupe re-runs with the corrected value in the same transaction.
        """
        if field not in DetainerRequest.model_fields or field in ("evidence",):
            raise LedgerError(f"cannot correct unknown field {field!r}")
        with self._write() as session:
            row, key = self._copy_row(session, copy)
            sha = key.rpartition(":")[0]
            before = dedupe.block_keys(row) | {("id", row.id)}
            effective = apply_corrections(row.fields, self._corrections(session, sha).get(row.index, ()))
            encoded = json.dumps(_jsonable(new_value))
            candidate = apply_corrections(effective, [(field, encoded)])
            try:
                DetainerRequest.model_validate(candidate)
            except ValidationError as exc:
                raise LedgerError(f"invalid value for {field!r}") from exc
            session.add(
                schema.Correction(
                    document_sha256=sha,
                    copy_index=row.index,
                    field=field,
                    old_value=json.dumps(effective.get(field)),
                    new_value=encoded,
                    who=who,
                )
            )
            for name, value in _copy_columns(candidate).items():
                setattr(row, name, value)
            row.unsure = ",".join(f for f in row.unsure.split(",") if f and f != field)
            session.flush()
            _sync_tokens(session, row)
            session.flush()
            self._reassign(session, [row], extra_seed=before)

    def _corrections(self, session: Session, sha256: str) -> dict[int, list[tuple[str, str | None]]]:
        out: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
        rows = session.scalars(
            select(schema.Correction).where(schema.Correction.document_sha256 == sha256).order_by(schema.Correction.id)
        )
        for row in rows:
            out[row.copy_index].append((row.field, row.new_value))
        return out

    def decide(self, copy: int | str, other: int | str, same: bool, who: str) -> None:
        """Operator ruling: these two copies are (``same=True``) or are not the same request."""
        with self._write() as session:
            row_a, key_a = self._copy_row(session, copy)
            row_b, key_b = self._copy_row(session, other)
            if key_a == key_b:
                raise LedgerError("a copy cannot be compared with itself")
            a, b = dedupe.pair(key_a, key_b)
            existing = session.scalar(
                select(schema.MatchDecision).where(schema.MatchDecision.copy_a == a, schema.MatchDecision.copy_b == b)
            )
            if existing is None:
                session.add(schema.MatchDecision(copy_a=a, copy_b=b, same=same, who=who))
            else:
                existing.same, existing.who, existing.at = same, who, schema.utcnow()
            session.flush()
            self._reassign(session, [row_a, row_b])

    def merge(self, copy: int | str, other: int | str, who: str) -> None:
        self.decide(copy, other, True, who)

    def separate(self, copy: int | str, other: int | str, who: str) -> None:
        self.decide(copy, other, False, who)

    def set_disposition(
        self,
        request_id: str,
        outcome: str,
        who: str,
        *,
        reimbursement: Decimal | float | str | None = None,
        note: str | None = None,
    ) -> None:
        if outcome not in OUTCOMES:
            raise LedgerError(f"disposition must be one of {', '.join(OUTCOMES)}")
        with self._write() as session:
            request = session.get(schema.Request, request_id)
            if request is None:
                raise LedgerError("unknown request id")
            founder = self._copy_keys(session, [session.get_one(schema.DetainerCopy, request.founding_copy_id)])
            amount = Decimal(str(reimbursement)) if reimbursement is not None else None
            row = session.scalar(select(schema.Disposition).where(schema.Disposition.request_id == request_id))
            if row is None:
                row = schema.Disposition(request_id=request_id, founding_copy_key="", outcome=outcome, who=who)
                session.add(row)
            row.founding_copy_key = founder[request.founding_copy_id]
            row.outcome, row.reimbursement, row.note, row.who, row.at = (
                outcome,
                amount,
                note,
                who,
                schema.utcnow(),
            )

    def disposition(self, request_id: str) -> dict[str, Any] | None:
        with self._read() as session:
            row = session.scalar(select(schema.Disposition).where(schema.Disposition.request_id == request_id))
            if row is None:
                return None
            return {
                "request_id": row.request_id,
                "outcome": row.outcome,
                "reimbursement": row.reimbursement,
                "note": row.note,
                "who": row.who,
                "at": row.at,
            }

    # ------------------------------------------------------------------ review queue

    def review_items(self, status: str | None = "open", kind: str | None = None) -> list[ReviewView]:
        with self._read() as session:
            query = select(schema.ReviewItem).order_by(schema.ReviewItem.id)
            if status is not None:
                query = query.where(schema.ReviewItem.status == status)
            if kind is not None:
                query = query.where(schema.ReviewItem.kind == kind)
            return [
                ReviewView(
                    id=i.id,
                    kind=i.kind,
                    status=i.status,
                    reason=i.reason,
                    score=i.score,
                    default_decision=i.default_decision,
                    copy_key=i.copy_key,
                    other_copy_key=i.other_copy_key,
                    document_sha256=i.document_sha256,
                    received_at=i.received_at,
                    resolution=i.resolution,
                )
                for i in session.scalars(query)
            ]

    def resolve_review(self, item_id: int, resolution: str, who: str) -> None:
        """Close a review item. For matches: ``merge`` / ``separate`` (recorded as an operator decision)
        or ``accept`` (the default decision becomes the operator's); anything else just closes it."""
        with self._write() as session:
            item = session.get(schema.ReviewItem, item_id)
            if item is None:
                raise LedgerError("unknown review item")
            if item.kind == "possible_detainer":
                if resolution not in (IS_DETAINER, *NOT_DETAINER_WORDS):
                    raise LedgerError(f"a possible detainer is resolved as {IS_DETAINER!r} or {NOT_DETAINER!r}")
                resolution = IS_DETAINER if resolution == IS_DETAINER else NOT_DETAINER
            if item.kind in DEDUPE_KINDS and item.copy_key and item.other_copy_key:
                decision = resolution
                if resolution == "accept":
                    decision = "merge" if item.default_decision in ("merge", "link") else "separate"
                if decision in ("merge", "separate", "link"):
                    a, b = dedupe.pair(item.copy_key, item.other_copy_key)
                    same = decision != "separate"
                    existing = session.scalar(
                        select(schema.MatchDecision).where(
                            schema.MatchDecision.copy_a == a, schema.MatchDecision.copy_b == b
                        )
                    )
                    if existing is None:
                        session.add(schema.MatchDecision(copy_a=a, copy_b=b, same=same, who=who))
                    else:
                        existing.same, existing.who = same, who
            item.status, item.resolution, item.resolved_by, item.resolved_at = (
                "resolved",
                resolution[:32],
                who,
                schema.utcnow(),
            )
            session.flush()
            if item.kind in DEDUPE_KINDS and item.copy_key:
                rows = self._copies_by_keys(session, [k for k in (item.copy_key, item.other_copy_key) if k])
                self._reassign(session, rows)
            if item.kind == "possible_detainer":
                self._decide_possible_detainer(session, item)

    # ------------------------------------------------------------------ reading

    def requests(self) -> list[RequestView]:
        """Every unique request with its arrivals, in order of first arrival."""
        from ledger.metrics import load_snapshot

        with self._read() as session:
            snapshot = load_snapshot(session)
        return snapshot.request_views()

    def copies(self, sha256: str) -> list[dict[str, Any]]:
        """The document's detainer copies (personal data!): ``id``, ``key``, ``index``, ``fields`` (the
        effective DetainerRequest fields: OCR values with corrections applied, JSON form), ``match``
        (the normalised identity dedupe compares) and the ``request_id``/``rule`` it is linked by."""
        with self._read() as session:
            corrections = self._corrections(session, sha256)
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
                    "fields": apply_corrections(row.fields, corrections.get(row.index, ())),
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

    def metrics(self, year: int, tz: str | ZoneInfo = "America/New_York") -> dict[str, Any]:
        """Channel-usage metrics for ``year`` in zone ``tz`` (samplegen/TRUTH.md, "Metric definitions")."""
        from ledger.metrics import compute_metrics, load_snapshot

        with self._read() as session:
            snapshot = load_snapshot(session)
        return compute_metrics(snapshot, year, tz).model_dump()

    def review_effects(self, tz: str | ZoneInfo = "America/New_York") -> dict[int, Effect]:
        """Open review item id -> how far its decision could move the count (``ledger.uncertainty``);
        items that cannot move it are absent."""
        from ledger.metrics import load_snapshot
        from ledger.uncertainty import effects

        with self._read() as session:
            snapshot = load_snapshot(session)
        return {e.item_id: e for e in effects(snapshot, snapshot.open_items, tz)}

    def run_lock(self, name: str = "daily_intake", wait_seconds: float = 0) -> AbstractContextManager[Any]:
        """Hold the named run lock for the ``with`` block; RunLocked if another run holds it."""
        from ledger.lock import run_lock

        return run_lock(self.engine, name, wait_seconds)


def _possible_key(sha256: str) -> str:
    return f"possible_detainer:{sha256}"


def _slug(reason: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", reason.lower()).strip("_")[:64] or "error"


def _facts(row: schema.DetainerCopy, key: str = "", order: tuple[Any, ...] = ()) -> CopyFacts:
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


# Fields whose low-confidence reading may support a match but never rule one out.
UNSURE_FIELDS = ("file_number", "event_number", "date_of_birth")


def _unsure_fields(detainer: DetainerRequest, config: DedupeConfig) -> set[str]:
    """Identity fields the parser read with low confidence or flagged (``field:low_confidence`` etc.)."""
    unsure = set()
    for field in UNSURE_FIELDS:
        evidence = detainer.evidence.get(field)
        if evidence is not None and evidence.confidence < config.trusted_confidence:
            unsure.add(field)
        if any(reason.split(":", 1)[0] == field for reason in detainer.review_reasons):
            unsure.add(field)
    return unsure


def _sync_tokens(session: Session, row: schema.DetainerCopy) -> None:
    """Keep ``copy_tokens`` in line with the copy's (effective) name."""
    session.execute(delete(schema.CopyToken).where(schema.CopyToken.copy_id == row.id))
    for token in sorted(dedupe.name_tokens(row.name)):
        session.add(schema.CopyToken(copy_id=row.id, token=token[:64]))


def _jsonable(value: Any) -> Any:
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
