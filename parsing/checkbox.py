"""Checkbox geometry, all of it: where a box is on the ink and how much of a mark it holds.

A box is found left of an option's label (:func:`read_box`: the first inked object left of
the label's first OCR word), by its shape alone (:func:`find_boxes`), as the square starting
a line (:func:`leading_square`) or by its place in the column of its neighbours' boxes
(:func:`box_above`, :func:`box_between`). Its interior (borders excluded) is measured
(:func:`mark_density`): an empty box is white inside, an X, a tick or a filled square puts
ink there. OCR characters are never used to decide the state. Which option a box belongs to
is ``parsing.checkread``'s business.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from parsing.layout import Line
from parsing.models import BBox
from parsing.ocr import Word

CHECKED_DENSITY = 0.07  # fraction of inked interior pixels above which a box counts as checked
# A box found only by its place in its column, between or above boxes its label found.
COLUMN_BOX_CONFIDENCE = 0.6


@dataclass(frozen=True)
class BoxReading:
    checked: bool
    density: float
    confidence: float
    bbox: BBox | None


def read_box(ink: np.ndarray, anchor: Word, line_height: float) -> BoxReading:
    """Find and read the checkbox just left of ``anchor`` (the option label's first word).

    The box is found by its borders: rows and columns that are inked across most of the
    object's extent. A stroke from a neighbouring mark (a tick reaching up from the box
    below) makes no full row or column, so it cannot move the box or count as its ink.
    """
    h = max(8.0, float(line_height))
    page_h = ink.shape[0]
    top = max(0, int(anchor.top - 0.5 * h))
    bottom = min(page_h, int(anchor.bottom + 0.5 * h))
    right = max(0, anchor.left - 1)
    left = max(0, int(anchor.left - 4.5 * h))
    if right - left < 4 or bottom - top < 4:
        return BoxReading(False, 0.0, 0.0, None)
    window = ink[top:bottom, left:right]
    # Columns are judged on the label's middle band only: a box's sides cross it, while
    # print from the lines above and below does not.
    mid = int(anchor.cy - top)
    band = window[max(0, mid - int(0.3 * h)): mid + int(0.3 * h) + 1]
    cols = band.sum(axis=0)
    # Scan leftwards from the label: skip the white gap to the box's right side; its left
    # side is the leftmost ink of the band within a box width (an empty box is white
    # between its sides).
    x = window.shape[1] - 1
    while x >= 0 and cols[x] == 0:
        x -= 1
    if x < 0:
        return BoxReading(False, 0.0, 0.3, None)
    x1 = x
    reach = max(0, x1 - int(1.8 * h))
    inked = np.nonzero(cols[reach: x1 + 1])[0]
    x0 = reach + int(inked[0])
    if x1 - x0 < 3:
        return BoxReading(False, 0.0, 0.3, None)
    # The box's height: the rows its left side covers. Neither a tick (which leaves the
    # box up and to the right) nor print from neighbouring lines touches that side.
    side = np.asarray(window[:, x0: min(x0 + 3, x1)].any(axis=1))
    centre = int(np.clip(anchor.cy - top, 0, window.shape[0] - 1))
    if not side[centre]:
        inked = np.nonzero(side)[0]
        if inked.size == 0:
            return BoxReading(False, 0.0, 0.3, None)
        centre = int(inked[np.argmin(np.abs(inked - centre))])
    y0 = y1 = centre
    while y0 > 0 and side[y0 - 1]:
        y0 -= 1
    while y1 < len(side) - 1 and side[y1 + 1]:
        y1 += 1
    x1 = _right_side(window[y0: y1 + 1, x0: x1 + 1], x0, x1)
    box = window[y0: y1 + 1, x0: x1 + 1]
    bh, bw = box.shape
    if not looks_like_box(box):
        return BoxReading(False, 0.0, 0.3, None)
    density = mark_density(box)
    checked = density >= CHECKED_DENSITY
    distance = abs(density - CHECKED_DENSITY) / CHECKED_DENSITY
    confidence = float(min(1.0, 0.5 + 0.5 * min(1.0, distance)))
    bbox = BBox(left=left + x0, top=top + y0, width=bw, height=bh)
    return BoxReading(checked, density, confidence, bbox)


def _right_side(found: np.ndarray, x0: int, x1: int) -> int:
    """Where a box found wider than tall really ends: the first column about a box-height
    right of its left side that is inked down most of the box. The label's first letter,
    printed close to the box ("[ ]If checked"), otherwise joins the box and its stroke
    counts as a mark."""
    bh, bw = found.shape
    if bw <= 1.45 * bh:  # a box whose side the fax broke is measured short: leave some room
        return x1
    fill = found.mean(axis=0)
    for column in range(int(0.8 * bh), min(bw, int(1.25 * bh) + 1)):
        if fill[column] >= 0.75:
            return x0 + column
    return x1


def looks_like_box(box: np.ndarray) -> bool:
    """A square-ish outline: the left side inked down most of its height, top and bottom
    across most of the box (print that OCR swallowed is not a box). The right side is not
    checked: a tick's stroke may leave the box there and widen what was found."""
    bh, bw = box.shape
    if bh < 5 or bw < 5 or not 0.6 <= bw / bh <= 1.8:
        return False
    edge = max(1, min(bh, bw) // 6)
    square = box[:, : min(bw, bh)]
    left = square[:, :edge].any(axis=1).mean()
    top = square[:edge].any(axis=0).mean()
    bottom = square[-edge:].any(axis=0).mean()
    return bool(min(left, top, bottom) >= 0.75)


@dataclass(frozen=True)
class FoundBox:
    left: int
    top: int
    width: int  # left side to the outer edge of the right side
    height: int  # the left side's length


def find_boxes(ink: np.ndarray, top: int, bottom: int, left: int, right: int,
               min_size: int, max_size: int) -> list[FoundBox]:
    """Every checkbox-shaped outline whose left side lies in columns ``left:right`` between
    rows ``top`` and ``bottom``, top to bottom: found by shape alone, for options whose
    printed labels OCR lost. A box is two vertical sides of about its height, a box width
    apart, each with white on its outer side; its top and bottom are not required, since
    a standard-resolution fax (98 lines an inch) drops most of those thin rules."""
    height, width = ink.shape
    top, bottom = max(0, top), min(height, bottom)
    left, right = max(1, left), min(width - 2 * max_size - 2, right)
    if bottom - top < min_size or right <= left:
        return []
    region = ink[top:bottom]
    found: list[FoundBox] = []
    for x in range(left, right):
        column = np.asarray(region[:, x: x + 3].any(axis=1))  # a side a fax drew wavering by a pixel
        if not column.any():
            continue
        for y0, y1 in ink_runs(column, max(1, min_size // 5)):
            size = y1 - y0
            if not min_size <= size <= max_size or region[y0:y1, x - 1].mean() > 0.3:
                continue  # not a box's height, or not its outer edge (ink continues leftwards)
            if any(abs(b.top - (top + y0)) <= size // 2 and abs(b.left - x) <= size // 2 for b in found):
                continue  # the same box's left side, a pixel further right
            box_width = _second_side(region[y0:y1], x, size)
            if box_width and _has_rules(region[max(0, y0 - 2): y1 + 2], x, box_width):
                found.append(FoundBox(x, top + y0, box_width, size))
    return sorted(found, key=lambda b: b.top)


def _second_side(rows: np.ndarray, x: int, size: int) -> int:
    """The box's width when a second side stands about a box width right of ``x``, inked down
    most of the box's height, with white between the sides (a bold letter is solid, a box is
    not); 0 when there is none."""
    lo, hi = x + max(3, int(0.6 * size)), min(rows.shape[1], x + int(1.6 * size) + 1)
    if hi <= lo:
        return 0
    cover = rows[:, lo:hi].mean(axis=0)
    sides = np.flatnonzero(cover >= 0.7)
    if sides.size == 0:
        return 0
    right = lo + int(sides[0])
    inside = rows[size // 4: size - size // 4, x + 2: right - 1]
    if inside.size == 0:
        return 0
    if (~inside).mean() < 0.3:  # solid: a filled-in box is square; a bold letter is not
        filled = rows[:, x: x + int(1.5 * size) + 1].mean(axis=0) >= 0.7
        for gap in np.flatnonzero(~filled[1:-1]) + 1:  # a fill streaked by a dropped pixel column
            filled[gap] = filled[gap - 1] and filled[gap + 1]
        start = int(np.argmax(filled))  # the band that found the side may begin a pixel left of it
        ends = np.flatnonzero(~filled[start:])
        width = start + (int(ends[0]) if ends.size else filled.size - start)
        return width if filled[start] and start < 4 and 0.75 * size <= width <= 1.35 * size else 0
    while right + 1 - lo < len(cover) and cover[right + 1 - lo] >= 0.7:
        right += 1  # to the side's outer edge
    return right - x + 1


def _has_rules(rows: np.ndarray, x: int, width: int) -> bool:
    """Some of a top and a bottom rule between the two sides: a fax may keep only the corners
    of a box's thin rules, but an H or a pair of strokes has none at all."""
    box = rows[:, x: x + width]
    if box.mean() >= 0.6:
        return True  # filled in
    sides = box.mean(axis=0) >= 0.5
    inner = box[:, _past_side(sides): width - _past_side(sides[::-1])]
    if inner.shape[1] < 2:
        return False
    band = max(3, rows.shape[0] // 6)
    return bool(inner[:band].any(axis=0).mean() >= 0.15 and inner[-band:].any(axis=0).mean() >= 0.15)


def _past_side(columns: np.ndarray) -> int:
    """Index of the first column after the first side (a run of inked columns)."""
    inked = np.flatnonzero(columns)
    if inked.size == 0:
        return 0
    after = np.flatnonzero(~columns[inked[0]:])
    return int(inked[0] + (after[0] if after.size else columns.size - inked[0]))


def ink_runs(flags: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """(start, end) of the inked runs of a column, gaps of up to ``gap`` white pixels bridged."""
    inked = np.flatnonzero(flags)
    if inked.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(inked) > gap + 1)
    starts = np.concatenate(([inked[0]], inked[breaks + 1]))
    ends = np.concatenate((inked[breaks], [inked[-1]])) + 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def mark_density(box: np.ndarray) -> float:
    """Ink density of the middle half of a box: borders, their ragged edges and specks along
    them stay outside it; an X, a tick or a fill all cross it."""
    bh, bw = box.shape
    interior = box[bh // 4: bh - bh // 4, bw // 4: bw - bw // 4]
    return float(interior.mean()) if interior.size else 0.0


def read_found_box(ink: np.ndarray, box: FoundBox) -> tuple[bool, float]:
    """(checked, mark density) of a box found by shape, judged like ``read_box``."""
    density = mark_density(ink[box.top: box.top + box.height, box.left: box.left + box.width])
    return density >= CHECKED_DENSITY, density


# --------------------------------------------------------------------------- boxes found without their label


def leading_square(ink: np.ndarray, line: Line) -> FoundBox | None:
    """The square at the start of ``line`` whose left side is its first column of ink, as tall
    as that first stroke; None when the stroke is not about a line high."""
    size = line.height
    x0, y0 = max(0, line.words[0].left - int(size / 2)), max(0, line.top - int(size / 4))
    window = ink[y0: line.bottom + int(size / 4), x0: line.words[0].left + int(2 * size)]
    strokes = ink_runs(np.asarray(window.any(axis=0)), 1)
    if not strokes:
        return None
    first, stroke_end = strokes[0]  # the first run of inked columns
    # The stroke's run of rows through the line's middle (ink of the lines above and below
    # may reach into the window).
    middle = (line.top + line.bottom) // 2 - y0
    runs = ink_runs(np.asarray(window[:, first:stroke_end].any(axis=1)), 2)
    run = next(((a, b) for a, b in runs if a <= middle < b), None)
    if run is None:
        return None
    height = run[1] - run[0]
    if not 0.6 * size <= height <= 1.8 * size:
        return None
    return FoundBox(left=x0 + first, top=y0 + run[0], width=height, height=height)


def close_gaps(flags: np.ndarray, gap: int) -> np.ndarray:
    """Bridge white gaps of at most ``gap`` rows between inked rows (a fax drops pixels of a
    box's side, a mark's stroke can break it)."""
    closed = flags.copy()
    inked = np.nonzero(flags)[0]
    for a, b in pairwise(inked):
        if 1 < b - a <= gap + 1:
            closed[a:b] = True
    return closed


def box_above(ink: np.ndarray, after: BBox) -> BoxReading | None:
    """The one box in the column just above a found box (the first option of a group)."""
    bottom = after.top - 2
    top = max(0, bottom - int(4.5 * after.height))
    return box_in_column(ink, after.left, after.width, after.height, top, bottom)


def box_between(ink: np.ndarray, a: BBox, b: BBox | None) -> BoxReading | None:
    """The one box in the column between two found boxes ``a`` and ``b`` (or just below ``a``, the last one)."""
    size = (a.height + b.height) // 2 if b is not None else a.height
    x0 = min(a.left, b.left) if b is not None else a.left
    top = a.top + a.height + 2
    bottom = b.top - 2 if b is not None else min(ink.shape[0], top + int(3.5 * size))
    width = (a.width + b.width) // 2 if b is not None else a.width
    return box_in_column(ink, x0, width, size, top, bottom)


def box_in_column(
    ink: np.ndarray, x0: int, width: int, size: int, top: int, bottom: int
) -> BoxReading | None:
    """The one box-shaped object whose left side lies in the column x0 between top and bottom."""
    if bottom - top < size:
        return None
    side = close_gaps(np.asarray(ink[top:bottom, x0: x0 + 3].any(axis=1)), max(1, size // 5))
    runs, start = [], None
    for y, flag in enumerate(np.append(side, False)):
        if flag and start is None:
            start = y
        elif not flag and start is not None:
            if 0.7 * size <= y - start <= 1.4 * size:
                runs.append((start, y))
            start = None
    boxes = [(top + r0, top + r1) for r0, r1 in runs if looks_like_box(ink[top + r0: top + r1, x0: x0 + width])]
    if len(boxes) != 1:  # none, or print passing through the column: do not guess
        return None
    y0, y1 = boxes[0]
    box = ink[y0:y1, x0: x0 + width]
    bh, bw = box.shape
    density = mark_density(box)
    bbox = BBox(left=x0, top=y0, width=bw, height=bh)
    return BoxReading(density >= CHECKED_DENSITY, density, COLUMN_BOX_CONFIDENCE, bbox)
