"""Cross-channel dedupe: detainer copies -> unique requests. Pure functions over plain data.

The same detainer reaches the department by the dedicated fax line, a station's fax and
the BFS mailbox, as different bytes. ``assign`` groups every copy into requests with
these rules, in order, each recorded with its reason:

1. identical bytes (same SHA-256): one document, so literally the same copies;
2. ``same_identity``: same A-number (file number) and same event number;
3. ``fuzzy``: same A-number, or same name (OCR-tolerant) and date of birth, with issued
   dates at most ``issued_window_days`` apart and no conflicting event number.

Never merged: different event numbers, issued dates further apart than the window,
different A-numbers (a one-character difference is offered for review, default separate).
A copy whose cancel box is checked is a cancellation notice: linked to the request it
cancels, never counted as a request. Matches scoring below ``review_below`` are merged
(their default) but also queued for review; near misses stay separate and are queued.
Operator decisions (same / not the same) override all of this.

Order independence: ``assign`` sorts copies by their document's first arrival (then a
stable key) and walks them greedily, so the result depends only on the set of copies.
Request ids derive from the founding (earliest) copy's content key.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

RULE_FIRST = "first"
RULE_SAME_CONTENT = "same_content"  # a further arrival of identical bytes (RequestView.receipt_rules)
RULE_SAME_IDENTITY = "same_identity"
RULE_FUZZY = "fuzzy"
RULE_OPERATOR = "operator_merge"
RULE_CANCELS = "cancels"
RULE_UNLINKED = "unlinked"
NEAR_NAME_MARGIN = 15.0  # name scores this far below name_similarity (same birth date) are offered for review

_OCR_DIGITS = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "|": "1", "S": "5", "B": "8", "Z": "2"})
_OCR_LETTERS = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "6": "G", "4": "A", "3": "E", "7": "T"})


@dataclass(frozen=True)
class DedupeConfig:
    issued_window_days: int = 3
    name_similarity: float = 90.0
    review_below: float = 95.0

    @classmethod
    def from_settings(cls, settings: Any) -> DedupeConfig:
        return cls(
            issued_window_days=settings.issued_window_days,
            name_similarity=settings.name_similarity,
            review_below=settings.review_below,
        )


@dataclass(frozen=True)
class CopyFacts:
    """The identity of one detainer copy (effective values: OCR with corrections applied)."""

    key: str  # stable content key "<document sha256>:<index>"
    order: tuple[Any, ...]  # sort key: (first arrival, channel rank, source key, ...) of its document
    file_number: str | None = None  # normalised (normalize_file_number)
    event_number: str | None = None  # normalised (normalize_event_number)
    issued_date: date | None = None
    name: str | None = None  # normalised (normalize_name)
    dob: date | None = None
    cancels_previous: bool = False
    cancelled_detainer_date: date | None = None


@dataclass(frozen=True)
class Link:
    copy_key: str
    request_id: str
    rule: str
    score: float


@dataclass(frozen=True)
class CancelLink:
    copy_key: str
    request_id: str | None
    rule: str
    score: float


@dataclass(frozen=True)
class Review:
    """A match the rules could not settle with confidence. Reasons are slugs, never values."""

    key: str
    kind: str  # match | cancellation
    copy_key: str
    other_copy_key: str | None
    score: float
    default_decision: str  # merge | separate | link | none
    reason: str


@dataclass
class Assignment:
    requests: dict[str, str] = field(default_factory=dict)  # request id -> founding copy key
    members: dict[str, list[str]] = field(default_factory=dict)  # request id -> copy keys, in order
    links: dict[str, Link] = field(default_factory=dict)  # copy key -> link (requests only)
    cancellations: dict[str, CancelLink] = field(default_factory=dict)  # copy key -> link
    reviews: list[Review] = field(default_factory=list)


# --------------------------------------------------------------------------- normalisation


def normalize_file_number(value: str | None) -> str | None:
    """A-numbers as ``A`` + 9 digits; OCR look-alikes (O/I/S/B) read as digits."""
    if not value:
        return None
    text = re.sub(r"[^0-9A-Za-z|]", "", value).upper()
    if text.startswith("A"):
        text = text[1:]
    digits = text.translate(_OCR_DIGITS)
    if digits.isdigit() and 7 <= len(digits) <= 9:
        return "A" + digits.zfill(9)
    return ("A" + text) if text else None


def normalize_event_number(value: str | None) -> str | None:
    """Event numbers are opaque: upper-case alphanumerics, OCR look-alikes folded to digits."""
    if not value:
        return None
    text = re.sub(r"[^0-9A-Za-z]", "", value).upper().translate(_OCR_DIGITS)
    return text or None


def normalize_name(value: str | None) -> str | None:
    """Upper-case letters and single spaces; accents dropped; OCR digits read as letters."""
    if not value:
        return None
    text = unicodedata.normalize("NFKD", value)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper().translate(_OCR_LETTERS)
    text = re.sub(r"[^A-Z]+", " ", text).strip()
    return text or None


def _skeleton(name: str) -> str:
    """A name with letters OCR confuses folded together (l/I, rn/m, vv/w): for comparison only."""
    return name.replace("RN", "M").replace("VV", "W").replace("L", "I")


def name_score(a: str | None, b: str | None) -> float | None:
    """0-100 similarity of two normalised names, tolerant of order and OCR slips; None if unknown."""
    if not a or not b:
        return None
    if a == b:
        return 100.0
    score = fuzz.token_sort_ratio(a, b)
    # Names that differ only by letters OCR confuses: likely the same, never certain enough to skip review.
    score = max(score, min(94.0, fuzz.token_sort_ratio(_skeleton(a), _skeleton(b))))
    # A name printed with a middle name on one copy and without on another: a subset match,
    # never confident enough to merge silently.
    shorter = min(a, b, key=len)
    if len(shorter.split()) >= 2:
        score = max(score, 0.94 * fuzz.token_set_ratio(a, b))
    return round(float(score), 2)


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
    def dob(self) -> date | None: ...


def block_keys(copy: Identity) -> set[tuple[str, object]]:
    """Keys under which copies can possibly match: copies sharing none never interact."""
    keys: set[tuple[str, object]] = set()
    if copy.file_number:
        keys.add(("file", copy.file_number))
    if copy.event_number:
        keys.add(("event", copy.event_number))
    if copy.dob:
        keys.add(("dob", copy.dob))
    return keys


# --------------------------------------------------------------------------- matching


@dataclass
class _Request:
    id: str
    order: int
    founder: CopyFacts
    members: list[CopyFacts] = field(default_factory=list)

    @property
    def events(self) -> set[str]:
        return {m.event_number for m in self.members if m.event_number}

    @property
    def files(self) -> set[str]:
        return {m.file_number for m in self.members if m.file_number}

    @property
    def issued(self) -> set[date]:
        return {m.issued_date for m in self.members if m.issued_date}


@dataclass(frozen=True)
class Match:
    rule: str
    score: float
    merge: bool  # the default decision: merge (True) or keep separate (False, a near miss)
    reason: str


def _days_apart(a: date, dates: Iterable[date]) -> int | None:
    gaps = [abs((a - d).days) for d in dates]
    return min(gaps) if gaps else None


def _one_apart(a: str, b: str) -> bool:
    """Identifiers one OCR slip apart (a character misread, dropped or doubled)."""
    return Levenshtein.distance(a, b) <= 1


def compare(copy: CopyFacts, request: _Request, config: DedupeConfig) -> Match | None:
    """How well ``copy`` matches ``request``; None when it cannot be the same request."""
    events, files = request.events, request.files
    gap = _days_apart(copy.issued_date, request.issued) if copy.issued_date else None
    if gap is not None and gap > config.issued_window_days:
        return None  # clearly different issue dates: two requests, always
    same_file = bool(copy.file_number and copy.file_number in files)
    if copy.event_number and events and copy.event_number not in events:
        # Different event numbers: two requests, always. One character apart on the same A-number and
        # issue date may be an OCR slip, though: kept apart, and a person is asked.
        if same_file and not gap and any(_one_apart(copy.event_number, e) for e in events):
            return Match(RULE_FUZZY, 80.0, False, "same_file_number+event_near")
        return None
    same_event = bool(copy.event_number and copy.event_number in events)
    if same_file and same_event:
        return Match(RULE_SAME_IDENTITY, 100.0, True, "same_identity")

    names = [s for m in request.members if (s := name_score(copy.name, m.name)) is not None]
    best_name = max(names) if names else None
    dobs = {m.dob for m in request.members if m.dob}
    near_file = bool(copy.file_number and any(_one_apart(copy.file_number, f) for f in files))
    reasons: list[str] = []
    score = 100.0

    def cap(limit: float, reason: str) -> None:
        nonlocal score
        score = min(score, limit)
        reasons.append(reason)

    if same_file or (same_event and (near_file or not (copy.file_number and files))):
        # One identifier agrees and the other is missing on one side (or an OCR slip apart).
        reasons.append("same_file_number" if same_file else "same_event")
        if near_file and not same_file:
            cap(90.0, "file_number_near")
        if best_name is None:
            cap(97.0, "name_unknown")
        elif best_name < 100.0:
            cap(max(best_name, 60.0), "name_differs")
        if copy.dob and dobs and copy.dob not in dobs:
            cap(80.0, "dob_differs")
        if same_file and not (copy.event_number and events):
            reasons.append("event_missing")
    else:
        if not (copy.dob and copy.dob in dobs) or best_name is None:
            return None
        if best_name < config.name_similarity:
            if best_name >= config.name_similarity - NEAR_NAME_MARGIN and not (copy.file_number and files):
                # Same birth date, a name a letter or two off: kept apart, but a person should look.
                return Match(RULE_FUZZY, round(best_name, 2), False, "same_dob+name_near")
            return None
        if copy.file_number and files:
            # Different A-numbers with the same name and birth date: an OCR slip at most.
            if near_file:
                return Match(RULE_FUZZY, min(best_name, 80.0), False, "same_name_dob+file_number_near")
            return None
        reasons.append("same_name_dob")
        score = best_name
    if gap is None:
        cap(92.0, "issued_unknown")
    elif gap > 0:
        cap(score - 2.0 * gap, "issued_differs")
    return Match(RULE_FUZZY, round(score, 2), True, "+".join(reasons))


def _cancel_score(copy: CopyFacts, request: _Request, config: DedupeConfig) -> tuple[float, int] | None:
    """(score, days between the cancelled date and the request's issue date) for a cancellation."""
    files = request.files
    if copy.file_number and files:
        if copy.file_number not in files:
            return None
        score = 100.0
    else:
        names = [s for m in request.members if (s := name_score(copy.name, m.name)) is not None]
        dobs = {m.dob for m in request.members if m.dob}
        if not (copy.dob and copy.dob in dobs and names and max(names) >= config.name_similarity):
            return None
        score = max(names)
    if copy.event_number and copy.event_number in request.events:
        return max(score, 99.0), 0
    target = copy.cancelled_detainer_date
    gap = _days_apart(target, request.issued) if target else None
    if gap is None:
        score = min(score, 90.0)
        gap = 10**6
    elif gap > config.issued_window_days:
        score = min(score, 70.0)
    else:
        score -= gap
    return round(score, 2), gap


def assign(
    copies: Sequence[CopyFacts],
    config: DedupeConfig | None = None,
    decisions: Mapping[tuple[str, str], bool] | None = None,
) -> Assignment:
    """Group copies into requests and link cancellation notices. Deterministic in the *set* of copies.

    ``decisions`` maps a pair of copy keys (sorted, see ``pair``) to the operator's ruling:
    True = the same request, False = not the same.
    """
    config = config or DedupeConfig()
    decisions = decisions or {}
    ordered = sorted(copies, key=lambda c: (c.order, c.key))
    out = Assignment()
    requests: list[_Request] = []
    by_block: dict[tuple[str, object], list[_Request]] = defaultdict(list)
    request_of: dict[str, _Request] = {}
    decided: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for (a, b), same in sorted(decisions.items()):
        decided[a].append((b, same))
        decided[b].append((a, same))

    for copy in ordered:
        if copy.cancels_previous:
            continue
        candidates: dict[str, _Request] = {}
        for key in sorted(block_keys(copy), key=repr):
            for req in by_block.get(key, ()):
                candidates[req.id] = req
        forced: _Request | None = None
        excluded: set[str] = set()
        for other, same in decided.get(copy.key, ()):
            ruled = request_of.get(other)
            if ruled is None:
                continue
            if same:
                if forced is None or ruled.order < forced.order:
                    forced = ruled
            else:
                excluded.add(ruled.id)

        chosen: _Request | None = None
        link: Link | None = None
        if forced is not None:
            chosen = forced
            link = Link(copy.key, forced.id, RULE_OPERATOR, 100.0)
        else:
            scored: list[tuple[float, int, _Request, Match]] = []
            for req in candidates.values():
                if req.id in excluded:
                    continue
                match = compare(copy, req, config)
                if match is not None:
                    scored.append((match.score, req.order, req, match))
            merges = sorted((s for s in scored if s[3].merge), key=lambda s: (-s[0], s[1]))
            misses = sorted((s for s in scored if not s[3].merge), key=lambda s: (-s[0], s[1]))
            if merges:
                score, _, chosen, match = merges[0]
                link = Link(copy.key, chosen.id, match.rule, score)
                if score < config.review_below:
                    out.reviews.append(
                        Review(
                            f"match:{copy.key}:{chosen.founder.key}",
                            "match",
                            copy.key,
                            chosen.founder.key,
                            score,
                            "merge",
                            match.reason,
                        )
                    )
            else:
                for score, _, req, match in misses[:1]:
                    out.reviews.append(
                        Review(
                            f"match:{copy.key}:{req.founder.key}",
                            "match",
                            copy.key,
                            req.founder.key,
                            score,
                            "separate",
                            match.reason,
                        )
                    )

        if chosen is None:
            rid = request_id_for(copy.key)
            while rid in out.requests:  # vanishingly unlikely: a hash collision
                rid = request_id_for(rid + copy.key)
            chosen = _Request(rid, len(requests), copy)
            requests.append(chosen)
            out.requests[rid] = copy.key
            out.members[rid] = []
            link = Link(copy.key, rid, RULE_FIRST, 100.0)
        assert link is not None
        chosen.members.append(copy)
        out.members[chosen.id].append(copy.key)
        out.links[copy.key] = link
        request_of[copy.key] = chosen
        for key in block_keys(copy):
            if chosen not in by_block[key]:
                by_block[key].append(chosen)

    for copy in ordered:
        if not copy.cancels_previous:
            continue
        out.cancellations[copy.key] = _link_cancellation(copy, requests, by_block, request_of, decided, config, out)
    return out


def _link_cancellation(
    copy: CopyFacts,
    requests: list[_Request],
    by_block: Mapping[tuple[str, object], list[_Request]],
    request_of: Mapping[str, _Request],
    decided: Mapping[str, list[tuple[str, bool]]],
    config: DedupeConfig,
    out: Assignment,
) -> CancelLink:
    excluded: set[str] = set()
    for other, same in decided.get(copy.key, ()):
        req = request_of.get(other)
        if req is not None and same:
            return CancelLink(copy.key, req.id, RULE_OPERATOR, 100.0)
        if req is not None:
            excluded.add(req.id)
    candidates = {r.id: r for key in block_keys(copy) for r in by_block.get(key, ())}
    scored = []
    for req in candidates.values():
        if req.id in excluded:
            continue
        result = _cancel_score(copy, req, config)
        if result is not None:
            scored.append((-result[0], result[1], -req.order, req, result[0]))
    if not scored:
        out.reviews.append(
            Review(
                f"cancel:{copy.key}",
                "cancellation",
                copy.key,
                None,
                0.0,
                "none",
                "cancelled_request_not_found",
            )
        )
        return CancelLink(copy.key, None, RULE_UNLINKED, 0.0)
    scored.sort(key=lambda s: s[:3])
    _, _, _, best, score = scored[0]
    if score < config.review_below:
        out.reviews.append(
            Review(
                f"cancel:{copy.key}",
                "cancellation",
                copy.key,
                best.founder.key,
                score,
                "link",
                "cancellation_match_uncertain",
            )
        )
    return CancelLink(copy.key, best.id, RULE_CANCELS, score)
