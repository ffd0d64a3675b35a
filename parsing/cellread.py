"""A value printed under its caption inside a ruled cell (``layout = "right_or_below"``).

Many forms, and copies re-typed by other offices, print the header block as a grid: each cell
holds its caption at the top left ("Subject ID:", "Date of Birth:") and the value under it.
When nothing but the next caption stands right of a label, its value is the first line under
the label inside its cell. The cell is bounded sideways by its rules where the ink shows
them, else by the label's left edge and the next label right of it on the caption's line (the
next cell's caption); downwards by a rule across the cell, by a line holding another label
(the next row of captions), or by white space a few caption heights tall.
"""

from __future__ import annotations

import numpy as np

from parsing.boxread import FIRST_LINE_REACH, JUNK, RULE_SHARE, next_label_start
from parsing.layout import Line, Span, find_in_line, span_words
from parsing.ocr import Word
from parsing.templates import FieldSpec, Template

# A column inked over this share of the cell's rows (caption to value) is a cell's side rule;
# the tallest glyph of a value covers well under half of them.
SIDE_RULE_SHARE = 0.8
# A word left of the cell ending closer than this many line heights before the cell's first
# word runs on into it: the line is running text crossing the cell, not a value inside it.
RUN_ON_GAP = 1.0


def cell_bounds(
    line: Line, span: Span, template: Template, spec: FieldSpec, page_width: int, ink: np.ndarray | None,
) -> tuple[float, float]:
    """Left and right edge of the label's cell (page pixels)."""
    label = span_words(line, span.start, span.end)
    height = line.height
    left = min(w.left for w in label) - 0.5 * height
    right = spec.x_range[1] * page_width
    next_start = next_label_start(line, span.end, template, spec.labels)
    after = [w for w in span_words(line, next_start, len(line.text)) if w.left > left]
    if after:  # the next cell's caption
        right = min(right, min(w.left for w in after) - 0.5 * height)
    if ink is not None:
        top = min(w.top for w in label)
        bottom = min(ink.shape[0], int(max(w.bottom for w in label) + 2.5 * height))
        label_right = max(w.right for w in label)
        rules = _side_rules(ink, top, bottom, max(0, int(left - 1.5 * height)), min(ink.shape[1], int(right)))
        before = [x for x in rules if x < left + 0.5 * height]
        beyond = [x for x in rules if x > label_right]
        if before:
            left = max(before)
        if beyond:
            right = min(beyond)
    return left, right


def within_cell(
    line: Line, span: Span, template: Template, spec: FieldSpec, page_width: int, ink: np.ndarray | None,
    words: list[Word],
) -> bool:
    """Whether the words read right of the label stand inside the label's cell: beyond its side
    rule they are the next cell's print (a caption OCR garbled past recognition), not a value."""
    if not words or not span_words(line, span.start, span.end):
        return True
    _, right = cell_bounds(line, span, template, spec, page_width, ink)
    return all(w.left < right for w in words)


def _side_rules(ink: np.ndarray, top: int, bottom: int, x0: int, x1: int) -> list[int]:
    """Columns between x0 and x1 inked over SIDE_RULE_SHARE of the rows top..bottom."""
    if bottom - top < 4 or x1 - x0 < 2:
        return []
    share = ink[top:bottom, x0:x1].mean(axis=0)
    return [x0 + int(x) for x in np.nonzero(share >= SIDE_RULE_SHARE)[0]]


def _rule_across(ink: np.ndarray, top: int, bottom: int, left: float, right: float) -> bool:
    """A rule across the cell in the white between two lines (its bottom edge)."""
    x0, x1 = max(0, int(left) + 2), min(ink.shape[1], int(right) - 2)
    y0, y1 = max(0, top + 1), min(ink.shape[0], bottom - 1)
    if x1 - x0 < 4 or y1 <= y0:
        return False
    return bool((ink[y0:y1, x0:x1].mean(axis=1) >= RULE_SHARE).any())


def cell_below(
    lines: list[Line], span: Span, spec: FieldSpec, template: Template, page_width: int,
    ink: np.ndarray | None = None,
) -> tuple[str, list[Word]]:
    """The value under the label at ``span`` inside its cell (at most ``spec.lines`` lines),
    or ("", []) when the cell holds nothing below its caption."""
    line = lines[span.line]
    if not span_words(line, span.start, span.end):
        return "", []
    left, right = cell_bounds(line, span, template, spec, page_width, ink)
    others = [label for label in template.all_labels if label not in spec.labels]
    chosen: list[tuple[str, list[Word]]] = []
    previous = line
    for below in lines[span.line + 1:]:
        if len(chosen) >= spec.lines:
            break
        if below.top - previous.bottom > FIRST_LINE_REACH * line.height:
            break
        inside = [w for w in below.words if left <= w.left < right and not JUNK.fullmatch(w.text)]
        if not inside:
            continue
        if ink is not None and _rule_across(ink, previous.bottom, min(w.top for w in inside), left, right):
            break  # the cell's bottom edge: what follows is another cell's
        first = min(w.left for w in inside)
        # Running text crossing the cell (a paragraph under a caption left blank) is no value.
        if any(w.left < left and w.right > first - RUN_ON_GAP * below.height for w in below.words):
            break
        cell_line = Line(list(inside))
        if any(find_in_line(cell_line, label, 90.0) for label in others):
            break  # the next row of captions: this cell is empty
        chosen.append((cell_line.text, inside))
        previous = cell_line
    return " ".join(text for text, _ in chosen), [w for _, words in chosen for w in words]
