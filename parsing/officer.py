"""An officer's line split into the name and the title ("DO Jennifer Ortiz", "R. Brennan,
Deportation Officer", "J. Doe  Supervisory Detention and Deportat" cut by the warrant's
field). The titles are data: ``parsing/templates/officer_titles.txt``. Pure functions.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz

from parsing.layout import fold

TITLES_FILE = Path(__file__).with_name("templates") / "officer_titles.txt"
TITLE_SCORE = 88.0  # rapidfuzz ratio a title read with an OCR slip or two still reaches
# A title cut short by its field (the I-200 prints 34 characters of it) is still a title when
# this much of it was printed.
MIN_PREFIX = 8
# A title after the comma that is not in the list is kept as read when it holds one of these words.
TITLE_WORDS = frozenset({"officer", "agent", "director", "supervisor", "supervisory", "chief", "deputy",
                         "specialist", "inspector", "assistant", "commander"})
# An abbreviation is printed in capitals; OCR reads its O as a zero now and then ("D0"), and
# in three letters or more its I as another upright stroke ("TEA", "lEA"; no listed
# abbreviation holds a T or an L; two letters are too few to tell "TO" from "IO").
_ABBREVIATION_LOOKALIKES = str.maketrans({"0": "O", "1": "I"})
_STROKE_LOOKALIKES = str.maketrans({"T": "I", "L": "I", "l": "I", "|": "I"})


@cache
def officer_titles() -> tuple[tuple[str, str | None], ...]:
    """(title, abbreviation) pairs, the longest title first."""
    pairs: list[tuple[str, str | None]] = []
    for line in TITLES_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        title, _, abbreviation = (part.strip() for part in line.partition("|"))
        pairs.append((title, abbreviation or None))
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def match_title(text: str, *, cut: bool = False) -> str | None:
    """The listed title ``text`` is (its abbreviation, or the title with an OCR slip or two;
    with ``cut``, also the title's beginning cut off by its field), written as listed."""
    return _scored_title(text, cut=cut)[0]


def _scored_title(text: str, *, cut: bool = False) -> tuple[str | None, float]:
    bare = text.strip(" .,;:()")
    if not bare:
        return None, 0.0
    if (bare.isupper() or bare[1:].isupper()) and " " not in bare:
        wanted = bare.translate(_ABBREVIATION_LOOKALIKES)
        if len(wanted) >= 3:
            wanted = wanted.translate(_STROKE_LOOKALIKES)
        for title, abbreviation in officer_titles():
            if abbreviation == wanted:
                return title, 100.0
    folded = fold(bare)
    if len(folded) < 2:
        return None, 0.0
    best: tuple[float, str] | None = None
    for title, _ in officer_titles():
        full = fold(title)
        score = float(fuzz.ratio(folded, full))
        if cut and len(folded) >= MIN_PREFIX and len(folded) < len(full):
            score = max(score, float(fuzz.ratio(folded, full[: len(folded)])))
        if score >= TITLE_SCORE and (best is None or score > best[0]):
            best = (score, title)
    return (best[1], best[0]) if best is not None else (None, 0.0)


def _looks_like_title(text: str) -> bool:
    return any(word in TITLE_WORDS for word in fold(text).split())


def _has_name(text: str) -> bool:
    return bool(re.search(r"[A-Za-z]{2}", text))


def split_officer(text: str | None) -> tuple[str | None, str | None]:
    """(name, title) of an officer's line; either may be None. The title is written as listed
    (an abbreviation expanded), or as read when it is an unlisted title after a comma."""
    if not text:
        return None, None
    value = re.sub(r"\s+", " ", text).strip(" \t_:;|,.-—–=~*[]{}«»\"'")
    if not value:
        return None, None
    value = re.sub(r"^([A-Z]),\s*", r"\1. ", value)  # "J, Nguyen": an initial's period read as a comma
    title = match_title(value)
    if title is not None:  # a title alone (its line's name read elsewhere)
        return None, title
    if "," in value:
        left, _, right = (part.strip() for part in value.partition(","))
        title = match_title(right, cut=True)
        if title is not None or _looks_like_title(right):
            return left or None, title or right
        title = match_title(left)
        if title is not None and _has_name(right):  # "Deportation Officer, J. Doe"
            return right, title
        return left or None, None  # "J. Doe, ERO Boston": what follows the comma is not a title
    words = value.split(" ")
    # The title before the name ("DO Jennifer Ortiz") or after it ("J. Doe  Deportation
    # Officer", cut short on the warrant): of the splits with a name left, the one whose title
    # part reads best as a listed title ("Doe Deportation Officer" is near the title too).
    best: tuple[float, int, str, str] | None = None
    for count in range(1, len(words)):
        for title_part, name_part, cut in ((words[:count], words[count:], False),
                                           (words[count:], words[:count], True)):
            title, score = _scored_title(" ".join(title_part), cut=cut)
            name = " ".join(name_part)
            if title is not None and _has_name(name) and (best is None or score > best[0]):
                best = (score, len(title_part), name, title)
    if best is not None:
        return best[2], best[3]
    return value, None
