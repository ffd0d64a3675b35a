"""Dispositions: what the department did with a request, recorded by a person and kept with the request.

A disposition is keyed by request id and remembers the request's founding copy. When regrouping
replaces a request (its founding copy moved), the disposition follows it to the request that
founding copy now belongs to; when that is impossible, it goes on the review queue.

Every disposition (outcome, reimbursement, note) an operator records is a new row of the decision
log (``ledger.decisions``, kind ``disposition``, with who, OS user, host, when and why);
``schema.Disposition`` holds the latest one, and ``history`` lists them all. A reversal is a
new disposition.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import LedgerError
from ledger import copy_rows, decisions, dedupe, review_queue, schema
from ledger.decisions import Actor
from ledger.unit_of_work import chunks

OUTCOMES = ("not_acted_upon", "detained", "transferred")


def _state(row: schema.Disposition | None) -> dict[str, Any] | None:
    if row is None:
        return None
    amount = row.reimbursement
    return {"outcome": row.outcome, "reimbursement": None if amount is None else str(amount), "note": row.note}


def set_disposition(
    session: Session,
    request_id: str,
    outcome: str,
    by: Actor,
    reimbursement: Decimal | float | str | None,
    note: str | None,
) -> None:
    if outcome not in OUTCOMES:
        raise LedgerError(f"disposition must be one of {', '.join(OUTCOMES)}")
    request = session.get(schema.Request, request_id)
    if request is None:
        raise LedgerError("unknown request id")
    founder = copy_rows.copy_keys(session, [session.get_one(schema.DetainerCopy, request.founding_copy_id)])
    founder_key = founder[request.founding_copy_id]
    try:
        amount = Decimal(str(reimbursement)).quantize(Decimal("0.01")) if reimbursement is not None else None
    except ArithmeticError as exc:
        raise LedgerError("reimbursement must be an amount, e.g. 1250.00") from exc
    row = session.scalar(select(schema.Disposition).where(schema.Disposition.request_id == request_id))
    new = {"outcome": outcome, "reimbursement": None if amount is None else str(amount), "note": note}
    act = decisions.record(
        session,
        "disposition",
        request_id,
        by if by.why is not None else Actor(by.who, by.os_user, by.host, note),
        field="disposition",
        old=_state(row),
        new=new,
        copy_key=founder_key,
        request_id=request_id,
    )
    # The current disposition is the latest decision's.
    current = decisions.decode(act.new_value)
    if row is None:
        row = schema.Disposition(request_id=request_id, founding_copy_key="", outcome=outcome, who=act.who)
        session.add(row)
    row.founding_copy_key = founder_key
    row.outcome, row.reimbursement, row.note, row.who, row.at = (
        current["outcome"],
        Decimal(current["reimbursement"]) if current["reimbursement"] is not None else None,
        current["note"],
        act.who,
        act.at,
    )


def history(session: Session, request_id: str) -> list[dict[str, Any]]:
    """Every disposition recorded for the request, oldest first: under this id, or for one of its
    copies as a founding copy (recorded before the request took this id, when an earlier copy
    arrived late or a merge changed its founder). Outcome, reimbursement, note, the request id it
    was recorded under, who, OS user, host, when, why."""
    keys = {
        f"{sha}:{index}"
        for sha, index in session.execute(
            select(schema.Document.sha256, schema.DetainerCopy.index)
            .join(schema.DetainerCopy, schema.DetainerCopy.document_id == schema.Document.id)
            .join(schema.RequestLink, schema.RequestLink.copy_id == schema.DetainerCopy.id)
            .where(schema.RequestLink.request_id == request_id)
        ).tuples()
    }
    row = session.scalar(select(schema.Disposition).where(schema.Disposition.request_id == request_id))
    if row is not None:
        keys.add(row.founding_copy_key)
    condition = schema.Decision.subject == request_id
    for chunk in chunks(sorted(keys)):
        condition = condition | schema.Decision.copy_key.in_(chunk)
    out = []
    query = select(schema.Decision).where(schema.Decision.kind == "disposition", condition)
    for act in session.scalars(query.order_by(schema.Decision.id)):
        value = decisions.decode(act.new_value) or {}
        out.append(
            {
                **value,
                "request_id": act.request_id,
                "who": act.who,
                "os_user": act.os_user,
                "host": act.host,
                "at": act.at,
                "why": act.why,
            }
        )
    return out


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
