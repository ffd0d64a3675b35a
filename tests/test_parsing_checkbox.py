"""Checkbox geometry on drawn ink: a letter printed close to a box, a box side broken by the fax."""

from __future__ import annotations

import numpy as np

from parsing.checkbox import read_box
from parsing.formread import _box_above
from parsing.models import BBox, FieldEvidence
from parsing.ocr import Word


def _box(ink: np.ndarray, left: int, top: int, size: int = 22, *, checked: bool = False) -> None:
    ink[top, left: left + size] = ink[top + size - 1, left: left + size] = True
    ink[top: top + size, left] = ink[top: top + size, left + size - 1] = True
    if checked:
        for i in range(2, size - 2):
            ink[top + i, left + i] = ink[top + i, left + size - 1 - i] = True
            ink[top + i, left + i + 1] = ink[top + i, left + size - 2 - i] = True


def test_a_letter_printed_against_an_empty_box_is_not_its_mark() -> None:
    ink = np.zeros((90, 300), dtype=bool)
    _box(ink, 20, 30)
    ink[32:50, 54:58] = True  # the "I" of "If checked", OCR'd as part of the box
    reading = read_box(ink, Word("f", 62, 32, 8, 18, 90.0), 22.0)
    assert reading.bbox is not None and reading.bbox.width <= 24
    assert not reading.checked


def test_the_first_option_of_a_group_is_found_above_the_next_box() -> None:
    ink = np.zeros((140, 200), dtype=bool)
    _box(ink, 40, 10, checked=True)
    ink[22:26, 40] = False  # the fax dropped part of the box's left side
    _box(ink, 40, 90)
    below = FieldEvidence(page=1, bbox=BBox(left=40, top=90, width=22, height=22), confidence=1.0, raw="")
    found = _box_above(ink, below)
    assert found is not None and found[0] is True
    assert found[1].bbox is not None and abs(found[1].bbox.top - 10) <= 1
    # An empty first box reads as empty.
    clear = np.zeros_like(ink)
    _box(clear, 40, 10)
    _box(clear, 40, 90)
    empty = _box_above(clear, below)
    assert empty is not None and empty[0] is False
