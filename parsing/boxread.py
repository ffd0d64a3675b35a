"""A value printed under its caption, in a box of one or more lines (the I-247's TO and FROM).

The box is the region under the caption: it ends at the next caption, at a rule across its
column (the box's bottom edge), at a gap wider than the box's line spacing, or after the
template's ``lines``; sideways it is bounded by the template's band of the page width and by
the next caption on the caption's line (the other box beside it). Every line of the box is
the value, joined with the template's ``join`` (", " for an address).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz

from parsing.fields import clean_text
from parsing.layout import Line, Span, align_form, find_in_line, fold, span_words
from parsing.lexicon import snap_score
from parsing.ocr import Word
from parsing.templates import FieldSpec, Template

# A word that is only a fax streak or speck read as punctuation.
JUNK = re.compile(r"[|!¦:;,.'`‘’\"_~]+")
# A row inked over this share of the column's width is a rule (a box's edge), not print.
RULE_SHARE = 0.6
# Before its first line, a box may stand this many caption heights below the caption.
FIRST_LINE_REACH = 4.0

# A word of a garbled caption line scores this against the caption's own word ("Entorcempni": 73).
CAPTION_WORD_SCORE = 65.0

BoxLines = list[tuple[str, list[Word]]]


def next_label_start(line: Line, after: int, template: Template, own: tuple[str, ...]) -> int:
    """Char offset of the first other label on ``line`` starting at or after ``after``."""
    rest_start = len(line.text)
    tail = Line(
        [w for w, s in zip(line.words, line.starts, strict=True) if s >= after]
    ) if after < len(line.text) else None
    if tail is None or not tail.words:
        return rest_start
    base = line.starts[len(line.words) - len(tail.words)]
    for label in template.all_labels:
        if label in own:
            continue
        span = find_in_line(tail, label, 82.0)
        if span is None and label.endswith(":"):
            # A label read too loosely to be found ("Evem #:") still ends the value before it
            # when its colon was read: no header value holds a colon.
            loose = find_in_line(tail, label, LOOSE_LABEL_SCORE)
            span = loose if loose is not None and tail.text[:loose.end].rstrip().endswith((":", ";")) else None
        start = _label_begins(tail.text, label, span.start) if span is not None else _glued_label(tail.text, label)
        if start is not None and base + start < rest_start:
            rest_start = base + start
    return rest_start


# A next label whose colon was read ends the value before it from this looser score ("Evem #:": 80).
LOOSE_LABEL_SCORE = 70.0
# A label is found glued to the value before it only when read whole and this long ("Event #:").
GLUED_LABEL_CHARS = 5
# The most characters of a label's beginning a loose match may have left before it ("E" of "Event").
LABEL_HEAD_CHARS = 3


def _label_begins(text: str, label: str, start: int) -> int:
    """Where a label found loosely at ``start`` begins: a loose match may have left the label's
    first letters before it, in the same word or as a word of their own ("5898929445 E|vent No:"
    read as the value "5898929445 E"); those letters are the label's, not the value's."""
    head = fold(label).replace(" ", "")
    found = fold(text[start:]).replace(" ", "")
    before = text[:start].rstrip()
    for size in range(LABEL_HEAD_CHARS, 0, -1):
        piece = before[-size:]
        if len(piece) == size and fold(piece) == head[:size] and not found.startswith(head[:size]) \
                and found.startswith(head[size: size + 2]):
            cut = len(before) - size
            # The piece stands alone, or the label's own word was split; never the tail of a longer value word.
            if cut == 0 or not before[cut - 1].isalnum() or start - cut <= size:
                return cut
    return start


def _glued_label(text: str, label: str) -> int | None:
    """A label read whole but glued to the value before it ("5898929445Event #:"), which the
    word-aligned search does not find."""
    wanted = align_form(label)
    if len(wanted) < GLUED_LABEL_CHARS:
        return None
    at = align_form(text).find(wanted)
    return at if at > 0 else None


def box_texts(chosen: Sequence[tuple[str, list[Word]]]) -> list[str]:
    """The box's lines as text, without the stray marks OCR leaves at their ends."""
    return [text for text in (clean_text(text) for text, _ in chosen) if text]


def joined(spec: FieldSpec, chosen: Sequence[tuple[str, list[Word]]]) -> tuple[str, list[Word]]:
    """The box's lines as one value (the template's ``join``) and all their words; each line
    without the stray marks OCR leaves at its ends, so the separator stands alone."""
    return spec.join.join(box_texts(chosen)), [w for _, words in chosen for w in words]


def snap_box(spec: FieldSpec, chosen: BoxLines, choices: Sequence[str]) -> tuple[str, bool]:
    """The box's value with each line that clearly is a known entry written as the entry
    (a configured one-line name is the box's first line; an office name, whichever line holds
    it); the whole box compared too, for an entry listed with all its lines. True when an entry
    was found."""
    if not chosen:
        return "", False
    whole, _ = joined(spec, chosen)
    if len(chosen) > 1:
        entry, _ = snap_score(whole, choices)
        if entry is not None:
            return entry, True
    texts, found = [], False
    for text, _ in chosen:
        entry, _ = snap_score(text, choices)
        found = found or entry is not None
        texts.append(entry if entry is not None else clean_text(text))
    return spec.join.join(text for text in texts if text), found


def column_bounds(line: Line, span: Span, spec: FieldSpec, template: Template, page_width: int) -> tuple[float, float]:
    """The value column: the template's band of the page width, narrowed by the label's left
    edge and by the next label on the label's line (the box beside it)."""
    band_left, band_right = spec.x_range[0] * page_width, spec.x_range[1] * page_width
    label_words = span_words(line, span.start, span.end)
    if spec.x_range[0] != 0 or not label_words or min(w.left for w in label_words) >= band_right:
        return band_left, band_right  # (or the caption found is the row partner's, beside the band)
    left = max(band_left, min(w.left for w in label_words) - 0.5 * line.height)
    next_start = next_label_start(line, span.end, template, spec.labels)
    right_words = [w for w in span_words(line, next_start, len(line.text)) if w.left > left]
    return left, min([w.left - 0.5 * line.height for w in right_words] + [band_right])


def box_lines(
    lines: list[Line], span: Span, spec: FieldSpec, template: Template, page_width: int, limit: int,
    ink: np.ndarray | None = None,
) -> BoxLines:
    """The lines of the box under the caption at ``span`` (at most ``limit``), top to bottom."""
    line = lines[span.line]
    left, right = column_bounds(line, span, spec, template, page_width)
    return _take(lines, span.line, line, left, right, spec, template, limit, ink)


def lines_from(
    lines: list[Line], first: int, words: list[Word], spec: FieldSpec, template: Template, page_width: int,
    ink: np.ndarray | None = None,
) -> BoxLines:
    """A box found by one of its lines (its caption lost): that line and the box's lines below it."""
    band_left, band_right = spec.x_range[0] * page_width, spec.x_range[1] * page_width
    start = Line(list(words))
    left = max(band_left, min(w.left for w in words) - start.height)
    rest = _take(lines, first, start, left, band_right, spec, template, spec.lines - 1, ink, started=True)
    return [(start.text, list(words)), *rest]


def _take(
    lines: list[Line], index: int, caption: Line, left: float, right: float, spec: FieldSpec, template: Template,
    limit: int, ink: np.ndarray | None, *, started: bool = False,
) -> BoxLines:
    chosen: BoxLines = []
    previous = caption  # the caption (or the box's first line), then each line taken
    others = [label for label in template.all_labels if label not in spec.labels]
    for below in lines[index + 1:]:
        if len(chosen) >= limit:
            break
        in_column = [w for w in below.words if w.left >= left - caption.height and w.left < right
                     and not JUNK.fullmatch(w.text)]
        if not in_column:
            if below.top - previous.bottom > FIRST_LINE_REACH * caption.height:
                break
            continue
        column_line = Line(list(in_column))
        if any(_is_skip_line(column_line, skip) for skip in spec.skip_lines) \
                or (not (chosen or started) and _caption_remnant(column_line, spec)):
            previous = column_line
            continue
        if any(find_in_line(column_line, label, 90.0) for label in others):
            break
        gap = column_line.top - previous.bottom
        if (chosen or started) and gap > spec.line_gap * max(column_line.height, previous.height):
            break  # below the box's last line: white space wider than its line spacing
        if not (chosen or started) and gap > FIRST_LINE_REACH * caption.height:
            break
        if ink is not None and _rule_between(ink, previous.bottom, column_line.top, left, right):
            break  # the box's bottom edge
        chosen.append((column_line.text, list(in_column)))
        previous = column_line
    return chosen


def _rule_between(ink: np.ndarray, top: int, bottom: int, left: float, right: float) -> bool:
    """A rule across the column in the white between two lines (ink over RULE_SHARE of a row)."""
    x0, x1 = max(0, int(left)), min(ink.shape[1], int(right))
    y0, y1 = max(0, top + 1), min(ink.shape[0], bottom - 1)
    if x1 - x0 < 4 or y1 <= y0:
        return False
    return bool((ink[y0:y1, x0:x1].mean(axis=1) >= RULE_SHARE).any())


def _plain_words(text: str) -> list[str]:
    return [w for w in re.sub(r"[^0-9a-z ]+", "", text.lower()).split() if w]


def _caption_remnant(line: Line, spec: FieldSpec) -> bool:
    """Above the box's first line, a line whose words are loosely the caption's continuation: a
    fax split "Enforcement Agency)" over two lines and garbled one ("Entorcempni")."""
    caption = [w for skip in spec.skip_lines for w in _plain_words(skip)]
    words = _plain_words(line.text)
    if not (caption and words):
        return False
    alike = sum(max(fuzz.ratio(w, c) for c in caption) >= CAPTION_WORD_SCORE for w in words)
    # Every word like the caption's, or no more words than it has and half of them like its
    # ("Entexcement Ayoticy)": the second word too garbled to tell).
    return alike == len(words) or (len(words) <= len(caption) and 2 * alike >= len(words))


def caption_text(text: str, spec: FieldSpec, template: Template) -> bool:
    """A line of text (a re-read's) that is the box's caption or a piece of it, not a value line."""
    line = Line([Word(token, 10 * i, 0, 8, 10, 90.0) for i, token in enumerate(text.split())])
    if not line.words:
        return False
    return any(_is_skip_line(line, skip) for skip in spec.skip_lines) or _caption_remnant(line, spec) \
        or any(find_in_line(line, label, 85.0) is not None for label in template.all_labels)


def _is_skip_line(line: Line, skip: str) -> bool:
    """A label continuation line ("Enforcement Agency)"), however badly OCR read it: the
    whole label, or its last word, loosely matched."""
    if find_in_line(line, skip, 65.0) is not None:
        return True
    last = skip.split()[-1].lower()
    return any(fuzz.ratio(word.text.lower(), last) >= 70 for word in line.words[-2:])
