"""Checkbox state from the IMAGE: ink inside the box left of an option's label.

The label is found in the OCR words; the box is the first inked object to its left
on the same line. Its interior (borders excluded) is measured: an empty box is
white inside, an X, a tick or a filled square puts ink there. OCR characters are
never used to decide the state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parsing.models import BBox
from parsing.ocr import Word

CHECKED_DENSITY = 0.07  # fraction of inked interior pixels above which a box counts as checked


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
    # The mark is judged on the middle half of the box: borders, their ragged edges and
    # specks along them stay outside it; an X, a tick or a fill all cross it.
    interior = box[bh // 4: bh - bh // 4, bw // 4: bw - bw // 4]
    density = float(interior.mean()) if interior.size else 0.0
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
