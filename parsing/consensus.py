"""Character-level consensus over several OCR readings of one printed value.

A packet prints its key values more than once (the A-number on page 1, on both notice
pages and on the warrant) and page 1's key fields are re-read enlarged. OCR slips rarely
repeat in the same place, so readings of the same length vote position by position
(as ROVER does for speech recognisers): three readings "A924272117", "A024272117",
"A024272117" give "A024272117" even when no single page is trusted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Consensus:
    value: str
    agree: int  # readings equal to the value
    total: int  # readings considered


def consensus(readings: Sequence[str]) -> Consensus | None:
    """Readings are grouped by length; the largest group votes per position. Ties go to
    the earlier reading (callers list the most trusted first)."""
    readings = [r for r in readings if r]
    if not readings:
        return None
    groups: dict[int, list[str]] = {}
    for reading in readings:
        groups.setdefault(len(reading), []).append(reading)
    order = {length: min(i for i, r in enumerate(readings) if len(r) == length) for length in groups}
    length = max(groups, key=lambda n: (len(groups[n]), -order[n]))
    group = groups[length]
    chars = []
    for position in range(length):
        column = [reading[position] for reading in group]
        counts = Counter(column)
        best = max(counts.values())
        chars.append(next(c for c in column if counts[c] == best))
    value = "".join(chars)
    return Consensus(value, sum(1 for r in readings if r == value), len(readings))
