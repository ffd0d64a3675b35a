"""Name comparison tolerant of word order and OCR slips, and the words a name is found by."""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz import fuzz


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


@lru_cache(maxsize=65536)
def name_tokens(name: str | None) -> frozenset[str]:
    """Tokens of a normalised name (OCR-folded, 3+ letters): a copy whose identifiers were misread is
    still found through the words of the name that were read right."""
    return frozenset(_skeleton(token) for token in (name or "").split() if len(token) >= 3)
