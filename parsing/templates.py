"""Declarative form templates (``parsing/templates/*.toml``) and the engine that applies them.

A template says how to recognise a page (``keywords`` that must all appear,
``exclude_keywords`` that must not, ``min_phrases`` of its ``phrases`` (title halves,
footer, a sentence only the form prints), ``min_labels`` field labels, or ``[match] labels``
printed beside no field, that must be found so a letter quoting a form title is not taken
for the form) and, for the detainer forms,
where each field's value sits relative to its printed label, which checkbox options
exist (by the label printed right of each box), and which fields are required. A new
form revision is a new or edited TOML file, not code.

A value printed in a box under its caption (``layout = "below"``: the I-247's TO and FROM)
is every line of the box, at most ``lines`` of them, joined with ``join`` (", "); the box
ends at the next caption, at a rule across its column, or where the white between two lines
is wider than ``line_gap`` line heights (``parsing/boxread.py``).

A field whose form may print it either inline or as a grid of ruled cells (``layout =
"right_or_below"``: the header block's identifiers, dates, name, citizenship and sex) is
read right of its label; when nothing that parses stands there (only the next cell's
caption), it is the line under the label inside its cell, bounded by the cell's rules where
the ink shows them, else by the next label right of it and the next row of labels below
(``parsing/cellread.py``).

Templates extend one another: ``extends = "<name>"`` reads the file ``<name>.toml`` beside the
template first (itself perhaps extending another), then lays the template over it. The merge
rule: tables (``[match]``, ``[revision]``, ``[fields.<name>]`` and their sub-tables) are merged
key by key, recursively, and the extending template's value wins; every other value, arrays
included (``[[checkboxes]]``, ``[[checkbox_groups]]``, a ``labels`` list), is replaced whole.
Merged tables keep the base's key order, the template's new keys after it (the order of
``[fields]`` is the order fields are read in). A file whose name starts with ``_`` is a base
only: it is never loaded as a template of its own.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from parsing.layout import Line, Span, find_in_line, fold
from parsing.ocr import check_alphabet

TEMPLATE_DIR = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    labels: tuple[str, ...]
    parser: str = "text"
    # right: after the label on its line; below: the next line(s) in the label's column;
    # right_or_below: after the label, else under it inside its ruled cell (a grid header block);
    # above: on the rule over a caption.
    layout: str = "right"
    lines: int = 1  # how many lines a "below" value may span (a box's value: at most this many)
    # A value of several lines (an address box) is its lines joined with this ("Dept, District, Street").
    join: str = " "
    # The lines of one value stand at most this many line heights apart; a wider gap, a rule
    # across the column or another label below ends the value (the box's bottom edge).
    line_gap: float = 1.5
    min_score: float = 82.0
    pattern: str | None = None  # optional regex applied to the value text (group 1 or whole match)
    skip_lines: tuple[str, ...] = ()  # label continuation lines to step over ("below" layout)
    x_range: tuple[float, float] = (0.0, 1.0)  # "below" values lie in this band of the page width
    lookalikes: dict[str, str] = field(default_factory=dict)  # OCR readings to replace (O -> 0)
    shape: str | None = None  # per-position letters/digits of an identifier ("AAA9999999999")
    lexicon: str | None = None  # a list of known values (templates/<name>.txt) the reading snaps to
    # When no label yields a value: the one line in the x_range band matching this regex
    # (group 1 is the value), e.g. an officer's "J. Ramirez, Deportation Officer" line.
    line_pattern: str | None = None
    # ... only above the first line that reads as one of these (a later block of the form
    # holding a line of the same shape, e.g. the local officer who served the detainer).
    line_before: tuple[str, ...] = ()
    # A short label a poor fax misreads ("Sex:" as "Box:") is still taken on the line of this
    # other label, right of it, when one word loosely matches it (row_min_score).
    row_with: str | None = None
    row_min_score: float = 60.0
    # The value's usual width in label heights: when the label is read and its value is not,
    # that place is kept as the field's (unparsed) box so it is re-read enlarged.
    value_width: float | None = None
    # The characters the value is printed in: its enlarged re-read lets Tesseract choose only
    # among them (a soft photo's Z read as "/" is then read as the Z it most resembles).
    alphabet: str | None = None


@dataclass(frozen=True)
class CheckboxSpec:
    field: str  # DetainerRequest field: a list (value appended) or a bool (set True)
    value: str | None
    anchors: tuple[str, ...]  # printed option text right of the box (its first words suffice)
    min_score: float = 80.0


@dataclass(frozen=True)
class CheckboxGroup:
    """Options printed one under another, their boxes in one column between two printed
    headings: when OCR lost some option labels, the boxes are found by shape and read in
    order (``options`` are checkbox keys, ``field:value`` or ``field``)."""

    options: tuple[str, ...]
    after: tuple[str, ...]  # the heading above the group
    before: tuple[str, ...] = ()  # the print below it; without it, ``reach`` bounds the search
    reach: float = 0.2  # page heights below the heading searched when ``before`` is not read
    x_range: tuple[float, float] = (0.0, 0.3)  # where the boxes' left sides lie (page widths)
    min_score: float = 75.0


@dataclass(frozen=True)
class Template:
    name: str
    page_kind: str
    form_type: str | None
    priority: int
    keywords: tuple[str, ...]
    any_keywords: tuple[str, ...]
    exclude_keywords: tuple[str, ...]
    keyword_score: float
    min_labels: int
    revision_patterns: tuple[str, ...]
    known_revisions: tuple[str, ...]
    form_type_pattern: str | None
    fields: tuple[FieldSpec, ...]
    checkboxes: tuple[CheckboxSpec, ...]
    stop_labels: tuple[str, ...]
    required: tuple[str, ...]
    defaults: dict[str, Any] = field(default_factory=dict)
    checkbox_groups: tuple[CheckboxGroup, ...] = ()
    # Printed labels that are no field (a cover sheet's "Pages:", "Re:"): each entry, one label
    # or a list of alternative wordings, counts once towards min_labels when found.
    match_labels: tuple[tuple[str, ...], ...] = ()
    # Phrases of the form (its title's halves, its footer, a sentence only it prints), each
    # an entry of alternative wordings (one per language or edition): at least min_phrases
    # of them must be read, so a page whose title a fax or a scan lost is known by the rest.
    match_phrases: tuple[tuple[str, ...], ...] = ()
    min_phrases: int = 0

    @property
    def all_labels(self) -> tuple[str, ...]:
        return tuple(label for spec in self.fields for label in spec.labels) + self.stop_labels


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


_BASE_NAME = re.compile(r"[A-Za-z0-9_-]+")


def template_data(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The template file's TOML with the templates it extends merged in (the module's rule)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    base = data.pop("extends", None)
    if base is None:
        return data
    if not isinstance(base, str) or not _BASE_NAME.fullmatch(base):
        raise ValueError(f"template {path.name}: extends names a template file in its folder, without .toml")
    base_path = path.with_name(f"{base}.toml")
    if base_path in (*_seen, path):
        raise ValueError(f"template {path.name}: extends itself through {base}")
    return merge_tables(template_data(base_path, (*_seen, path)), data)


def merge_tables(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` laid over ``base``: tables merged key by key, ``over`` winning; other values replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_template(path: Path) -> Template:
    data = template_data(path)
    match = data.get("match", {})
    fields = tuple(
        FieldSpec(
            name=name,
            labels=_tuple(spec.get("labels", spec.get("label"))),
            parser=spec.get("parser", "text"),
            layout=spec.get("layout", "right"),
            lines=int(spec.get("lines", 1)),
            join=str(spec.get("join", " ")),
            line_gap=float(spec.get("line_gap", 1.5)),
            min_score=float(spec.get("min_score", 82.0)),
            pattern=spec.get("pattern"),
            skip_lines=_tuple(spec.get("skip_lines")),
            x_range=tuple(spec.get("x_range", (0.0, 1.0))),  # type: ignore[arg-type]
            lookalikes=dict(spec.get("lookalikes", {})),
            shape=spec.get("shape"),
            lexicon=spec.get("lexicon"),
            line_pattern=spec.get("line_pattern"),
            line_before=_tuple(spec.get("line_before")),
            row_with=spec.get("row_with"),
            row_min_score=float(spec.get("row_min_score", 60.0)),
            value_width=spec.get("value_width"),
            alphabet=check_alphabet(spec["alphabet"]) if "alphabet" in spec else None,
        )
        for name, spec in data.get("fields", {}).items()
    )
    boxes = tuple(
        CheckboxSpec(
            field=box["field"],
            value=box.get("value"),
            anchors=_tuple(box.get("anchors", box.get("anchor"))),
            min_score=float(box.get("min_score", 80.0)),
        )
        for box in data.get("checkboxes", [])
    )
    return Template(
        name=data["name"],
        page_kind=data["page_kind"],
        form_type=data.get("form_type"),
        priority=int(data.get("priority", 0)),
        keywords=_tuple(match.get("keywords")),
        any_keywords=_tuple(match.get("any_keywords")),
        exclude_keywords=_tuple(match.get("exclude_keywords")),
        keyword_score=float(match.get("score", 85.0)),
        min_labels=int(match.get("min_labels", 0)),
        match_labels=tuple(_tuple(entry) for entry in match.get("labels", [])),
        match_phrases=tuple(_tuple(entry) for entry in match.get("phrases", [])),
        min_phrases=int(match.get("min_phrases", 0)),
        revision_patterns=_tuple(data.get("revision", {}).get("patterns")),
        known_revisions=_tuple(data.get("revision", {}).get("known")),
        form_type_pattern=data.get("revision", {}).get("form_type_pattern"),
        fields=fields,
        checkboxes=boxes,
        stop_labels=_tuple(data.get("stop_labels")),
        required=_tuple(data.get("validation", {}).get("required")),
        defaults=dict(data.get("defaults", {})),
        checkbox_groups=tuple(
            CheckboxGroup(
                options=_tuple(group["options"]),
                after=_tuple(group["after"]),
                before=_tuple(group.get("before")),
                reach=float(group.get("reach", 0.2)),
                x_range=tuple(group.get("x_range", (0.0, 0.3))),  # type: ignore[arg-type]
                min_score=float(group.get("min_score", 75.0)),
            )
            for group in data.get("checkbox_groups", [])
        ),
    )


@cache
def templates(directory: str = str(TEMPLATE_DIR)) -> tuple[Template, ...]:
    found = [load_template(path) for path in sorted(Path(directory).glob("*.toml")) if not path.name.startswith("_")]
    return tuple(sorted(found, key=lambda t: -t.priority))


# --------------------------------------------------------------------------- matching


def keyword_present(lines: list[Line], keyword: str, min_score: float) -> bool:
    needle = fold(keyword)
    if not needle:
        return False  # a keyword in a script fold drops (Chinese) would be found everywhere
    for line in lines:
        hay = fold(line.text)
        if needle in hay:
            return True
        if len(hay) >= len(needle) * 0.6 and fuzz.partial_ratio(needle, hay) >= min_score:
            return True
    return False


def find_label(lines: list[Line], labels: tuple[str, ...], min_score: float) -> Span | None:
    """Best occurrence of any of ``labels`` on the page."""
    best: Span | None = None
    for index, line in enumerate(lines):
        for label in labels:
            span = find_in_line(line, label, min_score)
            if span is not None and (best is None or span.score > best.score):
                best = Span(index, span.start, span.end, span.score)
                if span.score >= 100.0:
                    return best
    return best


def find_label_spans(lines: list[Line], labels: tuple[str, ...], min_score: float, limit: int = 3) -> list[Span]:
    """The best occurrences of any of ``labels``, one per line, best first (at most ``limit``)."""
    per_line: dict[int, Span] = {}
    for index, line in enumerate(lines):
        for label in labels:
            span = find_in_line(line, label, min_score)
            if span is not None and (index not in per_line or span.score > per_line[index].score):
                per_line[index] = Span(index, span.start, span.end, span.score)
    return sorted(per_line.values(), key=lambda s: (-s.score, s.line))[:limit]


@dataclass
class TemplateMatch:
    template: Template
    labels_found: int
    score: float


# A [match] label is found like a field's label (FieldSpec.min_score's default).
MATCH_LABEL_SCORE = 82.0


def match_template(lines: list[Line], template: Template) -> TemplateMatch | None:
    if not all(keyword_present(lines, k, template.keyword_score) for k in template.keywords):
        return None
    if template.any_keywords and not any(
        keyword_present(lines, k, template.keyword_score) for k in template.any_keywords
    ):
        return None
    if any(keyword_present(lines, k, 92.0) for k in template.exclude_keywords):
        return None
    if template.min_phrases and sum(
        any(keyword_present(lines, phrase, template.keyword_score) for phrase in entry)
        for entry in template.match_phrases
    ) < template.min_phrases:
        return None
    found = 0
    if template.min_labels:
        found = sum(find_label(lines, spec.labels, spec.min_score) is not None for spec in template.fields)
        found += sum(find_label(lines, labels, MATCH_LABEL_SCORE) is not None for labels in template.match_labels)
        if found < template.min_labels:
            # Small field labels are the first print a poor fax loses; the long printed
            # option texts beside the checkboxes survive it and belong to the form too.
            found += sum(find_label(lines, box.anchors, box.min_score) is not None for box in template.checkboxes)
        if found < template.min_labels:
            return None
    return TemplateMatch(template, found, float(template.priority) + found / 100.0)


def classify_lines(lines: list[Line]) -> TemplateMatch | None:
    """The best-matching template for a page, or None (page kind "other")."""
    for template in templates():
        match = match_template(lines, template)
        if match is not None:
            return match
    return None


def form_hints(lines: list[Line], *, skip: frozenset[str] = frozenset()) -> list[str]:
    """Templates (their names) of which some mark is printed on ``lines`` although the page may not
    match them: a keyword, one of its alternative keywords or one of its phrases. Page kinds in
    ``skip`` are not asked."""
    hinted = []
    for template in templates():
        if template.page_kind in skip:
            continue
        marks = [*template.keywords, *template.any_keywords, *(p for entry in template.match_phrases for p in entry)]
        if any(keyword_present(lines, mark, template.keyword_score) for mark in marks):
            hinted.append(template.name)
    return hinted


def find_form_type(text: str, template: Template) -> str | None:
    """The form named in the footer ("DHS Form I-247A (3/17)"), else the template's own."""
    if template.form_type_pattern:
        match = re.search(template.form_type_pattern, text, re.IGNORECASE)
        if match:
            return match.group(1).upper()
    return template.form_type


def find_revision(text: str, template: Template) -> str | None:
    """The revision printed in the footer. A well-formed reading one substituted glyph off
    exactly one known revision is that revision; a malformed one ("W17") is the one known
    revision it is a glyph from, its slash aside, or no reading."""
    for pattern in template.revision_patterns:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            found = re.sub(r"\s", "", match.group(1)).translate(str.maketrans("OoIl", "0011"))
            if found in template.known_revisions or not template.known_revisions:
                return found
            close = [k for k in template.known_revisions if len(k) == len(found)
                     and sum(a != b for a, b in zip(k, found, strict=True)) == 1]
            if re.fullmatch(r"[0-9]{1,2}/[0-9]{2}", found):
                return close[0] if len(close) == 1 else found
            # A reading that is no revision at all ("W17"): one glyph from one known revision, its
            # slash aside, or nothing.
            close = [k for k in template.known_revisions
                     if Levenshtein.distance(k.replace("/", ""), found.replace("/", "")) <= 1]
            if len(close) == 1:
                return close[0]
    return None
