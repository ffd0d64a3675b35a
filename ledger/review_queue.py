"""The review queue as the ledger itself keeps it: items opened, reopened and closed as the data changes.

An item has a stable key (``quarantine:<ref>``, ``copy:<copy key>``, ``possible_detainer:<sha256>``,
``disposition:<request id>``, or dedupe's key for a match or cancellation), so the same problem
is never queued twice. Items the ledger closed itself (``AUTO_RESOLUTIONS``) reopen when the
problem comes back; a person's resolution stands. The operator's side is ``ledger.rulings``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.keys import CopyKey
from ledger import dedupe, schema
from ledger.unit_of_work import chunks

DEDUPE_KINDS = ("match", "cancellation")
AUTO_RESOLUTIONS = ("superseded", "reprocessed")  # closed by the ledger itself, not by a person


def possible_key(sha256: str) -> str:
    return f"possible_detainer:{sha256}"


def ensure_review(
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


def close_review(session: Session, key: str, resolution: str) -> None:
    item = session.scalar(select(schema.ReviewItem).where(schema.ReviewItem.key == key))
    if item is not None and item.status == "open":
        item.status, item.resolution, item.resolved_at = "resolved", resolution, schema.utcnow()


def sync_match_reviews(
    session: Session,
    result: dedupe.Assignment,
    keys: dict[int, str],
    arrivals: dict[str, tuple[datetime, int, str] | None],
) -> None:
    """Bring the component's match and cancellation items in line with dedupe's ``result``."""
    wanted = {review.key: review for review in result.reviews}
    component_keys = sorted(keys.values())
    existing: dict[str, schema.ReviewItem] = {}
    for chunk in chunks(component_keys):
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
                    document_sha256=CopyKey.parse(review.copy_key).document_sha256,
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
