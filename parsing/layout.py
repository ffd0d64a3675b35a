"""Words -> text lines, and OCR-tolerant label search inside them (rapidfuzz)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import median

from rapidfuzz import fuzz

from parsing.models import BBox
from parsing.ocr import Word


@dataclass
class Line:
    words: list[Word]
    text: str = ""
    starts: list[int] = field(default_factory=list)  # char offset of each word in ``text``

    def __post_init__(self) -> None:
        self.words.sort(key=lambda w: w.left)
        parts, starts, offset = [], [], 0
        for word in self.words:
            starts.append(offset)
            parts.append(word.text)
            offset += len(word.text) + 1
        self.text = " ".join(parts)
        self.starts = starts

    @property
    def top(self) -> int:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> int:
        return max(w.bottom for w in self.words)

    @property
    def height(self) -> float:
        return float(median(w.height for w in self.words))

    def word_index_at(self, offset: int) -> int:
        """Index of the word covering char ``offset`` (or the next word after a space)."""
        for index in range(len(self.starts) - 1, -1, -1):
            if self.starts[index] <= offset:
                if offset >= self.starts[index] + len(self.words[index].text) and index + 1 < len(self.words):
                    return index + 1
                return index
        return 0


def group_lines(words: list[Word]) -> list[Line]:
    """Cluster words into visual lines by vertical overlap; lines sorted top to bottom."""
    if not words:
        return []
    heights = sorted(w.height for w in words)
    typical = heights[len(heights) // 2] or 10
    ordered = sorted(words, key=lambda w: (w.cy, w.left))
    lines: list[list[Word]] = []
    centres: list[float] = []
    for word in ordered:
        # Words much taller than text (rules, boxes, logos) join the closest line only if it overlaps.
        best, best_gap = None, None
        for index in range(len(lines) - 1, max(-1, len(lines) - 4), -1):
            gap = abs(centres[index] - word.cy)
            if gap <= max(typical, min(word.height, typical * 2)) * 0.55 and (best_gap is None or gap < best_gap):
                best, best_gap = index, gap
        if best is None:
            lines.append([word])
            centres.append(word.cy)
        else:
            lines[best].append(word)
            members = lines[best]
            centres[best] = sum(w.cy for w in members) / len(members)
    result = [Line(ws) for ws in lines]
    result.sort(key=lambda line: line.top)
    return result


# Length-preserving normalisation for alignment (char offsets must map back to words).
_ALIGN = str.maketrans({";": ":", "’": "'", "‘": "'", "–": "-", "—": "-", "|": "l", "`": "'"})


# Labels and line texts are folded again for every label looked for: cached (pure functions).
@lru_cache(maxsize=8192)
def align_form(text: str) -> str:
    return text.lower().translate(_ALIGN)


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form used for fuzzy comparisons."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'").replace("–", "-").replace("—", "-")
    text = re.sub(r"[^0-9A-Za-z#:/()\-' ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass
class Span:
    """A run of characters of one line: a found label, or a value."""

    line: int  # index into the page's lines
    start: int  # char offsets into the line text
    end: int
    score: float = 100.0


def find_in_line(line: Line, needle: str, min_score: float) -> Span | None:
    """Best fuzzy occurrence of ``needle`` in the line, aligned to word starts. A label ending
    in a colon is also found printed with a space before its colon ("Date :", "Sex :"), and
    its span then takes the colon in."""
    span = _find_in_line(line, needle, min_score)
    if needle.endswith(":"):
        spaced = _COLON_AFTER.match(line.text, span.end) if span is not None else None
        if span is not None and spaced is not None and not line.text[span.start:span.end].rstrip().endswith(":"):
            return Span(span.line, span.start, spaced.end(), span.score)
        if span is None:
            bare = _find_in_line(line, needle[:-1].rstrip(), min_score)
            spaced = _COLON_AFTER.match(line.text, bare.end) if bare is not None else None
            if bare is not None and spaced is not None:
                return Span(bare.line, bare.start, spaced.end(), bare.score)
    return span


# A label's colon printed (or read) apart from it: "Date :", "Sex ;".
_COLON_AFTER = re.compile(r"\s{0,2}[:;]")
# A short label's match may not run on into a longer word ("DOB:" is not in "DOBSON").
_WORD_GOES_ON = re.compile(r"[A-Za-z]{2}")


def _find_in_line(line: Line, needle: str, min_score: float) -> Span | None:
    hay = line.text
    folded_needle = fold(needle)
    if not folded_needle:
        return None
    lowered, wanted = align_form(hay), align_form(needle)
    exact = lowered.find(wanted)
    if exact >= 0 and (exact == 0 or not hay[exact - 1].isalnum()):
        return Span(-1, exact, exact + len(needle), 100.0)
    if len(lowered) < len(wanted) * 0.8:
        return None  # partial_ratio would align the line inside the label instead
    result = fuzz.partial_ratio_alignment(wanted, lowered, processor=None, score_cutoff=min_score)
    if result is None:
        return None
    start, end = result.dest_start, result.dest_end
    if end - start < len(wanted) * 0.75:
        return None
    # Snap to the start of the word the match begins in (a partial word match is only
    # acceptable when the label starts mid-word because OCR glued it to the previous word).
    word = line.word_index_at(start)
    word_start = line.starts[word]
    if start - word_start > 2:
        return None
    if len(folded_needle) <= 6:
        # Short labels ("Sex:", "TO:") must match almost exactly, from a word start.
        candidate = fold(hay[word_start:end])
        if fuzz.ratio(candidate, folded_needle) < 85:
            return None
        if _WORD_GOES_ON.match(hay, end):  # the match ends inside a longer word ("DOB" in "DOBSON")
            return None
    return Span(-1, start, end, float(result.score))


def span_words(line: Line, start: int, end: int) -> list[Word]:
    """The words of ``line`` overlapping chars [start, end)."""
    chosen = []
    for word, offset in zip(line.words, line.starts, strict=True):
        if offset < end and offset + len(word.text) > start:
            chosen.append(word)
    return chosen


def union_box(words: list[Word]) -> BBox | None:
    if not words:
        return None
    left = min(w.left for w in words)
    top = min(w.top for w in words)
    right = max(w.right for w in words)
    bottom = max(w.bottom for w in words)
    return BBox(left=left, top=top, width=right - left, height=bottom - top)


def page_text(lines: list[Line]) -> str:
    return "\n".join(line.text for line in lines)
