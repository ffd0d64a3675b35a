"""Operator rulings: two copies are or are not one request, and the closing of review items.

A ruling on two copies overrides every dedupe rule and survives reprocessing; the copies'
components are regrouped in the same transaction. Every ruling and every resolution is a new
row of the decision log (``ledger.decisions``); ``schema.MatchDecision`` holds the pair's latest
ruling, the review item its latest resolution. Resolving a possible detainer as one gives its
document a detainer copy to fill in (``ledger.recording``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import LedgerError
from core.keys import CopyKey
from ledger import copy_rows, decisions, dedupe, recording, regrouping, review_queue, schema
from ledger.decisions import Actor
from ledger.dedupe import DedupeConfig
from ledger.recording import IS_DETAINER, NOT_DETAINER, NOT_DETAINER_WORDS


def rule_pair(session: Session, key_a: str, key_b: str, same: bool, by: Actor) -> None:
    """Append a ruling on two copies (by key) and make it the pair's current one (latest wins)."""
    a, b = dedupe.pair(key_a, key_b)
    subject = decisions.pair_subject(a, b)
    before = decisions.latest(session, "match", subject)
    decisions.record(
        session,
        "match",
        subject,
        by,
        field="same",
        old=decisions.decode(before.new_value) if before else None,
        new=same,
        copy_key=a,
        other_copy_key=b,
        request_id=decisions.request_of(session, a),
    )
    current = decisions.latest(session, "match", subject)
    assert current is not None
    existing = session.scalar(
        select(schema.MatchDecision).where(schema.MatchDecision.copy_a == a, schema.MatchDecision.copy_b == b)
    )
    if existing is None:
        existing = schema.MatchDecision(copy_a=a, copy_b=b, same=same, who=current.who)
        session.add(existing)
    existing.same, existing.who, existing.at = bool(decisions.decode(current.new_value)), current.who, current.at


def decide(session: Session, config: DedupeConfig, copy: int | str, other: int | str, same: bool, by: Actor) -> None:
    """Operator ruling: these two copies are (``same=True``) or are not the same request."""
    row_a, key_a = copy_rows.find_copy(session, copy)
    row_b, key_b = copy_rows.find_copy(session, other)
    if key_a == key_b:
        raise LedgerError("a copy cannot be compared with itself")
    rule_pair(session, key_a, key_b, same, by)
    session.flush()
    regrouping.reassign(session, config, [row_a, row_b])


def resolve_review(session: Session, config: DedupeConfig, item_id: int, resolution: str, by: Actor) -> None:
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
            rule_pair(session, item.copy_key, item.other_copy_key, decision != "separate", by)
    act = decisions.record(
        session,
        "review",
        item.key,
        by,
        field="resolution",
        old={"status": item.status, "resolution": item.resolution},
        new={"status": "resolved", "resolution": resolution[:32]},
        copy_key=item.copy_key,
        other_copy_key=item.other_copy_key,
        document_sha256=item.document_sha256,
        request_id=decisions.request_of(session, item.copy_key) if item.copy_key else None,
    )
    item.status, item.resolution, item.resolved_by, item.resolved_at = (
        "resolved",
        resolution[:32],
        act.who,
        act.at,
    )
    session.flush()
    if item.kind in review_queue.DEDUPE_KINDS and item.copy_key:
        rows = copy_rows.copies_by_keys(session, [CopyKey.parse(k) for k in (item.copy_key, item.other_copy_key) if k])
        regrouping.reassign(session, config, rows)
    if item.kind == "possible_detainer":
        recording.decide_possible_detainer(session, config, item)
