"""Apply a form template to one page: label-anchored field values and checkbox ink."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from parsing import fields as F
from parsing.boxread import JUNK, box_lines, box_texts, joined, lines_from, next_label_start, snap_box
from parsing.cellread import cell_below, within_cell
from parsing.checkbox import (
    CHECKED_DENSITY,
    FoundBox,
    find_boxes,
    ink_runs,
    looks_like_box,
    mark_density,
    read_box,
    read_found_box,
)
from parsing.layout import Line, Span, fold, span_words, union_box
from parsing.lexicon import lexicon, snap_score
from parsing.models import BBox, FieldEvidence
from parsing.ocr import Word
from parsing.templates import (
    CheckboxGroup,
    CheckboxSpec,
    FieldSpec,
    Template,
    TemplateMatch,
    find_label,
    find_label_spans,
    keyword_present,
    templates,
)

PARSERS = {
    "text": F.clean_text,
    "name": F.normalize_name,
    "officer": F.normalize_officer,
    "officer_title": F.normalize_officer_title,
    "a_number": F.normalize_a_number,
    "date": F.parse_date,
    "sex": F.normalize_sex,
    "citizenship": F.normalize_citizenship,
    "identifier": F.normalize_identifier,
}


def apply_pattern(spec: FieldSpec, raw: str) -> str:
    """The part of the value text the template's ``pattern`` selects (all of it without one)."""
    if not spec.pattern:
        return raw
    match = re.search(spec.pattern, raw, re.IGNORECASE)
    if match is None:
        return ""
    return match.group(1) if match.groups() else match.group(0)


def parse_value(spec: FieldSpec, raw: str) -> Any:
    """The field's parser, after the template's lookalike replacements (O -> 0 in IDs)."""
    value = PARSERS[spec.parser](raw)
    if isinstance(value, str) and spec.lookalikes:
        value = value.translate({ord(k): v for k, v in spec.lookalikes.items()})
    if isinstance(value, str) and spec.shape:
        value = F.apply_shape(value, spec.shape)
    return value



@dataclass
class FieldValue:
    value: Any
    evidence: FieldEvidence
    # Every valid reading of the value (the page's, then enlarged re-reads): the packet votes on them.
    readings: list[Any] = field(default_factory=list)
    # A box's lines as read (the value joins them, known entries snapped).
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.readings and self.value is not None:
            self.readings = [self.value]


Known = Mapping[str, Sequence[str]]  # lexicon name -> entries given by the configuration


def read_fields(
    lines: list[Line], template: Template, page: int, ink: np.ndarray | None, page_width: int,
    known: Known | None = None,
) -> dict[str, FieldValue]:
    """Every template field and checkbox found on the page (absent ones are left out).
    ``known``: lexicons from the configuration (the department's own names)."""
    found: dict[str, FieldValue] = {}
    known = known or {}
    for spec in template.fields:
        spans = find_label_spans(lines, spec.labels, spec.min_score)
        if not spans and spec.row_with:
            spans = _row_label_spans(lines, spec)
        choices = known_values(spec, known)
        if not spans:
            if choices:  # a label a poor fax lost: the page's one line that is a known value
                value = _find_known(lines, spec, template, choices, page, page_width, ink)
                if value is not None:
                    found[spec.name] = value
            continue
        # The best-scoring occurrence of the label first; when its value does not parse, the
        # next ("From:" in a fax header line before the cover sheet's own "From:").
        for span in spans:
            reading = _read_value(lines, span, spec, template, page, page_width, choices, ink)
            if reading is not None and (spec.name not in found or reading.value is not None):
                found[spec.name] = reading
            if reading is not None and reading.value is not None:
                break
    for spec in template.fields:
        if spec.line_pattern and (spec.name not in found or found[spec.name].value is None):
            value = _find_by_pattern(lines, spec, page, page_width)
            if value is not None:
                found[spec.name] = value
    if ink is not None:
        found.update(_read_checkboxes(lines, template, page, ink))
    return found


def _words_conf(words: list[Word]) -> float:
    if not words:
        return 0.0
    return sum(w.conf for w in words) / len(words) / 100.0


def known_values(spec: FieldSpec, known: Known) -> Sequence[str]:
    """The entries a field's reading may snap to: the configuration's list, else the template's."""
    if not spec.lexicon:
        return ()
    return known.get(spec.lexicon) or lexicon(spec.lexicon)


def _band_words(line: Line, spec: FieldSpec, page_width: int) -> list[Word]:
    """The line's words that start in the field's band of the page width (marks left out)."""
    left, right = spec.x_range[0] * page_width, spec.x_range[1] * page_width
    return [w for w in line.words if left <= w.left < right and not JUNK.fullmatch(w.text)]


def _find_known(
    lines: list[Line], spec: FieldSpec, template: Template, choices: Sequence[str], page: int, page_width: int,
    ink: np.ndarray | None,
) -> FieldValue | None:
    """The line in the field's band of the page that clearly reads as a known value, with the
    lines of its box below it."""
    best: tuple[float, int, list[Word]] | None = None
    for index, line in enumerate(lines):
        words = _band_words(line, spec, page_width)
        if not words:
            continue
        value, score = snap_score(Line(words).text, choices)
        if value is not None and (best is None or score > best[0]):
            best = (score, index, words)
    if best is None:
        return None
    score, index, words = best
    box = lines_from(lines, index, words, spec, template, page_width, ink)
    value, _ = snap_box(spec, box, choices)
    # Found without its label: never more than moderately sure.
    evidence = FieldEvidence(page=page, bbox=union_box(joined(spec, box)[1]), confidence=round(0.6 * score / 100.0, 3),
                             raw=value)
    return FieldValue(value, evidence, lines=box_texts(box))


def _find_by_pattern(lines: list[Line], spec: FieldSpec, page: int, page_width: int) -> FieldValue | None:
    """A field whose label a poor fax lost, found by the shape of its line: the value only when
    exactly one line of the field's band matches ``line_pattern`` and its value parses."""
    assert spec.line_pattern is not None
    pattern = re.compile(spec.line_pattern)
    ends = find_label_spans(lines, spec.line_before, 80.0, limit=len(lines)) if spec.line_before else []
    end = min((span.line for span in ends), default=len(lines))
    hits = []
    for line in lines[:end]:
        words = _band_words(line, spec, page_width)
        match = pattern.search(Line(words).text) if words else None
        if match is not None:
            hits.append((match.group(1) if match.groups() else match.group(0), words))
    if len(hits) != 1:
        return None
    raw, words = hits[0]
    value = parse_value(spec, raw.strip())
    if value is None:
        return None
    # Found without its label: never more than moderately sure.
    confidence = round(0.6 * (0.5 + 0.5 * _words_conf(words)), 3)
    evidence = FieldEvidence(page=page, bbox=union_box(words), confidence=confidence, raw=raw.strip())
    return FieldValue(value, evidence)


def _row_label_spans(lines: list[Line], spec: FieldSpec) -> list[Span]:
    """The field's short label read loosely: one word right of its row partner's label."""
    assert spec.row_with is not None
    partners = find_label_spans(lines, (spec.row_with,), 82.0, limit=1)
    if not partners:
        return []
    partner = partners[0]
    line = lines[partner.line]
    wanted = fold(spec.labels[0])
    best: Span | None = None
    for word, start in zip(line.words, line.starts, strict=True):
        if start < partner.end:
            continue
        score = fuzz.ratio(fold(word.text), wanted)
        if score >= spec.row_min_score and (best is None or score > best.score):
            best = Span(partner.line, start, start + len(word.text), score)
    return [best] if best is not None else []


def _unread_value(line: Line, span: Span, spec: FieldSpec, page: int) -> FieldValue | None:
    """A label read with nothing after it: the place its value is printed, left unparsed."""
    assert spec.value_width is not None
    label = span_words(line, span.start, span.end)
    if not label:
        return None
    height = max(w.height for w in label)
    left = max(w.right for w in label) + height  # re-reads pad by a height: clear of the label's colon
    box = BBox(left=left, top=min(w.top for w in label), width=round(spec.value_width * height), height=height)
    return FieldValue(None, FieldEvidence(page=page, bbox=box, confidence=0.0, raw=""))


def _drop_label_tail(line: Line, end: int, words: list[Word], raw: str) -> tuple[list[Word], str]:
    """Marks before the value are the label's misread tail ("Subject ID:" read "Subject 1D)",
    the label matched up to "1D"): they neither belong to the value nor widen the box the
    value is re-read from."""
    while words:
        offset = line.starts[line.words.index(words[0])]
        tail = words[0].text[max(0, end - offset):]
        if any(c.isalnum() for c in tail) or not raw.lstrip().startswith(tail):
            break
        raw = raw.lstrip()[len(tail):]
        words = words[1:]
    return words, raw


def _read_value(
    lines: list[Line], span: Span, spec: FieldSpec, template: Template, page: int, page_width: int,
    choices: Sequence[str] = (), ink: np.ndarray | None = None,
) -> FieldValue | None:
    line = lines[span.line]
    words: list[Word] = []
    box: list[tuple[str, list[Word]]] = []
    if spec.layout in RIGHT_LAYOUTS:
        end = next_label_start(line, span.end, template, spec.labels)
        words = span_words(line, span.end, end)
        raw = line.text[span.end:end]
        # A label glued to its value ("No:A012345678") leaves the value inside the label's last word.
        if raw.strip() == "" and words == []:
            raw = ""
        words, raw = _drop_label_tail(line, span.end, words, raw)
        if spec.layout == "right_or_below":
            raw, words = _right_or_cell(lines, span, spec, template, page_width, ink, raw, words)
    elif spec.layout == "above":
        raw, words = _above(lines, span, spec, page_width)
    else:  # "below": every line of the box under the caption; known entries snapped line by line
        box = box_lines(lines, span, spec, template, page_width, spec.lines, ink)
        words = joined(spec, box)[1]
        raw = snap_box(spec, box, choices)[0] if choices else joined(spec, box)[0]
    raw = apply_pattern(spec, raw.strip())
    if not raw and spec.value_width and spec.layout in RIGHT_LAYOUTS:
        return _unread_value(line, span, spec, page)
    if not raw or (spec.parser == "date" and not any(c.isdigit() for c in raw)):
        return None
    value = parse_value(spec, raw)
    if value is None:
        return FieldValue(None, FieldEvidence(page=page, bbox=union_box(words), confidence=0.0, raw=raw))
    # Tesseract's per-word confidences are noisy (a correctly read A-number may score 0):
    # a value that passed its format check is worth at least half.
    confidence = round(min(1.0, (0.5 + 0.5 * _words_conf(words)) * (span.score / 100.0)), 3)
    return FieldValue(value, FieldEvidence(page=page, bbox=union_box(words), confidence=confidence, raw=raw),
                      lines=box_texts(box))


# "right_or_below": right of the label, else under it in its ruled cell (parsing/cellread.py).
RIGHT_LAYOUTS = ("right", "right_or_below")


def _right_or_cell(
    lines: list[Line], span: Span, spec: FieldSpec, template: Template, page_width: int, ink: np.ndarray | None,
    raw: str, words: list[Word],
) -> tuple[str, list[Word]]:
    """The value right of the label when one stands there, inside the label's cell; else
    (nothing, what does not parse, or the next cell's garbled caption beyond the cell's side
    rule) the value under the label inside its cell, when that parses; else what stands right."""
    right = apply_pattern(spec, raw.strip())
    if right and parse_value(spec, right) is not None \
            and within_cell(lines[span.line], span, template, spec, page_width, ink, words):
        return raw, words
    below, below_words = cell_below(lines, span, spec, template, page_width, ink)
    cell = apply_pattern(spec, below.strip())
    if cell and parse_value(spec, cell) is not None:
        return below, below_words
    return raw, words


def _above(lines: list[Line], span: Span, spec: FieldSpec, page_width: int) -> tuple[str, list[Word]]:
    """The text written on the rule above a caption such as "(Name and title of Immigration Officer)"."""
    line = lines[span.line]
    label_words = span_words(line, span.start, span.end)
    label_top = min(w.top for w in label_words)
    label_height = max(w.height for w in label_words)
    left = min(w.left for w in label_words) - 0.5 * line.height
    right = max(w.right for w in label_words) + 2 * line.height
    if spec.x_range != (0.0, 1.0):  # the caption anchors the row; the band says where the value is
        left, right = spec.x_range[0] * page_width, spec.x_range[1] * page_width
    for above in reversed(lines[: span.line]):
        if label_top - above.bottom > 2.5 * label_height:  # the value sits on the rule just above
            break
        in_column = [w for w in above.words if left <= w.left <= right and not JUNK.fullmatch(w.text)]
        if in_column:
            column_line = Line(list(in_column))
            return column_line.text, in_column
    return "", []


def _read_checkboxes(lines: list[Line], template: Template, page: int, ink: np.ndarray) -> dict[str, FieldValue]:
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
            found = _box_between(ink, before.evidence, after.evidence if after is not None else None)
        else:  # the first option of its column (box 2 sits further left): the box just above the next one
            assert after is not None
            found = _box_above(ink, after.evidence)
        if found is not None:
            results[key] = FieldValue(found[0], found[1].model_copy(update={"page": page}))
    for group in template.checkbox_groups:
        results.update(_read_group(lines, group, page, ink, results))
    return results


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
    squares = [_leading_square(ink, line) for line in column]
    boxed = [i for i, square in enumerate(squares) if square is not None]
    if len(boxed) != len(group.options) or boxed[-1] - boxed[0] != len(boxed) - 1:
        return None
    found = [square for square in squares if square is not None]
    if max(b.height for b in found) <= 1.6 * min(b.height for b in found):
        return found
    return None


def _leading_square(ink: np.ndarray, line: Line) -> FoundBox | None:
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


def _same_column(a: FieldEvidence, b: FieldEvidence) -> bool:
    assert a.bbox is not None and b.bbox is not None
    return abs(a.bbox.left - b.bbox.left) <= max(a.bbox.width, b.bbox.width) // 2


def _close_gaps(flags: np.ndarray, gap: int) -> np.ndarray:
    """Bridge white gaps of at most ``gap`` rows between inked rows (a fax drops pixels of a
    box's side, a mark's stroke can break it)."""
    closed = flags.copy()
    inked = np.nonzero(flags)[0]
    for a, b in pairwise(inked):
        if 1 < b - a <= gap + 1:
            closed[a:b] = True
    return closed


def _box_above(ink: np.ndarray, after: FieldEvidence) -> tuple[bool, FieldEvidence] | None:
    """The one box in the column just above a found box (the first option of a group)."""
    b = after.bbox
    assert b is not None
    bottom = b.top - 2
    top = max(0, bottom - int(4.5 * b.height))
    return _box_in_column(ink, b.left, b.width, b.height, top, bottom)


def _box_between(
    ink: np.ndarray, before: FieldEvidence, after: FieldEvidence | None
) -> tuple[bool, FieldEvidence] | None:
    """The one box in the column between two found boxes (or just below the last one)."""
    a = before.bbox
    b = after.bbox if after is not None else None
    assert a is not None
    size = (a.height + b.height) // 2 if b is not None else a.height
    x0 = min(a.left, b.left) if b is not None else a.left
    top = a.top + a.height + 2
    bottom = b.top - 2 if b is not None else min(ink.shape[0], top + int(3.5 * size))
    width = (a.width + b.width) // 2 if b is not None else a.width
    return _box_in_column(ink, x0, width, size, top, bottom)


def _box_in_column(
    ink: np.ndarray, x0: int, width: int, size: int, top: int, bottom: int
) -> tuple[bool, FieldEvidence] | None:
    """The one box-shaped object whose left side lies in the column x0 between top and bottom."""
    if bottom - top < size:
        return None
    side = _close_gaps(np.asarray(ink[top:bottom, x0: x0 + 3].any(axis=1)), max(1, size // 5))
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
    evidence = FieldEvidence(page=0, bbox=BBox(left=x0, top=y0, width=bw, height=bh), confidence=0.6,
                             raw=f"ink={density:.3f}")
    return density >= CHECKED_DENSITY, evidence


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
