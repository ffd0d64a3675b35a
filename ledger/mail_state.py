"""Mail state: which messages of the BFS mailbox were handled, failed or quarantined (``ingest.state``).

A message is *handled* once its record is committed, in the same transaction as its documents
(``record_message``). A message that keeps failing is quarantined after its last allowed attempt:
on the quarantine list and the review queue, until an operator releases it. Reasons and messages
stored here carry no personal data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ingest.models import MailMessage, RejectedPart
from ingest.models import Receipt as ReceiptModel
from ledger import recording, review_queue, schema
from ledger.dedupe import DedupeConfig
from ledger.views import RecordOutcome
from parsing.models import ExtractionResult

# Rejected mail parts that may hold a document (too big to take, nested too deep): quarantined, never silent.
QUARANTINED_PARTS = ("too_large", "nested_too_deep")


def known_source_keys(session: Session, prefix: str) -> set[str]:
    """Source keys of every recorded arrival starting with ``prefix``."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = session.scalars(
        select(schema.Receipt.source_key).where(schema.Receipt.source_key.like(escaped + "%", escape="\\"))
    )
    return set(rows)


def mail_statuses(session: Session, prefix: str) -> dict[str, str]:
    """The status (handled | failed | quarantined) of every message recorded under a key starting with ``prefix``."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = session.execute(
        select(schema.MailMessage.message_key, schema.MailMessage.status).where(
            schema.MailMessage.message_key.like(escaped + "%", escape="\\")
        )
    )
    return {key: status for key, status in rows}


def mail_attempts(session: Session, message_key: str) -> int:
    row = session.scalar(select(schema.MailMessage).where(schema.MailMessage.message_key == message_key))
    return row.attempts if row else 0


def mail_handled(session: Session, message_key: str) -> bool:
    """True once the message's record is committed (with or without documents), or it is quarantined."""
    row = session.scalar(select(schema.MailMessage).where(schema.MailMessage.message_key == message_key))
    return row is not None and row.status in ("handled", "quarantined")


def mail_failure(session: Session, message_key: str, reason: str, quarantined: bool, message: str) -> int:
    """Count one failed attempt at a message; returns the attempts so far.

    ``quarantined``: this was the last allowed attempt; the message goes on the quarantine list
    and the review queue. ``reason``/``message`` must carry no personal data.
    """
    row = mail_row(session, message_key)
    row.attempts += 1
    row.last_error = reason[:256]
    row.updated_at = schema.utcnow()
    row.status = "failed"
    if quarantined:
        row.status = "quarantined"
        slug = reason_slug(reason.partition(":")[0])  # "malformed_message: <detail>" (MailMessage.error) -> its slug
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
        review_queue.ensure_review(
            session,
            f"quarantine:{ref}"[:300],
            kind="quarantine",
            reason=slug,
            received_at=row.updated_at,
        )
    return row.attempts


def reset_mail_attempts(session: Session, message_key: str) -> None:
    """Release a quarantined (or failing) message: the next run fetches it again from scratch."""
    row = session.scalar(select(schema.MailMessage).where(schema.MailMessage.message_key == message_key))
    if row is not None and row.status != "handled":
        row.attempts, row.status, row.updated_at = 0, "failed", schema.utcnow()
    session.execute(delete(schema.Quarantine).where(schema.Quarantine.input_ref == f"mail:{message_key}"))


def mark_handled(
    session: Session, message_key: str, message_id: str | None, sha256: str | None, n_documents: int
) -> None:
    """The message's record is committed: it is never fetched again."""
    row = mail_row(session, message_key)
    row.status, row.message_id, row.sha256, row.n_documents = "handled", message_id, sha256, n_documents
    row.updated_at = schema.utcnow()


def record_message(
    session: Session,
    config: DedupeConfig,
    message: MailMessage,
    documents: Sequence[tuple[ReceiptModel, ExtractionResult | None, tuple[str, str] | None]] = (),
) -> list[RecordOutcome]:
    """Commit one mail message in ONE transaction: its documents (as ``record`` would) and the
    message record (handled), or, when ``message.error`` is set, one failed attempt.

    ``documents`` are the ledger inputs for ``message.documents``; ``message.already_received``
    (arrivals committed before under another key) are not recorded again.
    """
    if message.error is not None:
        mail_failure(session, message.message_key, message.error, message.quarantined, message.error)
        return []
    outcomes = [
        recording.record(session, config, receipt, extraction, quarantine, None)
        for receipt, extraction, quarantine in documents
    ]
    mark_handled(session, message.message_key, message.message_id, message.raw_sha256, len(message.documents))
    for part in message.rejected_parts:
        if part.reason in QUARANTINED_PARTS:
            quarantine_part(session, message, part)
    return outcomes


def quarantine_part(session: Session, message: MailMessage, part: RejectedPart) -> None:
    """A part that may hold a document the intake did not take: on the quarantine list and the review queue.

    Its bytes stay in the archived raw message. No file name in the text (it may carry a name).
    """
    ref = f"mail:{message.message_key};part={part.part}"
    if session.scalar(select(schema.Quarantine.id).where(schema.Quarantine.input_ref == ref)) is None:
        text = f"mail part {part.part} ({part.content_type}, {part.size} bytes) not taken: {part.reason}"
        session.add(schema.Quarantine(input_ref=ref, reason=part.reason, message=text[:512], attempts=1))
    review_queue.ensure_review(
        session, f"quarantine:{ref}"[:300], kind="quarantine", reason=part.reason, received_at=message.received_at
    )


def mail_row(session: Session, message_key: str) -> schema.MailMessage:
    row = session.scalar(select(schema.MailMessage).where(schema.MailMessage.message_key == message_key))
    if row is None:
        row = schema.MailMessage(message_key=message_key, status="failed", attempts=0)
        session.add(row)
        session.flush()
    return row


def reason_slug(reason: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", reason.lower()).strip("_")[:64] or "error"
