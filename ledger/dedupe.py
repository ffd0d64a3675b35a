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
Never merged automatically, only offered for review (kept apart): copies whose arrivals are
more than ``max_arrival_gap_days`` apart, a copy whose issue date is further than the window
from one of the request's, and a copy whose event number, read without confidence, has another
office code or year-month, unless its issue date agrees (``hold_apart``).
A copy whose cancel box is checked is a cancellation notice: linked to the request it
cancels, never counted as a request. Matches scoring below ``review_below`` are merged
(their default) but also queued for review; near misses stay separate and are queued
(among them a copy whose identifiers OCR lost but whose name agrees with a request's
copies that arrived within the window).
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
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

RULE_FIRST = "first"
RULE_SAME_CONTENT = "same_content"  # a further arrival of identical bytes (RequestView.receipt_rules)
RULE_SAME_IDENTITY = "same_identity"
RULE_FUZZY = "fuzzy"
RULE_OPERATOR = "operator_merge"
RULE_CANCELS = "cancels"
RULE_UNLINKED = "unlinked"
NEAR_NAME_MARGIN = 15.0  # name scores this far below name_similarity (same birth date) are offered for review
# A copy with nothing but its name to go on is only ever offered, never merged: its name may be
# two OCR slips off ("TAVARES ARINDE" for "TAVARES ARLINDO" scores 89.7).
OFFER_NAME_MARGIN = 5.0

_OCR_DIGITS = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "|": "1", "S": "5", "B": "8", "Z": "2"})
_OCR_LETTERS = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "6": "G", "4": "A", "3": "E", "7": "T"})


@dataclass(frozen=True)
class DedupeConfig:
    issued_window_days: int = 3
    name_similarity: float = 90.0
    review_below: float = 95.0
    # An identifier read with less OCR confidence than this can support a match but not veto one.
    trusted_confidence: float = 0.8
    # Arrival times are the receiving systems' (exact); copies of one request arrive within days.
    max_arrival_gap_days: int = 21

    @classmethod
    def from_settings(cls, settings: Any) -> DedupeConfig:
        return cls(
            issued_window_days=settings.issued_window_days,
            name_similarity=settings.name_similarity,
            review_below=settings.review_below,
            trusted_confidence=getattr(settings, "trusted_confidence", cls.trusted_confidence),
            max_arrival_gap_days=getattr(settings, "max_arrival_gap_days", cls.max_arrival_gap_days),
        )


@dataclass(frozen=True)
class CopyFacts:
    """The identity of one detainer copy (effective values: OCR with corrections applied)."""

    key: str  # stable content key "<document sha256>:<index>"
    order: tuple[Any, ...]  # sort key: (first arrival, channel rank, source key, ...) of its document
    file_number: str | None = None  # normalised (normalize_file_number)
    event_number: str | None = None  # normalised (normalize_event_number)
    subject_id: str | None = None  # normalised (normalize_subject_id)
    issued_date: date | None = None
    name: str | None = None  # normalised (normalize_name)
    dob: date | None = None
    cancels_previous: bool = False
    cancelled_detainer_date: date | None = None
    # Fields read with low confidence ("file_number", "event_number", "date_of_birth"): they support
    # a match but never veto one. Corrected fields are never unsure.
    unsure: frozenset[str] = frozenset()


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


def normalize_subject_id(value: str | None) -> str | None:
    """Subject IDs are opaque like event numbers: compared in the same OCR-folded form."""
    return normalize_event_number(value)


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


@lru_cache(maxsize=65536)
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


@lru_cache(maxsize=65536)
def name_tokens(name: str | None) -> frozenset[str]:
    """Tokens of a normalised name (OCR-folded, 3+ letters): a copy whose identifiers were misread is
    still found through the words of the name that were read right."""
    return frozenset(_skeleton(token) for token in (name or "").split() if len(token) >= 3)


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


# --------------------------------------------------------------------------- matching


class _Request:
    """A request being formed: its members and the identifiers seen on them (kept up to date by ``add``)."""

    def __init__(self, id: str, order: int, founder: CopyFacts, members: Iterable[CopyFacts] = ()) -> None:
        self.id, self.order, self.founder = id, order, founder
        self.members: list[CopyFacts] = []
        self.events: set[str] = set()
        self.files: set[str] = set()
        self.subjects: set[str] = set()
        self.sure_events: set[str] = set()  # read with confidence (or corrected)
        self.sure_files: set[str] = set()
        self.issued: set[date] = set()
        self.first_arrival: datetime | None = None
        for member in members:
            self.add(member)

    def add(self, copy: CopyFacts) -> None:
        self.members.append(copy)
        if copy.event_number:
            self.events.add(copy.event_number)
            if "event_number" not in copy.unsure:
                self.sure_events.add(copy.event_number)
        if copy.file_number:
            self.files.add(copy.file_number)
            if "file_number" not in copy.unsure:
                self.sure_files.add(copy.file_number)
        if copy.subject_id:
            self.subjects.add(copy.subject_id)
        if copy.issued_date:
            self.issued.add(copy.issued_date)
        arrived = _arrival(copy)
        if arrived is not None and (self.first_arrival is None or arrived < self.first_arrival):
            self.first_arrival = arrived


@dataclass(frozen=True)
class Match:
    rule: str
    score: float
    merge: bool  # the default decision: merge (True) or keep separate (False, a near miss)
    reason: str


def _arrival(copy: CopyFacts) -> datetime | None:
    """When the copy's document first arrived (the head of its sort key), if known."""
    arrived = copy.order[0] if copy.order else None
    return arrived if isinstance(arrived, datetime) else None


def _days_off(copy: CopyFacts, request: _Request) -> int:
    """Days between the copy's arrival and the request's nearest issue date (0 when unknown)."""
    arrived = _arrival(copy)
    if arrived is None or not request.issued:
        return 0
    return min(abs((arrived.date() - issued).days) for issued in request.issued)


def _days_apart(a: date, dates: Iterable[date]) -> int | None:
    gaps = [abs((a - d).days) for d in dates]
    return min(gaps) if gaps else None


def _days_farthest(a: date, dates: Iterable[date]) -> int | None:
    gaps = [abs((a - d).days) for d in dates]
    return max(gaps) if gaps else None


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


def _vetoes(copy: CopyFacts, field: str, sure: set[str]) -> bool:
    """A differing identifier vetoes a match only when both sides were read with confidence."""
    value = getattr(copy, field)
    return field not in copy.unsure and closeness(value, sure) == FAR


# The event number's printed shape (sample_faxes/truth.json): an office code (three letters), the
# year and month, a serial: "BOS2412733891". Matched in normalised (OCR-folded) form, where the
# office "BOS" reads "805"; a value of another shape (a slip added or dropped a character) tells
# nothing of its structure.
_EVENT_SHAPE = re.compile(r"([A-Z0-9]{3})(\d{2}(?:0[1-9]|1[0-2]))\d{6}")


def event_structure(event: str | None) -> tuple[str, str] | None:
    """(office code, year-month) of a normalised event number of the printed shape, else None."""
    found = _EVENT_SHAPE.fullmatch(event or "")
    return (found[1], found[2]) if found else None


def structurally_different(a: str | None, b: str | None) -> bool:
    """Another office code or another year-month: more than one character differs in either part.
    One differing character is an OCR slip as likely as another office or month ("ROS" for
    "BOS", "2507" for "2502"), so it tells nothing."""
    shape_a, shape_b = event_structure(a), event_structure(b)
    if shape_a is None or shape_b is None:
        return False
    return any(sum(x != y for x, y in zip(part_a, part_b, strict=True)) >= 2
               for part_a, part_b in zip(shape_a, shape_b, strict=True))


def hold_apart(copy: CopyFacts, request: _Request, config: DedupeConfig) -> list[str]:
    """Why a match ``compare`` would merge must only be offered (kept apart): evidence OCR cannot
    garble, or a structure an unsure reading still shows, says another request. Empty: none."""
    reasons = []
    arrived = _arrival(copy)
    # Measured to the request's first copy, not its nearest: copies arriving every few weeks
    # would otherwise chain a person's detainers of a whole year into one request. The window
    # bounds a request's whole span of arrivals, and a copy trickling in later is still offered.
    first = request.first_arrival
    if (
        arrived is not None and first is not None
        and abs(arrived - first) > timedelta(days=config.max_arrival_gap_days)
        and not _same_sure_event(copy, request)
    ):
        reasons.append("arrival_far")
    # ``compare`` needs the nearest issue date within the window; every one is needed to merge
    # unasked, so that a request's issue dates never spread wider than the window step by step.
    spread = _days_farthest(copy.issued_date, request.issued) if copy.issued_date else None
    if spread is not None and spread > config.issued_window_days:
        reasons.append("issued_far")
    # An unsure event number of another office or year-month cannot veto, but it speaks against
    # the match: merged unasked only when the issue dates, read on both sides, agree.
    if (
        copy.event_number and request.events and (copy.issued_date is None or not request.issued)
        and closeness(copy.event_number, request.events) == FAR
        and all(structurally_different(copy.event_number, event) for event in request.events)
    ):
        reasons.append("event_structure_differs")
    return reasons


def _same_sure_event(copy: CopyFacts, request: _Request) -> bool:
    """The event number, read with confidence on both sides, is the request's: it names the
    detainer itself, so a copy faxed again months later (after a transfer, say) is that request."""
    return bool(copy.event_number) and "event_number" not in copy.unsure and copy.event_number in request.sure_events


def compare(copy: CopyFacts, request: _Request, config: DedupeConfig) -> Match | None:
    """How well ``copy`` matches ``request``; None when it cannot be the same request. A match
    ``hold_apart`` objects to is kept apart (offered for review), whatever its score."""
    match = _evidence(copy, request, config)
    if match is None or not match.merge:
        return match
    held = hold_apart(copy, request, config)
    if held:
        return Match(match.rule, match.score, False, "+".join([match.reason, *held]))
    return match


def _evidence(copy: CopyFacts, request: _Request, config: DedupeConfig) -> Match | None:
    """How well ``copy`` matches ``request`` on its identifiers, name and dates (see ``compare``).

    Exact identifiers decide; identifiers an OCR slip or two apart (``closeness`` 1-2) count as
    evidence only together with an agreeing name, and never without review. The subject ID (a
    person's id in ICE's database) only ever supports a match: its format is not public, so
    nothing tells a confident misreading from another person's id.
    """
    gap = _days_apart(copy.issued_date, request.issued) if copy.issued_date else None
    if gap is not None and gap > config.issued_window_days:
        return None  # clearly different issue dates: two requests, always
    event = closeness(copy.event_number, request.events)
    if event == FAR and _vetoes(copy, "event_number", request.sure_events):
        # Different event numbers, read with confidence: two requests, never merged. The same
        # person (A-number and name agree) seen twice within the window is still shown to a
        # person: a confident misread of a poor fax looks just like a second detainer.
        return None if _arrived_before_issue(copy, request, config.issued_window_days) else _same_person(
            copy, request, config
        )
    file = closeness(copy.file_number, request.files)
    if file == FAR and event != SAME and _vetoes(copy, "file_number", request.sure_files):
        return None  # different A-numbers
    if _arrived_before_issue(copy, request, config.issued_window_days):
        return None  # a copy cannot arrive before its request was issued: two requests, always
    unsure: list[str] = []
    if event == FAR:
        event = None  # one side may be misread: no evidence either way
        unsure.append("event_unsure")
    if event == SAME and file == SAME:
        return Match(RULE_SAME_IDENTITY, 100.0, True, "same_identity")
    if file == FAR and event != SAME:
        file = None
        unsure.append("file_number_unsure")
    subject = closeness(copy.subject_id, request.subjects)
    if subject == FAR:
        subject = None
    dobs = {m.dob for m in request.members if m.dob}
    dob_equal = bool(copy.dob and copy.dob in dobs)
    if not dob_equal and file is None and event is None and subject is None:
        # Nothing in common to go on (names alone never merge); a near miss at most.
        return _name_and_arrival(copy, request, config)

    best_name = _best_name(copy, request)
    name_agrees = best_name is not None and best_name >= config.name_similarity
    dob_conflict = bool(copy.dob and dobs and not dob_equal)
    reasons: list[str] = []
    score = 100.0

    def cap(limit: float, reason: str) -> None:
        nonlocal score
        score = min(score, limit)
        reasons.append(reason)

    def slip(distance: int | None, what: str) -> None:
        if distance in (1, 2):
            cap(90.0 if distance == 1 else 85.0, f"{what}_near")

    if file == SAME or event == SAME:
        # One identifier agrees exactly; the other is missing on one side, or a slip or two apart.
        reasons.append("same_file_number" if file == SAME else "same_event")
        if file == FAR:
            if not name_agrees:
                return None  # the same event number under another A-number and another name
            cap(80.0, "file_number_differs")
        slip(file, "file_number")
        slip(event, "event")
        if event is None and file == SAME:
            reasons.append("event_missing")
    elif file in (1, 2) or event in (1, 2) or (subject is not None and not dob_equal):
        # Only approximate identifiers, or the subject ID standing in for the birth date: the name
        # must agree as well (or its surname exactly, the given names a slip or two off); any
        # other name a slip or two further off is only offered.
        surname_only = not name_agrees and _surname_agrees(copy, request, config)
        if not name_agrees and not surname_only:
            return _name_and_arrival(copy, request, config)
        only_subject = file is None and event is None and subject == SAME
        reasons.append("same_subject" if only_subject else "near_identifiers")
        if surname_only:
            reasons.append("surname_same")
        slip(file, "file_number")
        slip(event, "event")
        slip(subject, "subject")
    else:
        # No identifier in common (missing on one side): name and date of birth.
        if not dob_equal or best_name is None:
            return None
        if best_name < config.name_similarity:
            if best_name >= config.name_similarity - NEAR_NAME_MARGIN and file is None:
                # Same birth date, a name a letter or two off: kept apart, but a person should look.
                return Match(RULE_FUZZY, round(best_name, 2), False, "same_dob+name_near")
            return None
        reasons.append("same_name_dob")
    for reason in unsure:
        cap(85.0, reason)
    if best_name is None:
        cap(97.0, "name_unknown")
    elif best_name < 100.0:
        cap(max(best_name, 60.0), "name_differs")
    if dob_conflict:
        cap(80.0, "dob_differs")
    if gap is None:
        cap(92.0, "issued_unknown")
    elif gap > 0:
        cap(score - 2.0 * gap, "issued_differs")
    return Match(RULE_FUZZY, round(score, 2), True, "+".join(reasons))


def _arrived_before_issue(copy: CopyFacts, request: _Request, days: int) -> bool:
    """One side arrived more than the window before the other side's issue date (a copy whose
    issue date OCR lost, set against a later request of the same person). Within the window an
    issue date may be a misread one, as in the issue-date rule."""
    arrived = _arrival(copy)
    slack = timedelta(days=days)
    if arrived is not None and request.issued and arrived.date() < min(request.issued) - slack:
        return True
    if copy.issued_date is None:
        return False
    return any((other := _arrival(m)) is not None and other.date() < copy.issued_date - slack
               for m in request.members)


def _surname_agrees(copy: CopyFacts, request: _Request, config: DedupeConfig) -> bool:
    """The form prints "SURNAME, Given names": the copy's first word equals a copy's of the
    request, and the whole name is within the offer margin (given names a slip or two off,
    "TAVARES ARINDE" for "TAVARES ARLINDO"). The surname is what the form prints in capitals."""
    if not copy.name:
        return False
    surname = copy.name.split()[0]
    if len(surname) < 3:
        return False
    floor = config.name_similarity - OFFER_NAME_MARGIN
    return any(
        m.name and m.name.split()[0] == surname and (name_score(copy.name, m.name) or 0.0) >= floor
        for m in request.members
    )


def _best_name(copy: CopyFacts, request: _Request) -> float | None:
    """The copy's name score against the nearest name among the request's copies (None: unknown)."""
    scores = [s for m in request.members if (s := name_score(copy.name, m.name)) is not None]
    return max(scores) if scores else None


def arrived_near(copy: CopyFacts, request: _Request, days: int) -> bool:
    """The copy arrived within ``days`` of one of the request's copies (arrival times are
    the receiving systems', not OCR's)."""
    arrived = _arrival(copy)
    if arrived is None:
        return False
    return any((other := _arrival(m)) is not None and abs((arrived - other).days) <= days for m in request.members)


def _same_person(copy: CopyFacts, request: _Request, config: DedupeConfig) -> Match | None:
    """A near miss (kept apart, offered for review) for copies whose event numbers disagree
    but whose A-number is the same and whose names agree, arriving within the window."""
    if closeness(copy.file_number, request.files) != 0:
        return None
    name = _best_name(copy, request)
    if name is None or name < config.name_similarity:
        return None
    if not arrived_near(copy, request, config.issued_window_days):
        return None
    return Match(RULE_FUZZY, round(min(name, 80.0), 2), False, "same_file_number+event_differs")


def _name_and_arrival(copy: CopyFacts, request: _Request, config: DedupeConfig) -> Match | None:
    """A copy whose identifiers and birth date OCR lost (a standard-resolution fax) but whose
    name agrees with a request's, arriving within the window of its copies: kept apart, and
    offered to a person to merge. A differing birth date rules it out only when both were read
    with confidence."""
    if copy.dob and "date_of_birth" not in copy.unsure and any(
        m.dob and m.dob != copy.dob and "date_of_birth" not in m.unsure for m in request.members
    ):
        return None
    name = _best_name(copy, request)
    if name is None or name < config.name_similarity - OFFER_NAME_MARGIN:
        return None
    if not arrived_near(copy, request, config.issued_window_days):
        return None
    return Match(RULE_FUZZY, round(name, 2), False, "name_and_arrival_near")


def _cancel_score(copy: CopyFacts, request: _Request, config: DedupeConfig) -> tuple[float, int] | None:
    """(score, days between the cancelled date and the request's issue date) for a cancellation."""
    files = request.files
    if copy.file_number and files:
        if copy.file_number not in files:
            return None
        score = 100.0
    else:
        name = _best_name(copy, request)
        dobs = {m.dob for m in request.members if m.dob}
        if not (copy.dob and copy.dob in dobs and name is not None and name >= config.name_similarity):
            return None
        score = name
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
    by_block: dict[tuple[str, object], dict[str, _Request]] = defaultdict(dict)
    by_token: dict[str, dict[str, tuple[_Request, set[str], set[str], set[str]]]] = defaultdict(dict)
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
            candidates.update(by_block.get(key, {}))
        for token in sorted(name_tokens(copy.name)):
            # Only a word of the name in common: a candidate if a copy with that word has an
            # identifier an OCR slip or two from this one's (``token_linked``), or arrived
            # within the window (then at most a near miss for review: ``_name_and_arrival``).
            for rid, (req, files, events, subjects) in by_token.get(token, {}).items():
                if rid not in candidates and (
                    closeness(copy.file_number, files) in (1, 2) or closeness(copy.event_number, events) in (1, 2)
                    or closeness(copy.subject_id, subjects) in (1, 2)
                    or arrived_near(copy, req, config.issued_window_days)
                ):
                    candidates[rid] = req
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
            scored: list[tuple[float, int, int, _Request, Match]] = []
            for req in candidates.values():
                if req.id in excluded:
                    continue
                match = compare(copy, req, config)
                if match is not None:
                    scored.append((match.score, _days_off(copy, req), req.order, req, match))
            # Best score first; on a tie, the request issued nearest the copy's arrival, then the earliest.
            merges = sorted((s for s in scored if s[4].merge), key=lambda s: (-s[0], s[1], s[2]))
            misses = sorted((s for s in scored if not s[4].merge), key=lambda s: (-s[0], s[1], s[2]))
            if merges:
                score, _, _, chosen, match = merges[0]
                link = Link(copy.key, chosen.id, match.rule, score)
                if len(merges) > 1 and merges[1][0] == score:
                    match = Match(match.rule, score, True, match.reason + "+ambiguous")
                if score < config.review_below or match.reason.endswith("+ambiguous"):
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
                for score, _, _, req, match in misses[:1]:
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
        chosen.add(copy)
        out.members[chosen.id].append(copy.key)
        out.links[copy.key] = link
        request_of[copy.key] = chosen
        for key in block_keys(copy):
            by_block[key][chosen.id] = chosen
        for token in name_tokens(copy.name):
            _, files, events, subjects = by_token[token].setdefault(chosen.id, (chosen, set(), set(), set()))
            if copy.file_number:
                files.add(copy.file_number)
            if copy.event_number:
                events.add(copy.event_number)
            if copy.subject_id:
                subjects.add(copy.subject_id)

    for copy in ordered:
        if not copy.cancels_previous:
            continue
        out.cancellations[copy.key] = _link_cancellation(copy, requests, by_block, request_of, decided, config, out)
    return out


def _link_cancellation(
    copy: CopyFacts,
    requests: list[_Request],
    by_block: Mapping[tuple[str, object], dict[str, _Request]],
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
    candidates = {rid: r for key in block_keys(copy) for rid, r in by_block.get(key, {}).items()}
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
