"""Keys and identifiers: copy keys, request ids, the blocks copies can match in, and how
far apart two identifiers are in OCR slips."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from typing import Protocol

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from ledger.dedupe_rules.names import name_tokens


def copy_key(sha256: str, index: int) -> str:
    return f"{sha256}:{index}"


def request_id_for(founding_copy_key: str) -> str:
    """A stable request id from the founding copy's content key (no personal data in it)."""
    return "REQ-" + hashlib.sha256(founding_copy_key.encode()).hexdigest()[:12].upper()


def pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


class Identity(Protocol):
    """What ``block_keys`` reads: a CopyFacts, or a stored ``ledger.schema.DetainerCopy`` row."""

    @property
    def file_number(self) -> str | None: ...
    @property
    def event_number(self) -> str | None: ...
    @property
    def subject_id(self) -> str | None: ...
    @property
    def dob(self) -> date | None: ...
    @property
    def name(self) -> str | None: ...


def block_keys(copy: Identity) -> set[tuple[str, object]]:
    """Keys under which copies can possibly match: copies sharing none never interact."""
    keys: set[tuple[str, object]] = set()
    if copy.file_number:
        keys.add(("file", copy.file_number))
    if copy.event_number:
        keys.add(("event", copy.event_number))
    if copy.subject_id:
        keys.add(("subject", copy.subject_id))
    if copy.dob:
        keys.add(("dob", copy.dob))
    return keys


SAME, FAR = 0, 99  # identifier closeness: 0 = equal, 1-2 = OCR slips apart, FAR = different


def closeness(value: str | None, known: set[str]) -> int | None:
    """How far ``value`` is from the nearest of ``known``: 0, 1 or 2 edits (OCR slips), FAR, or None
    when either side has no value. Slips only count on identifiers long enough to tell them from
    another identifier: one edit from 6 characters, two from 8 (A-numbers have 10, event numbers 13)."""
    if not value or not known:
        return None
    best = FAR
    for k in known:
        distance = Levenshtein.distance(value, k, score_cutoff=2)
        shorter = min(len(value), len(k))
        if distance == 0 or (distance == 1 and shorter >= 6) or (distance == 2 and shorter >= 8):
            best = min(best, distance)
    return best


def token_linked(a: Identity, b: Identity) -> bool:
    """Copies tied without sharing a ``block_keys`` key: a word of the name in common and an
    identifier an OCR slip or two apart. Symmetric, and all ``assign`` looks at beyond the blocks,
    so the ledger recomputes exactly the copies such a tie connects."""
    if not name_tokens(a.name) & name_tokens(b.name):
        return False
    return bool(
        slipped(a.file_number, [b.file_number])
        or slipped(a.event_number, [b.event_number])
        or slipped(a.subject_id, [b.subject_id])
    )


def slipped(value: str | None, candidates: Sequence[str | None]) -> set[int]:
    """Indexes of ``candidates`` equal to ``value`` or an OCR slip or two from it (as ``closeness``)."""
    if not value:
        return set()
    found = process.extract(value, candidates, scorer=Levenshtein.distance, score_cutoff=2, limit=None, processor=None)
    return {index for other, _, index in found if other and closeness(value, {other}) in (SAME, 1, 2)}
