"""The component of a change: every copy a change to some copies could regroup.

Request assignment is recomputed, never patched: after a change, the connected *component* of
copies that could possibly match (sharing an A-number, an event number or a date of birth, a
word of the name with identifiers a slip apart or arrivals within the issue window, or tied by
an operator decision) is re-run through ``ledger.dedupe.assign`` (``ledger.regrouping``).
Components are independent, so the stored state always equals a from-scratch assignment of
every copy: the same inputs in any order give the same requests, links and metrics.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.keys import CopyKey
from ledger import copy_rows, dedupe, schema
from ledger.dedupe import DedupeConfig
from ledger.unit_of_work import chunks


def component_seed(session: Session, doc_id: int) -> set[tuple[str, object]]:
    """The document's copies as a seed: regrouping from it reaches every copy they were tied to."""
    rows = session.scalars(select(schema.DetainerCopy).where(schema.DetainerCopy.document_id == doc_id))
    seed: set[tuple[str, object]] = set()
    for row in rows:
        seed |= dedupe.block_keys(row)
        seed.add(("id", row.id))
    return seed


def component(session: Session, config: DedupeConfig, seed: set[tuple[str, object]]) -> list[schema.DetainerCopy]:
    """Every copy transitively tied to the seed: sharing an A-number, event number or birth date,
    an operator decision, or a word of the name with identifiers a slip apart (``token_linked``)
    or with arrivals within the issue window (``arrival_partners``)."""
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
                for key_chunk in chunks(sorted(values)):  # type: ignore[type-var]
                    fresh += copy_rows.copies_by_keys(session, [CopyKey.parse(k) for k in key_chunk])
                continue
            for chunk in chunks(values):
                fresh += session.scalars(select(schema.DetainerCopy).where(columns[kind].in_(chunk))).all()
        new_rows = [row for row in fresh if row.id not in found]
        for row in new_rows:
            found[row.id] = row
        if new_rows:
            keys = copy_rows.copy_keys(session, new_rows)
            todo |= {("key", k) for k in decided_partners(session, list(keys.values()))}
            for row in new_rows:
                todo |= dedupe.block_keys(row)
            todo |= {("id", cid) for cid in name_partners(session, new_rows, found)}
            todo |= {("id", cid) for cid in arrival_partners(session, config, new_rows, found)}
        todo -= done
    return sorted(found.values(), key=lambda r: r.id)


def name_partners(
    session: Session, rows: Sequence[schema.DetainerCopy], found: dict[int, schema.DetainerCopy]
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
    for chunk in chunks(sorted(by_token)):
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


def arrival_partners(
    session: Session, config: DedupeConfig, rows: Sequence[schema.DetainerCopy], found: dict[int, schema.DetainerCopy]
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
    for chunk in chunks(sorted(tokens)):
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
    firsts = copy_rows.first_arrivals(session, documents)
    window = timedelta(days=config.issued_window_days + 1)
    partners: set[int] = set()
    for token, pairs in others.items():
        for row in tokens[token]:
            mine = firsts.get(row.document_id)
            for other_id, document_id in pairs:
                theirs = firsts.get(document_id)
                if mine and theirs and abs(mine[0] - theirs[0]) <= window:
                    partners.add(other_id)
    return partners


def decided_partners(session: Session, keys: Sequence[str]) -> set[str]:
    """Copy keys an operator ruled on together with one of ``keys`` (either way)."""
    partners: set[str] = set()
    for chunk in chunks(sorted(keys)):
        rows = session.execute(
            select(schema.MatchDecision.copy_a, schema.MatchDecision.copy_b).where(
                or_(schema.MatchDecision.copy_a.in_(chunk), schema.MatchDecision.copy_b.in_(chunk))
            )
        )
        for a, b in rows:
            partners |= {a, b}
    return partners
