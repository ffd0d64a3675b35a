"""Dispositions: what the department did with a request, recorded by a person and kept with the request.

A disposition is keyed by request id and remembers the request's founding copy. When regrouping
replaces a request (its founding copy moved), the disposition follows it to the request that
founding copy now belongs to; when that is impossible, it goes on the review queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import LedgerError
from ledger import copy_rows, dedupe, review_queue, schema

OUTCOMES = ("not_acted_upon", "detained", "transferred")


def set_disposition(
    session: Session,
    request_id: str,
    outcome: str,
    who: str,
    reimbursement: Decimal | float | str | None,
    note: str | None,
) -> None:
    if outcome not in OUTCOMES:
        raise LedgerError(f"disposition must be one of {', '.join(OUTCOMES)}")
    request = session.get(schema.Request, request_id)
    if request is None:
        raise LedgerError("unknown request id")
    founder = copy_rows.copy_keys(session, [session.get_one(schema.DetainerCopy, request.founding_copy_id)])
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


def disposition(session: Session, request_id: str) -> dict[str, Any] | None:
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


def follow_requests(
    session: Session,
    gone: Sequence[str],
    old_requests: dict[str, schema.Request],
    keys: dict[int, str],
    result: dedupe.Assignment,
) -> None:
    """Dispositions follow their request when its id changes (its founding copy moved)."""
    for rid in gone:
        found = session.scalar(select(schema.Disposition).where(schema.Disposition.request_id == rid))
        if found is None:
            continue
        founder_key = keys.get(old_requests[rid].founding_copy_id)
        link = result.links.get(founder_key) if founder_key else None
        target = link.request_id if link else None
        taken = target and session.scalar(select(schema.Disposition.id).where(schema.Disposition.request_id == target))
        if target and not taken:
            found.request_id = target
        else:
            review_queue.ensure_review(
                session,
                f"disposition:{rid}",
                kind="disposition",
                reason="disposition_request_merged_or_gone",
                received_at=None,
            )
