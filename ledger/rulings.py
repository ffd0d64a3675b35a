"""Operator rulings: two copies are or are not one request, and the closing of review items.

A ruling on two copies (``schema.MatchDecision``) overrides every dedupe rule and survives
reprocessing; the copies' components are regrouped in the same transaction. Resolving a
possible detainer as one gives its document a detainer copy to fill in (``ledger.recording``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import LedgerError
from core.keys import CopyKey
from ledger import copy_rows, dedupe, recording, regrouping, review_queue, schema
from ledger.dedupe import DedupeConfig
from ledger.recording import IS_DETAINER, NOT_DETAINER, NOT_DETAINER_WORDS


def decide(session: Session, config: DedupeConfig, copy: int | str, other: int | str, same: bool, who: str) -> None:
    """Operator ruling: these two copies are (``same=True``) or are not the same request."""
    row_a, key_a = copy_rows.find_copy(session, copy)
    row_b, key_b = copy_rows.find_copy(session, other)
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
    regrouping.reassign(session, config, [row_a, row_b])


def resolve_review(session: Session, config: DedupeConfig, item_id: int, resolution: str, who: str) -> None:
    """Close a review item. For matches: ``merge`` / ``separate`` (recorded as an operator decision)
    or ``accept`` (the default decision becomes the operator's); anything else just closes it."""
    item = session.get(schema.ReviewItem, item_id)
    if item is None:
        raise LedgerError("unknown review item")
    if item.kind == "possible_detainer":
        if resolution not in (IS_DETAINER, *NOT_DETAINER_WORDS):
            raise LedgerError(f"a possible detainer is resolved as {IS_DETAINER!r} or {NOT_DETAINER!r}")
        resolution = IS_DETAINER if resolution == IS_DETAINER else NOT_DETAINER
    if item.kind in review_queue.DEDUPE_KINDS and item.copy_key and item.other_copy_key:
        decision = resolution
        if resolution == "accept":
            decision = "merge" if item.default_decision in ("merge", "link") else "separate"
        if decision in ("merge", "separate", "link"):
            a, b = dedupe.pair(item.copy_key, item.other_copy_key)
            same = decision != "separate"
            existing = session.scalar(
                select(schema.MatchDecision).where(schema.MatchDecision.copy_a == a, schema.MatchDecision.copy_b == b)
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
    if item.kind in review_queue.DEDUPE_KINDS and item.copy_key:
        rows = copy_rows.copies_by_keys(session, [CopyKey.parse(k) for k in (item.copy_key, item.other_copy_key) if k])
        regrouping.reassign(session, config, rows)
    if item.kind == "possible_detainer":
        recording.decide_possible_detainer(session, config, item)
