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
    run = window[:, x0: x1 + 1]
    width = x1 - x0 + 1
    full_rows = np.nonzero(run.sum(axis=1) >= 0.6 * width)[0]
    if full_rows.size < 2:
        return BoxReading(False, 0.0, 0.3, None)
    # The box's top and bottom borders: the full rows closest to the label's middle line.
    centre = anchor.cy - top
    above = full_rows[full_rows <= centre]
    below = full_rows[full_rows >= centre]
    if above.size == 0 or below.size == 0:
        y0, y1 = int(full_rows[0]), int(full_rows[-1])
    else:
        y0, y1 = int(_run_start(full_rows, above[-1], -1)), int(_run_start(full_rows, below[0], +1))
    box_rows = run[y0: y1 + 1]
    full_cols = np.nonzero(box_rows.sum(axis=0) >= 0.6 * (y1 - y0 + 1))[0]
    if full_cols.size >= 2:
        bx0, bx1 = int(full_cols[0]), int(full_cols[-1])
    else:
        bx0, bx1 = 0, width - 1
    box = run[y0: y1 + 1, bx0: bx1 + 1]
    bh, bw = box.shape
    if bh < 5 or bw < 5:
        return BoxReading(False, 0.0, 0.3, None)
    # Interior: strip the borders (the run of nearly full rows/cols at each edge) and a pixel more.
    my0 = _border(box.sum(axis=1), bw) + 1
    my1 = _border(box.sum(axis=1)[::-1], bw) + 1
    mx0 = _border(box.sum(axis=0), bh) + 1
    mx1 = _border(box.sum(axis=0)[::-1], bh) + 1
    interior = box[my0: bh - my1, mx0: bw - mx1]
    if interior.size == 0:  # a solidly filled box is all border
        density = 1.0
    else:
        density = float(interior.mean())
    checked = density >= CHECKED_DENSITY
    distance = abs(density - CHECKED_DENSITY) / CHECKED_DENSITY
    confidence = float(min(1.0, 0.5 + 0.5 * min(1.0, distance)))
    bbox = BBox(left=left + x0 + bx0, top=top + y0, width=bw, height=bh)
    return BoxReading(checked, density, confidence, bbox)


def _run_start(rows: np.ndarray, value: int, step: int) -> int:
    """Extend ``value`` outwards through consecutive members of ``rows`` (a thick border)."""
    members = set(rows.tolist())
    while value + step in members:
        value += step
    return value


def _border(profile: np.ndarray, full: int) -> int:
    """Thickness of the border at the start of a projection profile."""
    thickness = 0
    for value in profile[: max(1, len(profile) // 3)]:
        if value >= 0.6 * full:
            thickness += 1
        else:
            break
    return thickness
