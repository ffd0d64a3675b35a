"""A request being formed while ``assign`` walks the copies, and the arrival and issue-date
arithmetic the rules measure against it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from ledger.dedupe_rules.copy_facts import CopyFacts
from ledger.dedupe_rules.names import name_score


class FormingRequest:
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
        arrived = arrival(copy)
        if arrived is not None and (self.first_arrival is None or arrived < self.first_arrival):
            self.first_arrival = arrived


def arrival(copy: CopyFacts) -> datetime | None:
    """When the copy's document first arrived (the head of its sort key), if known."""
    arrived = copy.order[0] if copy.order else None
    return arrived if isinstance(arrived, datetime) else None


def days_off(copy: CopyFacts, request: FormingRequest) -> int:
    """Days between the copy's arrival and the request's nearest issue date (0 when unknown)."""
    arrived = arrival(copy)
    if arrived is None or not request.issued:
        return 0
    return min(abs((arrived.date() - issued).days) for issued in request.issued)


def days_apart(a: date, dates: Iterable[date]) -> int | None:
    gaps = [abs((a - d).days) for d in dates]
    return min(gaps) if gaps else None


def days_farthest(a: date, dates: Iterable[date]) -> int | None:
    gaps = [abs((a - d).days) for d in dates]
    return max(gaps) if gaps else None


def arrived_near(copy: CopyFacts, request: FormingRequest, days: int) -> bool:
    """The copy arrived within ``days`` of one of the request's copies (arrival times are
    the receiving systems', not OCR's)."""
    arrived = arrival(copy)
    if arrived is None:
        return False
    return any((other := arrival(m)) is not None and abs((arrived - other).days) <= days for m in request.members)


def best_name_score(copy: CopyFacts, request: FormingRequest) -> float | None:
    """The copy's name score against the nearest name among the request's copies (None: unknown)."""
    scores = [s for m in request.members if (s := name_score(copy.name, m.name)) is not None]
    return max(scores) if scores else None
