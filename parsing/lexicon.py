"""Known-value lists a field reading snaps to (``parsing/templates/<name>.txt``).

A garbled reading of a value that can only be one of a few dozen printed strings (the
ICE field offices) is corrected to the entry it clearly resembles; a reading that
resembles two entries about equally, or none, is kept as read. Only OCR slips are
corrected, never another name: the reading must be a few slips from the entry in all
(relative to its length) and in each of its words ("Boston Police Department" is not
"CITY POLICE DEPARTMENT", however alike the rest of the line).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz, utils
from rapidfuzz.distance import Indel, Levenshtein

LEXICON_DIR = Path(__file__).with_name("templates")
CUTOFF = 80.0  # rapidfuzz ratio (0-100) a reading needs to snap
# ... and it must be nearer its entry than any other entry by a whole substitution (two
# Indel edits): "DISTRICT A-?" is as near A-1 as A-7, "A-11" one edit from A-1 and two from
# C-11; both stay as read rather than become a clean-looking wrong name.
MARGIN = 2
# The part of an entry that tells it from the others ("A-7" of "... DISTRICT A-7") must
# itself be read: exactly when it is this short, else with one slip per this many glyphs.
# "DISTRICT #7?" is nearest A-7 by far, but its letter was lost and its digit may be the
# misread (it was B-2): such a reading is kept as read.
SHORT_CORE = 4
CORE_GLYPHS_PER_SLIP = 4
# At most one slip per this many glyphs of the entry in all (and at least MIN_SLIPS), counted
# after the confusion folding below; and in each word of the entry, counted on the letters as
# read (no folding), at most one slip per WORD_GLYPHS_PER_SLIP glyphs: "QUINCY" or "LYNN" is
# another word than "CITY" ("LYNN" folds to two slips from it), "ase a" a garbled "Area".
GLYPHS_PER_SLIP = 8
MIN_SLIPS = 2
WORD_GLYPHS_PER_SLIP = 2


@cache
def lexicon(name: str) -> tuple[str, ...]:
    path = LEXICON_DIR / f"{name}.txt"
    if not name or not path.is_file():
        return ()
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


# Glyphs OCR confuses, folded to one class on both sides before comparing, so "C-LL" is
# nearer "C-11" than "C-6" and "P0LICE" reads as "POLICE".
_CONFUSIONS = str.maketrans({"l": "1", "i": "1", "t": "1", "|": "1", "o": "0", "d": "0", "q": "0",
                             "s": "5", "b": "8", "z": "2", "g": "6"})


# A bar or bracket ending a word ("DISTRICT A-}") is a 1 whose serifs blurred: kept as the
# digit, where the punctuation stripping below would drop the glyph that tells A-1 from A-7.
_STROKE_AT_WORD_END = re.compile(r"(?<=[0-9A-Za-z-])[|)}\]!](?=\s|$)")


def _plain(text: str) -> str:
    return str(utils.default_process(_STROKE_AT_WORD_END.sub("1", text)))


def _fold(text: str) -> str:
    return _plain(text).translate(_CONFUSIONS)


@cache
def _folded(choices: tuple[str, ...]) -> tuple[str, ...]:
    """The entries folded once per list, not once per reading compared with them."""
    return tuple(_fold(choice) for choice in choices)


def snap_score(text: str, choices: Sequence[str]) -> tuple[str | None, float]:
    """(the entry ``text`` clearly reads as, or None; the best similarity 0-100)."""
    folded = _fold(text)
    if not folded or not choices:
        return None, 0.0
    entries = _folded(tuple(choices))
    bare = folded.replace(" ", "")
    for index, entry in enumerate(entries):
        if entry.replace(" ", "") == bare:  # the entry itself, spaced differently ("D4")
            return str(choices[index]), 100.0
    ranked = sorted((Indel.distance(folded, entry), index) for index, entry in enumerate(entries))
    distance, index = ranked[0]
    score = float(fuzz.ratio(folded, entries[index]))
    runner_up = ranked[1][0] if len(ranked) > 1 else None
    if score >= CUTOFF and (runner_up is None or runner_up - distance >= MARGIN) \
            and _few_slips(text, folded, choices[index]) and _core_read(folded, entries, index):
        return str(choices[index]), score
    return None, score


@cache
def _core_positions(entries: tuple[str, ...], index: int) -> frozenset[int]:
    """Where ``entries[index]`` holds its distinguishing words: those printed in fewer than
    half of the entries ("A", "7" of "... DISTRICT A-7"; "BOSTON" of "Boston Area of ...")."""
    counts: dict[str, int] = {}
    for entry in entries:
        for word in set(entry.split()):
            counts[word] = counts.get(word, 0) + 1
    positions: set[int] = set()
    at = 0
    entry = entries[index]
    for word in entry.split(" "):
        if word and counts.get(word, 0) * 2 < len(entries):
            positions.update(range(at, at + len(word)))
        at += len(word) + 1
    return frozenset(positions)


def _few_slips(text: str, folded: str, entry: str) -> bool:
    """``text`` is ``entry`` read with a few OCR slips, not another name sharing its words."""
    if Levenshtein.distance(folded, _fold(entry)) > max(MIN_SLIPS, len(entry) // GLYPHS_PER_SLIP):
        return False
    plain, wanted = _plain(text), _plain(entry)
    ops = Levenshtein.editops(plain, wanted)
    at = 0
    for word in wanted.split(" "):
        slips = sum(1 for op in ops if at <= op.dest_pos < at + len(word))
        if word and slips > len(word) // WORD_GLYPHS_PER_SLIP:
            return False
        at += len(word) + 1
    return True


def _core_read(folded: str, entries: tuple[str, ...], index: int) -> bool:
    if len(entries) < 2:
        return True
    core = _core_positions(entries, index)
    slips = sum(1 for op in Levenshtein.editops(folded, entries[index]) if op.dest_pos in core)
    allowed = 0 if len(core) <= SHORT_CORE else len(core) // CORE_GLYPHS_PER_SLIP
    return slips <= allowed


def snap(text: str, choices: Sequence[str]) -> str:
    value, _ = snap_score(text, choices)
    return value if value is not None else text
