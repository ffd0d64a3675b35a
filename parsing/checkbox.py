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
    """Find and read the checkbox just left of ``anchor`` (the option label's first word)."""
    h = max(8.0, float(line_height))
    page_h = ink.shape[0]
    top = max(0, int(anchor.top - 0.6 * h))
    bottom = min(page_h, int(anchor.bottom + 0.6 * h))
    right = max(0, anchor.left - 1)
    left = max(0, int(anchor.left - 4.5 * h))
    if right - left < 4 or bottom - top < 4:
        return BoxReading(False, 0.0, 0.0, None)
    window = ink[top:bottom, left:right]
    cols = window.sum(axis=0)
    # Scan leftwards from the label: skip the white gap, then take the inked run (the box).
    x = window.shape[1] - 1
    while x >= 0 and cols[x] == 0:
        x -= 1
    if x < 0:
        return BoxReading(False, 0.0, 0.3, None)
    x1 = x
    while x >= 0 and cols[x] > 0:
        x -= 1
    x0 = x + 1
    if x1 - x0 < 3:
        return BoxReading(False, 0.0, 0.3, None)
    rows = window[:, x0: x1 + 1].sum(axis=1)
    centre = int(np.clip(anchor.cy - top, 0, window.shape[0] - 1))
    if rows[centre] == 0:
        inked = np.nonzero(rows)[0]
        if inked.size == 0:
            return BoxReading(False, 0.0, 0.3, None)
        centre = int(inked[np.argmin(np.abs(inked - centre))])
    y0 = centre
    while y0 > 0 and rows[y0 - 1] > 0:
        y0 -= 1
    y1 = centre
    while y1 < len(rows) - 1 and rows[y1 + 1] > 0:
        y1 += 1
    box = window[y0: y1 + 1, x0: x1 + 1]
    bh, bw = box.shape
    # Interior: strip the borders (their thickness is the run of nearly full rows/cols at each edge).
    margin_y = max(2, _border(box.sum(axis=1), bw), _border(box.sum(axis=1)[::-1], bw)) + 1
    margin_x = max(2, _border(box.sum(axis=0), bh), _border(box.sum(axis=0)[::-1], bh)) + 1
    interior = box[margin_y: bh - margin_y, margin_x: bw - margin_x]
    density = float(interior.mean()) if interior.size else 0.0
    checked = density >= CHECKED_DENSITY
    distance = abs(density - CHECKED_DENSITY) / CHECKED_DENSITY
    confidence = float(min(1.0, 0.5 + 0.5 * min(1.0, distance)))
    bbox = BBox(left=left + x0, top=top + y0, width=bw, height=bh)
    return BoxReading(checked, density, confidence, bbox)


def _border(profile: np.ndarray, full: int) -> int:
    """Thickness of the border at the start of a projection profile."""
    thickness = 0
    for value in profile[: max(1, len(profile) // 3)]:
        if value >= 0.6 * full:
            thickness += 1
        else:
            break
    return thickness
