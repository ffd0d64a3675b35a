"""Checkbox geometry on drawn ink: a letter printed close to a box, a box side broken by the fax,
boxes found by shape and read by their place in the form's column."""

from __future__ import annotations

import numpy as np

from parsing.checkbox import box_above, read_box
from parsing.checkread import _read_group
from parsing.fieldvalue import FieldValue
from parsing.layout import Line
from parsing.models import BBox, FieldEvidence
from parsing.ocr import Word
from parsing.templates import CheckboxGroup, templates


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
    assert below.bbox is not None
    found = box_above(ink, below.bbox)
    assert found is not None and found.checked is True
    assert found.bbox is not None and abs(found.bbox.top - 10) <= 1
    # An empty first box reads as empty.
    clear = np.zeros_like(ink)
    _box(clear, 40, 10)
    _box(clear, 40, 90)
    empty = box_above(clear, below.bbox)
    assert empty is not None and empty.checked is False


def test_boxes_are_found_by_shape_alone_and_letters_are_not() -> None:
    from parsing.checkbox import find_boxes, read_found_box

    ink = np.zeros((260, 200), dtype=bool)
    _box(ink, 40, 10)  # empty
    _box(ink, 40, 60, checked=True)  # an X
    ink[110:132, 40:62] = True  # filled in...
    ink[110:132, 47] = False  # ...with a pixel column the fax dropped
    _box(ink, 40, 160)
    ink[160, 44:58] = ink[181, 44:58] = False  # a standard fax lost most of the top and bottom rules
    # Print beside the boxes: a bold I, an H, an E (left side, top and bottom, open on the right).
    ink[10:32, 100:106] = True
    ink[60:82, 100:104] = ink[60:82, 116:120] = ink[69:73, 100:120] = True
    ink[110:132, 100:104] = ink[110:114, 100:120] = ink[128:132, 100:120] = ink[119:123, 100:116] = True
    found = find_boxes(ink, 0, 260, 0, 150, 12, 40)
    assert [b.top for b in found] == [10, 60, 110, 160]
    assert all(abs(b.left - 40) <= 2 and abs(b.width - 22) <= 3 for b in found)
    assert [read_found_box(ink, b)[0] for b in found] == [False, True, True, False]


def _column_page() -> tuple[np.ndarray, list[Line]]:
    """Four option boxes (the 2nd and 3rd checked) under a heading, a closing line below."""
    ink = np.zeros((400, 600), dtype=bool)
    options = []
    for n, top in enumerate((60, 120, 180, 240)):
        _box(ink, 40, top, checked=n in (1, 2))
        options.append(Line([Word("tlie penclency ol", 80, top, 300, 22, 40.0)]))  # labels OCR garbled
    heading = Line([Word("1. DHS HAS DETERMINED THAT PROBABLE CAUSE EXISTS THAT THE SUBJECT IS A REMOVABLE ALIEN",
                         30, 20, 500, 20, 90.0)])
    closing = Line([Word("2. DHS TRANSFERRED THE ALIEN TO YOUR CUSTODY FOR A PROCEEDING", 30, 320, 500, 20, 90.0)])
    return ink, [heading, *options, closing]


def _group() -> CheckboxGroup:
    i247a = next(t for t in templates() if t.name == "i247a")
    return next(g for g in i247a.checkbox_groups if "probable_cause:final_order" in g.options)


def test_options_whose_labels_ocr_lost_are_read_by_their_place_in_the_column() -> None:
    ink, lines = _column_page()
    group = _group()
    found = _read_group(lines, group, 1, ink, {})
    assert {key: value.value for key, value in found.items()} == {
        "probable_cause:final_order": False, "probable_cause:pending_proceedings": True,
        "probable_cause:biometric_records": True, "probable_cause:statements_evidence": False,
    }
    assert all("by position" in value.evidence.raw for value in found.values())


def test_labels_read_on_a_neighbours_line_yield_to_the_printed_order() -> None:
    ink, lines = _column_page()
    group = _group()
    # OCR put "a final order of removal" on the line of the 2nd box (checked).
    misplaced = FieldValue(True, FieldEvidence(page=1, bbox=BBox(left=40, top=120, width=22, height=22),
                                               confidence=0.9, raw=""))
    found = _read_group(lines, group, 1, ink, {"probable_cause:final_order": misplaced})
    assert found["probable_cause:final_order"].value is False
    assert found["probable_cause:pending_proceedings"].value is True
    # A label that found a box outside the column: the column is not trusted, nothing is guessed.
    elsewhere = FieldValue(True, FieldEvidence(page=1, bbox=BBox(left=300, top=300, width=22, height=22),
                                               confidence=0.9, raw=""))
    assert _read_group(lines, group, 1, ink, {"probable_cause:final_order": elsewhere}) == {}
    # A column holding more boxes than the group has options is not read either.
    _box(ink, 40, 285)
    assert _read_group(lines, group, 1, ink, {}) == {}


def _photo_lines(*extra: str) -> list[Line]:
    texts = ["DEPARTMENT OF HOMELAND SECURITY (DHS)", "IMMIGRATION DETAINER - NOTICE OF ACTION", *extra]
    return [Line([Word(text, 30, 400 + 40 * n, 500, 20, 60.0)]) for n, text in enumerate(texts)]


def test_a_page_whose_labels_ocr_lost_is_the_form_by_its_title_and_box_columns() -> None:
    from parsing.checkread import match_by_layout

    ink, column_lines = _column_page()
    title_and_headings = _photo_lines("IT IS THEREFORE REQUESTED THAT YOU:") + column_lines
    match = match_by_layout(title_and_headings, ink)
    assert match is not None and match.template.name == "i247a"
    # A letter quoting the title and the headings has no column of boxes under them.
    assert match_by_layout(title_and_headings, np.zeros_like(ink)) is None
    # A whole column under the one heading OCR read, but no other print of the form: not enough.
    requested = np.zeros((2000, 600), dtype=bool)  # the group is searched 0.2 page heights down
    options = []
    for top in (60, 110, 160, 210, 260):
        _box(requested, 40, top)
        options.append(Line([Word("Notlfy tlis ofiice", 80, top, 300, 22, 40.0)]))
    heading = Line([Word("IT IS THEREFORE REQUESTED THAT YOU:", 30, 20, 500, 20, 60.0)])
    assert match_by_layout([heading, *options, *_photo_lines()], requested) is None
    assert match_by_layout([heading, *options, *_photo_lines("2. DHS TRANSFERRED THE ALIEN TO YOUR CUSTODY")],
                           requested) is not None


def test_a_form_recognised_by_layout_goes_to_review() -> None:
    from datetime import date

    from parsing.assemble import assemble
    from parsing.models import PageKind
    from parsing.pipeline import PageOutput

    page = PageOutput(1, kind=PageKind.detainer_p1, form_type="I-247A", layout_only=True)
    _, (request,) = assemble([page], today=date(2025, 6, 1))
    assert request.needs_review and "page:recognised_by_layout" in request.review_reasons


def _blurred_scan_page() -> tuple[np.ndarray, list[Line]]:
    """A blurred grey scan: checked boxes are solid blots, empty ones two brackets (their top
    and bottom rules lost), so no box shape is found. Each option's first line starts at its
    box (OCR read the box as a junk word); its second line is indented."""
    ink = np.zeros((420, 600), dtype=bool)
    lines = [Line([Word("1. DHS HAS DETERMINED THAT PROBABLE CAUSE EXISTS THAT THE SUBJECT IS A REMOVABLE ALIEN",
                        30, 20, 500, 20, 90.0)])]
    for n, top in enumerate((60, 130, 200, 270)):
        if n in (1, 3):
            ink[top: top + 24, 40: 64] = True
        else:
            ink[top: top + 24, 40: 43] = ink[top: top + 24, 61: 64] = True
        ink[top + 6: top + 18, 80: 300] = True  # the option's print
        lines.append(Line([Word("8D", 40, top, 24, 24, 30.0), Word("slaseriernity", 80, top + 4, 220, 18, 30.0)]))
        ink[top + 36: top + 48, 100: 300] = True
        lines.append(Line([Word("Hr NOIR Stari", 100, top + 32, 200, 18, 30.0)]))
    lines.append(Line([Word("2. DHS TRANSFERRED THE ALIEN TO YOUR CUSTODY FOR A PROCEEDING", 30, 350, 500, 20, 90.0)]))
    return ink, lines


def test_boxes_of_a_blurred_scan_are_read_at_the_start_of_their_options_lines() -> None:
    from parsing.assemble import LOW_CONFIDENCE
    from parsing.checkbox import find_boxes

    ink, lines = _blurred_scan_page()
    assert len(find_boxes(ink, 50, 340, 0, 150, 12, 60)) < 4  # no column of box shapes
    found = _read_group(lines, _group(), 1, ink, {})
    assert {key: value.value for key, value in found.items()} == {
        "probable_cause:final_order": False, "probable_cause:pending_proceedings": True,
        "probable_cause:biometric_records": False, "probable_cause:statements_evidence": True,
    }
    assert all(value.evidence.confidence < LOW_CONFIDENCE for value in found.values())  # for review
    assert all("start of its option's line" in value.evidence.raw for value in found.values())


def test_line_starts_without_a_box_tall_enough_are_not_read() -> None:
    ink, lines = _blurred_scan_page()
    ink[130:154, 40:64] = False
    ink[138:146, 40:48] = True  # a small letter where the 2nd box should be
    assert _read_group(lines, _group(), 1, ink, {}) == {}
    # Nor is a page with another number of option lines than the group has options.
    ink, lines = _blurred_scan_page()
    assert _read_group([line for line in lines if line.words[0].left != 40 or line.top != 270], _group(), 1,
                       ink, {}) == {}


def test_a_photographed_column_may_drift_and_end_above_a_signature_line() -> None:
    """A phone photo: the option lines start further right down the page (perspective), and the
    officer's line below the last option starts in the same column, without a box."""
    ink, lines = _blurred_scan_page()
    drifted = np.zeros_like(ink)
    shifted: list[Line] = []
    for line in lines:
        first = line.words[0]
        if first.left == 40:  # an option's first line: move it and its box right by 3 px a line
            dx = 3 * (first.top - 60) // 70
            drifted[first.top: first.top + 24, 40 + dx: 64 + dx] = ink[first.top: first.top + 24, 40:64]
            drifted[first.top + 6: first.top + 18, 80 + dx: 300 + dx] = True
            line = Line([Word(w.text, w.left + dx, w.top, w.width, w.height, w.conf) for w in line.words])
        shifted.append(line)
    drifted[:, 100:300] |= ink[:, 100:300]
    drifted[330:338, 47:51] = True  # a small letter starting the officer's name: no box-high stroke
    shifted.insert(-1, Line([Word("n. Myuyon", 46, 322, 200, 18, 30.0)]))
    found = _read_group(shifted, _group(), 1, drifted, {})
    assert {key: value.value for key, value in found.items()} == {
        "probable_cause:final_order": False, "probable_cause:pending_proceedings": True,
        "probable_cause:biometric_records": False, "probable_cause:statements_evidence": True,
    }
    # A capital there is as tall as a box: five box-like starts for four options, nothing guessed.
    drifted[324:338, 47:51] = True
    assert _read_group(shifted, _group(), 1, drifted, {}) == {}
