"""Apply a form template to one page: each field's value found by its printed label (right of
it, in its ruled cell, in the box under its caption, on the rule above it), by its line's shape
or as a known entry when the label was lost; then the template's checkboxes (``parsing.checkread``)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz

from parsing.boxread import JUNK, box_lines, box_texts, joined, lines_from, next_label_start, snap_box
from parsing.cellread import cell_below, within_cell
from parsing.checkread import read_checkboxes
from parsing.fieldvalue import FieldValue, Known, apply_pattern, known_values, parse_value
from parsing.layout import Line, Span, find_in_line, fold, span_words, union_box
from parsing.lexicon import snap_score
from parsing.models import BBox, FieldEvidence
from parsing.ocr import Word
from parsing.templates import (
    FieldSpec,
    Template,
    find_label_spans,
)


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
        if not spans and spec.layout == "right_or_below":
            spans = _caption_row_spans(lines, spec, template)
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
        found.update(read_checkboxes(lines, template, page, ink))
    return found


def _words_conf(words: list[Word]) -> float:
    if not words:
        return 0.0
    return sum(w.conf for w in words) / len(words) / 100.0


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


def _caption_row_spans(lines: list[Line], spec: FieldSpec, template: Template) -> list[Span]:
    """The label read loosely (``row_min_score``) on a grid's caption row: a line where other
    labels of the form are found and nothing else is printed (the values stand under the
    captions). A caption OCR garbled past its score ("Suibyect ID") is still the caption of its
    cell there; the value under it must parse (``_right_or_cell``), which checks the guess."""
    others = tuple(label for label in template.all_labels if label not in spec.labels)
    spans: list[Span] = []
    for index, line in enumerate(lines):
        found = [span for label in others if (span := find_in_line(line, label, spec.min_score)) is not None]
        if not found:
            continue
        best: Span | None = None
        for label in spec.labels:
            for start, end in _word_runs(line, len(label.split())):
                if any(start < other.end and other.start < end for other in found):
                    continue
                score = fuzz.ratio(fold(line.text[start:end]), fold(label))
                if score >= spec.row_min_score and (best is None or score > best.score):
                    best = Span(index, start, end, score)
        if best is not None and _only_captions(line.text, [best, *found]):
            spans.append(best)
    return sorted(spans, key=lambda s: -s.score)[:1]


def _word_runs(line: Line, count: int) -> list[tuple[int, int]]:
    """Char spans of every run of ``count`` consecutive words."""
    runs = []
    for first in range(len(line.words) - count + 1):
        last = first + count - 1
        runs.append((line.starts[first], line.starts[last] + len(line.words[last].text)))
    return runs


def _only_captions(text: str, spans: list[Span]) -> bool:
    """Nothing but punctuation outside ``spans``."""
    rest = list(text)
    for span in spans:
        rest[span.start:span.end] = [" "] * (span.end - span.start)
    return not _VALUE_CHARS.search("".join(rest))


# Letters or digits outside the captions: a value (or running text), not a caption row.
_VALUE_CHARS = re.compile(r"[0-9A-Za-z]")


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


