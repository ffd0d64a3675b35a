"""A template's checkboxes read on one page: each option's box found left of its printed label,
an option whose label OCR lost found by its place in the column of its neighbours' boxes or in
its group's column under a heading, and a form page known by its box columns alone. The box
geometry (finding a box, measuring its mark) is ``parsing.checkbox``'s."""

from __future__ import annotations

import numpy as np

from parsing.checkbox import (
    FoundBox,
    box_above,
    box_between,
    find_boxes,
    leading_square,
    read_box,
    read_found_box,
)
from parsing.fieldvalue import FieldValue
from parsing.layout import Line, span_words
from parsing.models import BBox, FieldEvidence
from parsing.ocr import Word
from parsing.templates import (
    CheckboxGroup,
    CheckboxSpec,
    Template,
    TemplateMatch,
    find_label,
    find_label_spans,
    keyword_present,
    templates,
)


def read_checkboxes(lines: list[Line], template: Template, page: int, ink: np.ndarray) -> dict[str, FieldValue]:
    results: dict[str, FieldValue] = {}
    keys = [f"{spec.field}:{spec.value}" if spec.value else spec.field for spec in template.checkboxes]
    for key, spec in zip(keys, template.checkboxes, strict=True):
        reading = _read_checkbox(lines, spec, ink)
        if reading is None:
            continue
        checked, evidence = reading
        results[key] = FieldValue(checked, evidence.model_copy(update={"page": page}))
    # An option whose label OCR lost entirely: its box sits in the same column as the boxes
    # of the options printed before and after it, between them.
    # A label found beside no box (OCR placed it on the wrong line) is treated the same way.
    for index, key in enumerate(keys):
        if key in results and results[key].evidence.bbox is not None:
            continue
        after = next((results[k] for k in keys[index + 1:] if k in results and results[k].evidence.bbox), None)
        before = next((results[k] for k in reversed(keys[:index]) if k in results and results[k].evidence.bbox
                       and (after is None or _same_column(results[k].evidence, after.evidence))), None)
        if before is None and after is None:
            continue
        if before is not None:
            assert before.evidence.bbox is not None
            found = box_between(ink, before.evidence.bbox, after.evidence.bbox if after is not None else None)
        else:  # the first option of its column (box 2 sits further left): the box just above the next one
            assert after is not None and after.evidence.bbox is not None
            found = box_above(ink, after.evidence.bbox)
        if found is not None:
            evidence = FieldEvidence(page=0, bbox=found.bbox, confidence=found.confidence,
                                     raw=f"ink={found.density:.3f}")
            results[key] = FieldValue(found.checked, evidence.model_copy(update={"page": page}))
    for group in template.checkbox_groups:
        results.update(_read_group(lines, group, page, ink, results))
    return results


def _read_checkbox(lines: list[Line], spec: CheckboxSpec, ink: np.ndarray) -> tuple[bool, FieldEvidence] | None:
    span = find_label(lines, spec.anchors, spec.min_score)
    if span is None:
        return None
    line = lines[span.line]
    words = span_words(line, span.start, span.end)
    if not words:
        return None
    first = words[0]
    skipped = span.start - line.starts[line.words.index(first)]
    if skipped > 0:  # OCR glued the box (or the mark) to the label's first word
        shift = round(first.width * skipped / max(1, len(first.text)))
        first = Word(first.text[skipped:], first.left + shift, first.top, first.width - shift, first.height, first.conf)
    reading = read_box(ink, first, line.height)
    if reading.bbox is None:  # the box may have been read as the label's first letter(s) ("Dt checked")
        shift = min(first.width, round(1.5 * line.height))
        moved = Word(first.text, first.left + shift, first.top, max(1, first.width - shift), first.height, first.conf)
        reading = read_box(ink, moved, line.height)
    evidence = FieldEvidence(
        page=0, bbox=reading.bbox, confidence=round(reading.confidence * span.score / 100.0, 3),
        raw=f"ink={reading.density:.3f}",
    )
    return reading.checked, evidence


def _same_column(a: FieldEvidence, b: FieldEvidence) -> bool:
    assert a.bbox is not None and b.bbox is not None
    return abs(a.bbox.left - b.bbox.left) <= max(a.bbox.width, b.bbox.width) // 2


def _read_group(
    lines: list[Line], group: CheckboxGroup, page: int, ink: np.ndarray, results: dict[str, FieldValue]
) -> dict[str, FieldValue]:
    """The group's options that have no box yet, read from the column of boxes under its
    heading: only when that column holds exactly one box per option and every box a label
    found is where the column says it is."""
    located = {key: results[key].evidence.bbox for key in group.options
               if key in results and results[key].evidence.bbox is not None}
    if len(located) == len(group.options):
        return {}
    column = _group_column(lines, group, ink, [b for b in located.values() if b is not None])
    confidence, how = 0.55, "box found by position"
    if column is None:
        column = _line_start_column(lines, group, ink)
        # Read from a page this degraded, a box's reading goes to review (below LOW_CONFIDENCE).
        confidence, how = 0.4, "box found at the start of its option's line"
    if column is None:
        return {}
    def same(bbox: BBox | None, box: FoundBox) -> bool:
        return bbox is not None and abs(bbox.top - box.top) <= max(bbox.height, box.height) // 2

    if not all(same(bbox, column[group.options.index(key)]) for key, bbox in located.items()):
        if not all(any(same(bbox, box) for box in column) for bbox in located.values()):
            return {}  # the labels found boxes the column does not hold: do not guess
        # The labels found the column's own boxes but in another order: OCR put a label on its
        # neighbour's line. The order the form prints them in decides, for every option.
        located = {}
    found: dict[str, FieldValue] = {}
    for key, box in zip(group.options, column, strict=True):
        if key in located:
            continue
        checked, density = read_found_box(ink, box)
        evidence = FieldEvidence(page=page, bbox=BBox(left=box.left, top=box.top, width=box.width, height=box.height),
                                 confidence=confidence, raw=f"ink={density:.3f}; {how}")
        found[key] = FieldValue(checked, evidence)
    return found


def _group_rows(lines: list[Line], group: CheckboxGroup, page_h: int) -> tuple[int, int] | None:
    """The rows between the group's heading and the print below it (or ``reach`` of the page)."""
    heading = find_label(lines, group.after, group.min_score)
    if heading is None:
        return None
    top = lines[heading.line].bottom + 1
    bottom = min(page_h, top + int(group.reach * page_h))
    if group.before:
        below = [span for span in find_label_spans(lines, group.before, group.min_score)
                 if lines[span.line].top > top]
        if below:
            bottom = min(lines[span.line].top for span in below) - 1
    return top, bottom


def _group_column(lines: list[Line], group: CheckboxGroup, ink: np.ndarray, known: list[BBox]) -> list[FoundBox] | None:
    page_h, page_w = ink.shape
    rows = _group_rows(lines, group, page_h)
    if rows is None:
        return None
    top, bottom = rows
    region = [line for line in lines if top <= line.top < bottom]
    if known:
        size = float(np.median([b.height for b in known]))
    elif region:
        size = float(np.median([line.height for line in region]))
    else:
        return None
    shortest = max(6, int(0.6 * size))  # a side the fax broke is found short
    boxes = find_boxes(ink, top, bottom, int(group.x_range[0] * page_w), int(group.x_range[1] * page_w),
                       shortest, int(2.0 * size) + 4)
    if known:  # boxes like the ones the labels found, in their column
        width = float(np.median([b.width for b in known]))
        left = float(np.median([b.left for b in known]))
        boxes = [b for b in boxes if shortest <= b.height <= 1.4 * size and 0.7 * width <= b.width <= 1.4 * width
                 and abs(b.left - left) <= max(4.0, width / 3)]
    columns: list[list[FoundBox]] = []
    for box in sorted(boxes, key=lambda b: b.left):
        for column in columns:
            if abs(column[0].left - box.left) <= max(3, column[0].width // 4):
                column.append(box)
                break
        else:
            columns.append([box])
    # The leftmost column holding exactly one box per option, all of one size; print beside
    # the boxes seldom lines up in one column, and its glyphs differ in width.
    for column in columns:
        widths = [b.width for b in column]
        if len(column) == len(group.options) and max(widths) <= 1.6 * min(widths):
            return sorted(column, key=lambda b: b.top)
    return None


def _line_start_column(lines: list[Line], group: CheckboxGroup, ink: np.ndarray) -> list[FoundBox] | None:
    """The boxes of a blurred scan, where marks and sides run together and no box shape is
    found: each option's first line starts at its box, the lines continuing it further right.
    In the leftmost column of line starts, the lines starting with a line-high square must be
    one per option, one after another: they give the rows, the squares the boxes."""
    page_h, page_w = ink.shape
    rows = _group_rows(lines, group, page_h)
    if rows is None:
        return None
    top, bottom = rows
    lo, hi = group.x_range[0] * page_w, group.x_range[1] * page_w
    starts = sorted((line for line in lines if top <= line.top < bottom and lo <= line.words[0].left <= hi),
                    key=lambda line: line.words[0].left)
    columns: list[list[Line]] = []
    for line in starts:  # a photo's column drifts sideways down the page: each start joins its neighbour
        if columns and line.words[0].left - columns[-1][-1].words[0].left <= max(6.0, 0.25 * line.height):
            columns[-1].append(line)
        else:
            columns.append([line])
    # The boxes stand left of all the options' print: the leftmost column of two or more line
    # starts (a heading's second line may stand alone further left) must be theirs. Of its lines,
    # those starting with a box must be one per option, one after another (a signature line
    # below may start in the same column).
    column = sorted(next((c for c in columns if len(c) >= 2), []), key=lambda line: line.top)
    squares = [leading_square(ink, line) for line in column]
    boxed = [i for i, square in enumerate(squares) if square is not None]
    if len(boxed) != len(group.options) or boxed[-1] - boxed[0] != len(boxed) - 1:
        return None
    found = [square for square in squares if square is not None]
    if max(b.height for b in found) <= 1.6 * min(b.height for b in found):
        return found
    return None


def match_by_layout(lines: list[Line], ink: np.ndarray) -> TemplateMatch | None:
    """A form page whose small print OCR lost (a soft phone photo): its title, none of its
    excluded keywords, two of its headings or option texts, and a whole column of checkboxes
    found by shape under a heading. A letter quoting the form's title has no such column.
    The caller flags what is read from such a page for review."""
    for template in templates():
        if not template.checkbox_groups or not all(
            keyword_present(lines, k, template.keyword_score) for k in template.keywords
        ):
            continue
        if any(keyword_present(lines, k, 92.0) for k in template.exclude_keywords):
            continue
        print_found = sum(find_label(lines, box.anchors, box.min_score) is not None for box in template.checkboxes)
        print_found += sum(find_label(lines, g.after, g.min_score) is not None for g in template.checkbox_groups)
        if print_found < 2:
            continue
        if any(_group_column(lines, group, ink, []) is not None for group in template.checkbox_groups):
            return TemplateMatch(template, print_found, float(template.priority))
    return None
