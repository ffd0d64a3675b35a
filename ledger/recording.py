"""Recording: one arrival and what was read from it, and a document read again.

``record`` writes the document (if new), the receipt, the detainer copies and the request
assignment of every copy the new arrival can affect (``ledger.regrouping``), in the caller's
one transaction: a crash anywhere inside leaves nothing behind. A document read with detainer
evidence but no recognised detainer is a *possible detainer*: on the review queue until a
person rules on it (``decide_possible_detainer``), never silently an other document.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.errors import LedgerError
from ingest.models import Receipt as ReceiptModel
from ledger import components, copy_rows, dedupe, regrouping, review_queue, schema
from ledger.dedupe import DedupeConfig
from ledger.views import RecordOutcome
from parsing.models import DetainerRequest, ExtractionResult

# A possible detainer (parsing.evidence) is resolved either way by a person: it is one (the document
# gains a detainer copy to fill in with ``correct``, counted and deduplicated like any copy) or not.
IS_DETAINER, NOT_DETAINER = "detainer", "not_detainer"
NOT_DETAINER_WORDS = ("accept", "dismiss", NOT_DETAINER)
OPERATOR_COPY_REASON = "copy:added_by_operator"  # its fields are for the operator to fill in (``correct``)


def record(
    session: Session,
    config: DedupeConfig,
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
            return record_outcome(session, "already_known", known, doc, False)
        status = "completed"
    if doc is None:
        doc = schema.Document(sha256=receipt.sha256, size=receipt.size, parse_status="pending", format=format)
        session.add(doc)
        session.flush()
    elif format and not doc.format:
        doc.format = format
    if doc.parse_status == "pending" and (extraction is not None or quarantine is not None):
        fill_document(session, config, doc, extraction, quarantine)
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
        # A file once listed but unreadable (``record_unreadable``) has now been read.
        review_queue.close_review(session, f"quarantine:{receipt.source_key}"[:300], "read_later")
    after_arrival(session, config, doc)
    return record_outcome(session, status, known, doc, new_document)


def fill_document(
    session: Session,
    config: DedupeConfig,
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
            session.add(schema.Quarantine(input_ref=ref, document_id=doc.id, reason=reason[:64], message=message[:512]))
        write_copies(session, config, doc, [])  # a reprocess that fails drops what an older read found
        return
    assert extraction is not None
    if doc.parse_status == "quarantined" or doc.error_reason:
        # A reprocess read what could not be read before: off the quarantine list.
        session.execute(delete(schema.Quarantine).where(schema.Quarantine.input_ref == f"sha256:{doc.sha256}"))
        review_queue.close_review(session, f"quarantine:{doc.sha256}", "reprocessed")
    doc.parse_status, doc.error_reason = "parsed", None
    write_copies(session, config, doc, [*extraction.detainers, *operator_detainers(session, doc, extraction)])


def operator_detainers(session: Session, doc: schema.Document, extraction: ExtractionResult) -> list[DetainerRequest]:
    """The detainer a person said a possible detainer is, while the reading still misses it.

    Once a reprocess recognises the form itself, the read copy takes its place (the operator's
    corrections, keyed by copy index, then apply to it)."""
    if not extraction.possible_detainer_evidence:
        return []
    key = review_queue.possible_key(doc.sha256)
    item = session.scalar(select(schema.ReviewItem).where(schema.ReviewItem.key == key))
    if item is None or item.status != "resolved" or item.resolution != IS_DETAINER:
        return []
    return [DetainerRequest(form_type="I-247A", needs_review=True, review_reasons=[OPERATOR_COPY_REASON])]


def write_copies(
    session: Session, config: DedupeConfig, doc: schema.Document, detainers: Sequence[DetainerRequest]
) -> None:
    """Create or refresh the document's copies from OCR values, corrections applied on top."""
    existing = {
        c.index: c
        for c in session.scalars(select(schema.DetainerCopy).where(schema.DetainerCopy.document_id == doc.id))
    }
    corrections = copy_rows.stored_corrections(session, doc.sha256)
    written = []
    for index, detainer in enumerate(detainers):
        fields = copy_rows.detainer_fields(detainer)
        columns = copy_rows.copy_columns(copy_rows.apply_corrections(fields, corrections.get(index, ())))
        corrected = {field for field, _ in corrections.get(index, ())}
        columns["unsure"] = ",".join(sorted(copy_rows.unsure_fields(detainer, config) - corrected))
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
        copy_rows.sync_tokens(session, row)
    session.flush()


def after_arrival(session: Session, config: DedupeConfig, doc: schema.Document) -> None:
    """Bring requests and review items in line after a document gained a receipt or copies."""
    first = copy_rows.first_arrivals(session, [doc.id])[doc.id]
    if doc.parse_status == "quarantined":
        review_queue.ensure_review(
            session,
            f"quarantine:{doc.sha256}",
            kind="quarantine",
            reason=doc.error_reason or "unreadable",
            document_sha256=doc.sha256,
            received_at=first[0],
        )
    sync_possible_detainer(session, doc, first[0])
    copies = list(session.scalars(select(schema.DetainerCopy).where(schema.DetainerCopy.document_id == doc.id)))
    for row in copies:
        if row.needs_review:
            reasons = row.fields.get("review_reasons") or []
            review_queue.ensure_review(
                session,
                f"copy:{doc.sha256}:{row.index}",
                kind="copy",
                reason=",".join(str(r) for r in reasons)[:128] or "needs_review",
                copy_key=dedupe.copy_key(doc.sha256, row.index),
                document_sha256=doc.sha256,
                received_at=first[0],
            )
    if copies:
        regrouping.reassign(session, config, copies)


def sync_possible_detainer(session: Session, doc: schema.Document, received_at: datetime) -> None:
    """A document read without a recognised detainer but with detainer evidence is on the review
    queue (``possible_detainer``, reason = the evidence slugs), never silently an other document."""
    key = review_queue.possible_key(doc.sha256)
    evidence = (doc.extraction or {}).get("possible_detainer_evidence") or []
    if doc.parse_status != "parsed" or not evidence:
        review_queue.close_review(session, key, "reprocessed")
        return
    reason = ",".join(str(e) for e in evidence)[:128]
    review_queue.ensure_review(
        session, key, kind="possible_detainer", reason=reason, document_sha256=doc.sha256, received_at=received_at
    )
    item = session.scalar(select(schema.ReviewItem).where(schema.ReviewItem.key == key))
    if item is not None and item.status == "open":
        item.reason = reason  # a reprocess may have found other evidence


def decide_possible_detainer(session: Session, config: DedupeConfig, item: schema.ReviewItem) -> None:
    """Apply a person's ruling on a possible detainer: add (or drop) the operator's copy."""
    doc = session.scalar(select(schema.Document).where(schema.Document.sha256 == item.document_sha256))
    if doc is None or doc.extraction is None:
        return
    extraction = ExtractionResult.model_validate(doc.extraction)
    old_keys = components.component_seed(session, doc.id)
    kept = [*extraction.detainers, *operator_detainers(session, doc, extraction)]
    stale = session.scalars(
        select(schema.DetainerCopy.index).where(
            schema.DetainerCopy.document_id == doc.id, schema.DetainerCopy.index >= len(kept)
        )
    ).all()
    write_copies(session, config, doc, kept)
    for index in stale:
        review_queue.close_review(session, f"copy:{doc.sha256}:{index}", "superseded")
    after_arrival(session, config, doc)
    if old_keys:
        regrouping.reassign(session, config, [], extra_seed=old_keys)


def record_outcome(
    session: Session, status: Any, receipt: schema.Receipt, doc: schema.Document, new_document: bool
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


def reprocess(session: Session, config: DedupeConfig, extraction: ExtractionResult) -> None:
    """Replace a known document's extraction (e.g. a better parser); corrections survive."""
    doc = session.scalar(select(schema.Document).where(schema.Document.sha256 == extraction.sha256))
    if doc is None:
        raise LedgerError("reprocess: unknown document")
    old_keys = components.component_seed(session, doc.id)
    doc.parse_status = "pending"
    fill_document(session, config, doc, extraction, None)
    after_arrival(session, config, doc)
    if old_keys:
        regrouping.reassign(session, config, [], extra_seed=old_keys)


def extraction_for(session: Session, sha256: str) -> ExtractionResult | None:
    """What was read from these bytes before (so nothing is OCR'd twice); None if never read."""
    doc = session.scalar(select(schema.Document).where(schema.Document.sha256 == sha256))
    if doc is None or doc.parse_status == "pending":
        return None
    if doc.extraction is not None:
        return ExtractionResult.model_validate(doc.extraction)
    reason = doc.error_reason or "unreadable"
    quarantine = session.scalar(select(schema.Quarantine).where(schema.Quarantine.input_ref == f"sha256:{sha256}"))
    return ExtractionResult(sha256=sha256, error=quarantine.message if quarantine else reason, error_reason=reason)


def is_known(session: Session, source_key: str) -> bool:
    return session.scalar(select(schema.Receipt.id).where(schema.Receipt.source_key == source_key)) is not None


def record_unreadable(
    session: Session, source_key: str, channel: str, reason: str, received_at: datetime, slug: str = "unreadable_file"
) -> None:
    """A file its channel listed but could not read (permissions, an I/O error; ``slug``
    unreadable_file) or did not read (over the input limit: too_large): no bytes were received, so
    no document; a quarantine record and a review item keyed by the file's source
    key, its attempts counted (the item widens the count's range like any unreadable input). Once
    the file can be read it is recorded like any other and the item closes (``read_later``); the
    record stays, saying that it could not be read."""
    ref = source_key[:2048]  # "file:<channel>:<path>:<size>:<mtime>"
    row = session.scalar(select(schema.Quarantine).where(schema.Quarantine.input_ref == ref))
    if row is None:
        message = f"{channel}: the file was not read ({reason}); it stays in its folder and is tried every poll"
        session.add(schema.Quarantine(input_ref=ref, reason=slug[:64], message=message[:512], attempts=1))
        review_queue.ensure_review(session, f"quarantine:{ref}"[:300], kind="quarantine", reason=slug[:64],
                                   received_at=received_at)
    else:
        row.attempts += 1
