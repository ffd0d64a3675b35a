"""What dedupe knows of one detainer copy: its identity, read from OCR with corrections applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


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
