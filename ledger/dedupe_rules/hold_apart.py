"""The rules that keep a match apart (offered for review, never merged unasked) whatever its score."""

from __future__ import annotations

import re
from datetime import timedelta

from ledger.dedupe_rules.config import DedupeConfig
from ledger.dedupe_rules.copy_facts import CopyFacts
from ledger.dedupe_rules.forming_request import FormingRequest, arrival, days_farthest
from ledger.dedupe_rules.identity import FAR, closeness

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


def hold_apart(copy: CopyFacts, request: FormingRequest, config: DedupeConfig) -> list[str]:
    """Why a match ``compare`` would merge must only be offered (kept apart): evidence OCR cannot
    garble, or a structure an unsure reading still shows, says another request. Empty: none."""
    reasons = []
    arrived = arrival(copy)
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
    spread = days_farthest(copy.issued_date, request.issued) if copy.issued_date else None
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


def _same_sure_event(copy: CopyFacts, request: FormingRequest) -> bool:
    """The event number, read with confidence on both sides, is the request's: it names the
    detainer itself, so a copy faxed again months later (after a transfer, say) is that request."""
    return bool(copy.event_number) and "event_number" not in copy.unsure and copy.event_number in request.sure_events
