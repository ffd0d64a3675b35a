"""Copies and checks the dedupe tests (tests/test_ledger_dedupe*.py) share."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from ledger.dedupe import CopyFacts, DedupeConfig, assign, normalize_event_number, normalize_file_number, normalize_name

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CONFIG = DedupeConfig(issued_window_days=3, name_similarity=90.0, review_below=95.0)


def facts(
    key: str,
    minutes: int = 0,
    *,
    file: str | None = "A012345678",
    event: str | None = "BOS2503000111",
    issued: date | None = date(2025, 3, 1),
    name: str | None = "MARIA ELENA LOPEZ",
    dob: date | None = date(1988, 4, 12),
    channel_rank: int = 0,
    cancels: bool = False,
    cancelled_date: date | None = None,
) -> CopyFacts:
    return CopyFacts(
        key=key,
        order=(T0 + timedelta(minutes=minutes), channel_rank, f"src:{key}", 0),
        file_number=normalize_file_number(file),
        event_number=normalize_event_number(event),
        issued_date=issued,
        name=normalize_name(name),
        dob=dob,
        cancels_previous=cancels,
        cancelled_detainer_date=cancelled_date,
    )


def groups(result) -> set[frozenset[str]]:
    return {frozenset(members) for members in result.members.values()}


def assert_order_independent(copies, seed):
    """Ten shuffles of ``copies`` give the same requests, links, cancellations and reviews."""
    expected = assign(copies, CONFIG)
    rng = random.Random(seed)
    for _ in range(10):
        shuffled = copies[:]
        rng.shuffle(shuffled)
        got = assign(shuffled, CONFIG)
        assert got.requests == expected.requests
        assert got.links == expected.links
        assert got.cancellations == expected.cancellations
        assert sorted(got.reviews, key=lambda r: r.key) == sorted(expected.reviews, key=lambda r: r.key)
