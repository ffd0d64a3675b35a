"""Regrouping: copies into requests, recomputed for the component of a change.

``reassign`` re-runs ``ledger.dedupe.assign`` over the component of some copies
(``ledger.components``) and brings the stored requests, links, cancellations, match reviews
and dispositions in line with the result, in the caller's transaction. Request ids derive from
the founding copy, so a request whose founder changed is replaced (its disposition follows it).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ledger import components, copy_rows, dedupe, dispositions, review_queue, schema
from ledger.dedupe import DedupeConfig
from ledger.unit_of_work import chunks


def reassign(
    session: Session,
    config: DedupeConfig,
    rows: Sequence[schema.DetainerCopy],
    extra_seed: set[tuple[str, object]] | None = None,
) -> set[int]:
    """Recompute requests, links, cancellations and match reviews for the component of ``rows``.

    Returns the ids of the copies in the component."""
    seed: set[tuple[str, object]] = set(extra_seed or ())
    for row in rows:
        seed |= dedupe.block_keys(row)
        seed.add(("id", row.id))
    component = components.component(session, config, seed)
    if not component:
        return set()
    keys = copy_rows.copy_keys(session, component)
    by_key = {keys[r.id]: r for r in component}
    firsts = copy_rows.first_arrivals(session, {r.document_id for r in component})
    facts = [
        copy_rows.facts(r, keys[r.id], (*firsts[r.document_id], r.index)) for r in component if r.document_id in firsts
    ]
    result = dedupe.assign(facts, config, decisions(session, list(keys.values())))
    copy_ids = [r.id for r in component]

    # Requests: old ones of this component (linked to, or founded by, its copies).
    old_links = {
        link.copy_id: link
        for chunk in chunks(copy_ids)
        for link in session.scalars(select(schema.RequestLink).where(schema.RequestLink.copy_id.in_(chunk)))
    }
    old_requests = {
        req.id: req
        for chunk in chunks(copy_ids)
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
    dispositions.follow_requests(session, gone, old_requests, keys, result)
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
        for chunk in chunks(copy_ids)
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
    review_queue.sync_match_reviews(session, result, keys, {keys[r.id]: firsts.get(r.document_id) for r in component})
    return {r.id for r in component}


def decisions(session: Session, keys: Sequence[str]) -> dict[tuple[str, str], bool]:
    out: dict[tuple[str, str], bool] = {}
    for chunk in chunks(sorted(keys)):
        for row in session.scalars(
            select(schema.MatchDecision).where(
                or_(schema.MatchDecision.copy_a.in_(chunk), schema.MatchDecision.copy_b.in_(chunk))
            )
        ):
            out[(row.copy_a, row.copy_b)] = row.same
    return out


def regroup(session: Session, config: DedupeConfig) -> None:
    """Re-run dedupe over every copy: after a migration gave copies a new identity column,
    or a change of the matching rules. Operator decisions and corrections hold as always."""
    rows = session.scalars(select(schema.DetainerCopy).order_by(schema.DetainerCopy.id)).all()
    if rows:
        reassign(session, config, rows)


def rebuild(session: Session, config: DedupeConfig) -> int:
    """Recompute every request from scratch (e.g. after changing dedupe settings). Returns copies seen."""
    rows = list(session.scalars(select(schema.DetainerCopy)))
    done: set[int] = set()
    for row in rows:
        if row.id in done:
            continue
        done |= reassign(session, config, [row])
    return len(rows)
