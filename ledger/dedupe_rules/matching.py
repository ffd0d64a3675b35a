"""How well a copy matches a request being formed: merged, kept apart as a near miss, or no match."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ledger.dedupe_rules.config import DedupeConfig
from ledger.dedupe_rules.copy_facts import CopyFacts
from ledger.dedupe_rules.forming_request import FormingRequest, arrival, arrived_near, best_name_score, days_apart
from ledger.dedupe_rules.hold_apart import hold_apart
from ledger.dedupe_rules.identity import FAR, SAME, closeness
from ledger.dedupe_rules.names import name_score
from ledger.dedupe_rules.outcome import RULE_FUZZY, RULE_SAME_IDENTITY

NEAR_NAME_MARGIN = 15.0  # name scores this far below name_similarity (same birth date) are offered for review
# A copy with nothing but its name to go on is only ever offered, never merged: its name may be
# two OCR slips off ("TAVARES ARINDE" for "TAVARES ARLINDO" scores 89.7).
OFFER_NAME_MARGIN = 5.0


@dataclass(frozen=True)
class Match:
    rule: str
    score: float
    merge: bool  # the default decision: merge (True) or keep separate (False, a near miss)
    reason: str


def compare(copy: CopyFacts, request: FormingRequest, config: DedupeConfig) -> Match | None:
    """How well ``copy`` matches ``request``; None when it cannot be the same request. A match
    ``hold_apart`` objects to is kept apart (offered for review), whatever its score."""
    match = _evidence(copy, request, config)
    if match is None or not match.merge:
        return match
    held = hold_apart(copy, request, config)
    if held:
        return Match(match.rule, match.score, False, "+".join([match.reason, *held]))
    return match


def _evidence(copy: CopyFacts, request: FormingRequest, config: DedupeConfig) -> Match | None:
    """How well ``copy`` matches ``request`` on its identifiers, name and dates (see ``compare``).

    Exact identifiers decide; identifiers an OCR slip or two apart (``closeness`` 1-2) count as
    evidence only together with an agreeing name, and never without review. The subject ID (a
    person's id in ICE's database) only ever supports a match: its format is not public, so
    nothing tells a confident misreading from another person's id.
    """
    gap = days_apart(copy.issued_date, request.issued) if copy.issued_date else None
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

    best_name = best_name_score(copy, request)
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


def _vetoes(copy: CopyFacts, field: str, sure: set[str]) -> bool:
    """A differing identifier vetoes a match only when both sides were read with confidence."""
    value = getattr(copy, field)
    return field not in copy.unsure and closeness(value, sure) == FAR


def _arrived_before_issue(copy: CopyFacts, request: FormingRequest, days: int) -> bool:
    """One side arrived more than the window before the other side's issue date (a copy whose
    issue date OCR lost, set against a later request of the same person). Within the window an
    issue date may be a misread one, as in the issue-date rule."""
    arrived = arrival(copy)
    slack = timedelta(days=days)
    if arrived is not None and request.issued and arrived.date() < min(request.issued) - slack:
        return True
    if copy.issued_date is None:
        return False
    return any((other := arrival(m)) is not None and other.date() < copy.issued_date - slack
               for m in request.members)


def _surname_agrees(copy: CopyFacts, request: FormingRequest, config: DedupeConfig) -> bool:
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


def _same_person(copy: CopyFacts, request: FormingRequest, config: DedupeConfig) -> Match | None:
    """A near miss (kept apart, offered for review) for copies whose event numbers disagree
    but whose A-number is the same and whose names agree, arriving within the window."""
    if closeness(copy.file_number, request.files) != 0:
        return None
    name = best_name_score(copy, request)
    if name is None or name < config.name_similarity:
        return None
    if not arrived_near(copy, request, config.issued_window_days):
        return None
    return Match(RULE_FUZZY, round(min(name, 80.0), 2), False, "same_file_number+event_differs")


def _name_and_arrival(copy: CopyFacts, request: FormingRequest, config: DedupeConfig) -> Match | None:
    """A copy whose identifiers and birth date OCR lost (a standard-resolution fax) but whose
    name agrees with a request's, arriving within the window of its copies: kept apart, and
    offered to a person to merge. A differing birth date rules it out only when both were read
    with confidence."""
    if copy.dob and "date_of_birth" not in copy.unsure and any(
        m.dob and m.dob != copy.dob and "date_of_birth" not in m.unsure for m in request.members
    ):
        return None
    name = best_name_score(copy, request)
    if name is None or name < config.name_similarity - OFFER_NAME_MARGIN:
        return None
    if not arrived_near(copy, request, config.issued_window_days):
        return None
    return Match(RULE_FUZZY, round(name, 2), False, "name_and_arrival_near")
