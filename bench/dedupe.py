"""Dedupe at scale: wall time of ``ledger.dedupe.assign`` as the number of copies grows.

Synthetic people drawn from a few common names (shared name words make large candidate
blocks), three copies each, arriving seven minutes apart: a dense worst case, far denser than
a department's year. Prints a table and writes ``bench/results/dedupe.{json,md}``.

    .venv/bin/python -m bench.dedupe [--people 500,1500,3000]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ledger.dedupe import CopyFacts, DedupeConfig, assign, normalize_event_number, normalize_file_number, normalize_name

RESULTS = Path(__file__).resolve().parent / "results"
FIRST = "JOSE MARIA LUIS ANA CARLOS ROSA JUAN CARMEN PEDRO ELENA MIGUEL LUCIA JORGE SOFIA DAVID".split()
LAST = "GARCIA LOPEZ PEREZ RUIZ CHEN NGUYEN SMITH JOHNSON SILVA SANTOS PATEL KHAN REYES CRUZ DIAZ".split()
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    people: int
    copies: int
    seconds: float
    requests: int
    correct: bool


def synthetic_copies(people: int, seed: int = 3) -> tuple[list[CopyFacts], dict[str, int]]:
    """Copies of ``people`` requests (first copy with the event number, two without) and each copy's person."""
    rng = random.Random(seed)
    copies: list[CopyFacts] = []
    person: dict[str, int] = {}
    for p in range(people):
        name = normalize_name(f"{rng.choice(LAST)} {rng.choice(FIRST)} {rng.choice(FIRST)}")
        file = normalize_file_number(f"A{rng.randint(10**8, 10**9 - 1):09d}")
        dob = date(1950, 1, 1) + timedelta(days=rng.randint(0, 20000))
        for c in range(3):
            key = f"p{p}c{c}"
            event = normalize_event_number(f"BOS2503{rng.randint(0, 999999):06d}") if c == 0 else None
            copies.append(CopyFacts(key=key, order=(T0 + timedelta(minutes=p * 7 + c), 0, key, 0), file_number=file,
                                    event_number=event, issued_date=date(2025, 3, 1), name=name, dob=dob))
            person[key] = p
    return copies, person


def measure(people: int) -> Row:
    copies, person = synthetic_copies(people)
    start = time.perf_counter()
    result = assign(copies, DedupeConfig())
    seconds = time.perf_counter() - start
    correct = all(len({person[k] for k in members}) == 1 for members in result.members.values())
    return Row(people, len(copies), round(seconds, 2), len(result.requests), correct and len(result.requests) == people)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", default="500,1500,3000")
    args = parser.parse_args(argv)
    rows = [measure(int(n)) for n in args.people.split(",")]
    lines = ["| people | copies | seconds | copies/s | requests right |", "|---|---|---|---|---|"]
    for r in rows:
        right = "yes" if r.correct else "NO"
        lines.append(f"| {r.people} | {r.copies} | {r.seconds} | {r.copies / r.seconds:.0f} | {right} |")
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dedupe.json").write_text(json.dumps([r.__dict__ for r in rows], indent=2) + "\n", encoding="utf-8")
    title = "# Dedupe at scale (`python -m bench.dedupe`)"
    (RESULTS / "dedupe.md").write_text(f"{title}\n\n{table}\n", encoding="utf-8")
    return 0 if all(r.correct for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
