"""Dedupe: the assignment depends only on the set of copies, at a few copies and at hundreds of people."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from ledger.dedupe import CopyFacts, assign
from tests.dedupe_support import CONFIG, assert_order_independent, facts

# --------------------------------------------------------------------------- order independence


def _population(seed: int) -> list[CopyFacts]:
    rng = random.Random(seed)
    people = [
        (f"A{rng.randint(10**8, 10**9 - 1):09d}", name, date(1970 + i, 1 + i % 12, 1 + i % 28))
        for i, name in enumerate(["ANA RUIZ", "JOSE PEREZ", "LI WEI", "OMAR HASSAN", "MARIA LOPEZ", "ANA RUIZ"])
    ]
    out = []
    n = 0
    for p, (file, name, dob) in enumerate(people):
        for d in range(rng.randint(1, 2)):
            issued = date(2025, 1, 5) + timedelta(days=60 * d + p)
            event = f"E{p}{d}"
            for c in range(rng.randint(1, 3)):
                n += 1
                out.append(
                    facts(
                        f"k{n:03d}",
                        rng.randint(0, 5000),
                        file=file if rng.random() > 0.2 else None,
                        event=event if rng.random() > 0.3 else None,
                        issued=issued,
                        name=name if c == 0 else name[:-1] + "X",
                        dob=dob,
                        channel_rank=rng.randint(0, 2),
                    )
                )
        if rng.random() > 0.5:
            n += 1
            out.append(
                facts(
                    f"k{n:03d}",
                    6000,
                    file=file,
                    event=None,
                    issued=date(2025, 9, 1),
                    name=name,
                    dob=dob,
                    cancels=True,
                    cancelled_date=date(2025, 1, 5) + timedelta(days=p),
                )
            )
    return out


@pytest.mark.parametrize("seed", range(5))
def test_assignment_depends_only_on_the_set_of_copies(seed):
    assert_order_independent(_population(seed), seed)


def test_assignment_keeps_hundreds_of_people_with_common_names_apart():
    """500 people drawn from a few common names, three copies each within days of each other
    (shared name words make big candidate blocks). Its speed is measured by ``bench.dedupe``."""
    from bench.dedupe import synthetic_copies

    copies, person = synthetic_copies(500)
    result = assign(copies, CONFIG)
    assert len(result.requests) == 500
    assert all(len({person[k] for k in members}) == 1 for members in result.members.values())
