"""Known-value lists a field reading snaps to (``parsing/templates/<name>.txt``).

A garbled reading of a value that can only be one of a few dozen printed strings (the
ICE field offices) is corrected to the entry it clearly resembles; a reading that
resembles two entries about equally, or none, is kept as read.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz, process, utils

LEXICON_DIR = Path(__file__).with_name("templates")
CUTOFF = 80.0  # rapidfuzz ratio (0-100) a reading needs to snap
MARGIN = 4.0  # ... and by how much it must beat the second-best entry


@cache
def lexicon(name: str) -> tuple[str, ...]:
    path = LEXICON_DIR / f"{name}.txt"
    if not name or not path.is_file():
        return ()
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def snap_score(text: str, choices: Sequence[str]) -> tuple[str | None, float]:
    """(the entry ``text`` clearly reads as, or None; the best score)."""
    if not text or not choices:
        return None, 0.0
    best = process.extract(text, choices, scorer=fuzz.ratio, processor=utils.default_process, limit=2)
    if not best:
        return None, 0.0
    top = best[0][1]
    second = best[1][1] if len(best) > 1 else 0.0
    if top >= CUTOFF and top - second >= MARGIN:
        return str(best[0][0]), float(top)
    return None, float(top)


def snap(text: str, choices: Sequence[str]) -> str:
    value, _ = snap_score(text, choices)
    return value if value is not None else text
