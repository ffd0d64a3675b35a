"""Second look at the fields that matter most: identifiers and dates, re-OCR'd enlarged.

Tesseract reads 8-point print at ~200 dpi with digit slips (0/9, 1/4, B/8) that a
second reading of the same strokes at 2x and 3x mostly does not repeat. The value
boxes of the page's key fields are cut out of the grey page, enlarged, stacked into a
strip and OCR'd in one Tesseract call per field alphabet (identifiers may only be read
as capitals and digits); fields whose page and 2x readings disagree get a third reading
at 3x (a smaller call). The readings vote, and a reading only counts when its field
parser accepts it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from PIL import Image

from parsing.boxread import caption_text, snap_box
from parsing.fieldvalue import FieldValue, Known, apply_pattern, known_values, parse_value
from parsing.layout import Line, group_lines
from parsing.lexicon import snap_score
from parsing.ocr import Word
from parsing.ocr_engine import MODELS_DIR, read_words
from parsing.templates import FieldSpec, Template

REREAD_FIELDS = ("subject_id", "event_number", "file_number", "issued_date", "date_of_birth",
                 "cancelled_detainer_date", "officer_name")
SCALES = (2, 3)
# Fields the project's fax-print model (parsing/models/README.md) re-reads instead of the page's
# language: where it read the held-out family better than eng, on the crops and in the extracted
# fields (bench/results/faxprint.md); it reads that family's event numbers, A-numbers and
# officer names worse. Only on faxes (``fax_print``): it learned faxed print, and on the corpus's
# phone photo it read the subject ID a glyph further off than eng, enough to count its request twice.
FAXPRINT_FIELDS: frozenset[str] = frozenset({"subject_id"})
FAXPRINT_LANG = "faxprint"
GAP = 24  # white pixels between stacked crops (before scaling)


@dataclass
class _Crop:
    name: str
    box: tuple[int, int, int, int]  # left, top, right, bottom on the page


def reread_fields(
    page: Image.Image, fields: dict[str, FieldValue], template: Template, *, lang: str, timeout: float,
    fax_print: bool = True,
) -> None:
    """Re-read the key fields in place (value and evidence.raw/confidence). ``page`` is the
    image the page was OCR'd from (a fax already smoothed): its crops are enlarged."""
    specs = {spec.name: spec for spec in template.fields}
    # Beside the key fields: a field whose label was read and its value not (value_width).
    unread = tuple(spec.name for spec in template.fields
                   if spec.value_width and spec.name in fields and fields[spec.name].value is None)
    found = [_crop(name, fields[name], (page.height, page.width)) for name in (*REREAD_FIELDS, *unread)
             if name in fields and name in specs]
    crops = [c for c in found if c is not None]
    if not crops:
        return
    readings: dict[str, list[tuple[str, Any]]] = {c.name: [] for c in crops}
    for crop in crops:
        first = fields[crop.name]
        if first.value is not None and first.evidence.raw:
            readings[crop.name].append((first.evidence.raw, first.value))
    pending = crops
    for scale in SCALES:
        for crop, text in _read_scale(page, pending, specs, scale, lang, timeout, fax_print):
            text = apply_pattern(specs[crop.name], text) if text else ""
            value = parse_value(specs[crop.name], text) if text else None
            if value is not None:
                readings[crop.name].append((text, value))
        # The next (larger) scale only for fields whose readings do not agree yet.
        pending = [c for c in pending if not _settled(readings[c.name])]
        if not pending:
            break
    for crop in crops:
        votes = Counter(value for _, value in readings[crop.name])
        if not votes:
            continue
        value, count = votes.most_common(1)[0]
        current = fields[crop.name]
        current.readings = [v for _, v in readings[crop.name]]
        if current.value is None or (value != current.value and count >= 2):
            raw = next(text for text, v in readings[crop.name] if v == value)
            confidence = round(min(1.0, 0.5 + 0.5 * count / (len(SCALES) + 1)), 3)
            current.value = value
            current.evidence = current.evidence.model_copy(update={"raw": raw, "confidence": confidence})
        elif count >= 2:
            current.evidence = current.evidence.model_copy(
                update={"confidence": max(current.evidence.confidence, 0.9)}
            )


def _settled(readings: list[tuple[str, Any]]) -> bool:
    values = [value for _, value in readings]
    return len(values) >= 2 and len(set(values)) == 1


def _crop(name: str, found: FieldValue, shape: tuple[int, ...]) -> _Crop | None:
    box = found.evidence.bbox
    if box is None:
        return None
    pad_y = max(4, box.height // 2)
    pad_x = max(8, box.height)
    left, top = max(0, box.left - pad_x), max(0, box.top - pad_y)
    right, bottom = min(shape[1], box.left + box.width + pad_x), min(shape[0], box.top + box.height + pad_y)
    if right - left < 8 or bottom - top < 8:
        return None
    return _Crop(name, (left, top, right, bottom))


def _read_scale(
    page: Image.Image, crops: list[_Crop], specs: dict[str, FieldSpec], scale: int, lang: str, timeout: float,
    fax_print: bool,
) -> list[tuple[_Crop, str]]:
    """Each crop's reading at ``scale``: by ``lang``, or on a fax by the fax-print model (``FAXPRINT_FIELDS``)."""
    chosen = FAXPRINT_FIELDS if fax_print else frozenset()
    own = [c for c in crops if c.name not in chosen]
    model = [c for c in crops if c.name in chosen]
    out = list(zip(own, _read_strips(page, own, specs, scale, lang, timeout), strict=True)) if own else []
    if model:
        texts = _read_strips(page, model, specs, scale, FAXPRINT_LANG, timeout, str(MODELS_DIR))
        out += zip(model, texts, strict=True)
    return out


def _read_strips(
    page: Image.Image, crops: list[_Crop], specs: dict[str, FieldSpec], scale: int, lang: str, timeout: float,
    tessdata_dir: str | None = None,
) -> list[str]:
    """The text of each crop at ``scale``: one strip (one Tesseract call) per field alphabet."""
    texts: dict[str, str] = {}
    for alphabet in dict.fromkeys(specs[c.name].alphabet for c in crops):
        group = [c for c in crops if specs[c.name].alphabet == alphabet]
        strip = _read_strip(page, group, scale, lang, timeout, alphabet, middle=True, tessdata_dir=tessdata_dir)
        for crop, lines in zip(group, strip, strict=True):
            texts[crop.name] = " ".join(lines)
    return [texts[c.name] for c in crops]


def _read_strip(
    page: Image.Image, crops: list[_Crop], scale: int, lang: str, timeout: float, alphabet: str | None = None,
    *, middle: bool = False, tessdata_dir: str | None = None,
) -> list[list[str]]:
    """Stack the crops at ``scale`` into one strip; OCR it once; the lines of each crop.

    ``middle``: only the line across the crop's middle (a one-line value's crop is padded by
    half a line, and in a tight grid that takes in the foot of the caption line above, which
    Tesseract reads as a line of its own: "SID" over "KVAJ37CGD")."""
    pieces = [page.crop(c.box) for c in crops]
    width = max(p.width for p in pieces) * scale + 2 * GAP * scale
    height = sum(p.height * scale + GAP * scale for p in pieces) + GAP * scale
    strip = Image.new("L", (width, height), 255)
    spans = []
    y = GAP * scale
    for piece in pieces:
        big = piece.resize((piece.width * scale, piece.height * scale), Image.Resampling.BICUBIC)
        strip.paste(big, (GAP * scale, y))
        spans.append((y, y + big.height))
        y += big.height + GAP * scale
    words: list[Word] = read_words(strip, lang=lang, timeout=timeout, psm=6, dpi=200 * scale, alphabet=alphabet,
                                   tessdata_dir=tessdata_dir)
    texts = []
    for top, bottom in spans:
        inside = [w for w in words if top <= w.cy <= bottom]
        lines = group_lines(inside)
        if middle and len(lines) > 1:
            centre = (top + bottom) / 2
            lines = [min(lines, key=lambda line: abs(_line_middle(line) - centre))]
        texts.append([line.text for line in lines])
    return texts


def _line_middle(line: Line) -> float:
    return (min(w.top for w in line.words) + max(w.bottom for w in line.words)) / 2


def reread_known_values(
    page: Image.Image, fields: dict[str, FieldValue], template: Template, known: Known, *, lang: str, timeout: float,
) -> None:
    """A known-value field (the FROM and TO boxes) none of whose lines matched an entry is read
    once more, its box enlarged on its own: Tesseract sometimes runs the box's tightly spaced
    lines together on the page ("Ser Lintaniae Coaeed Pte suite 400" for an office name and
    its street address). When a line of the re-read clearly is an entry, the re-read box (that
    line as the entry, the others as read) replaces the reading."""
    for spec in template.fields:
        choices = known_values(spec, known)
        current = fields.get(spec.name)
        if not choices or current is None or not isinstance(current.value, str) \
                or any(entry in current.value for entry in choices):
            continue
        crop = _box_crop(spec.name, current, (page.height, page.width), spec.join)
        if crop is None:
            continue
        texts = [text for text in _read_strip(page, [crop], 2, lang, timeout)[0]
                 if any(c.isalnum() for c in text) and not caption_text(text, spec, template)]
        if len(texts) == len(current.lines):
            # The same lines: the re-read's where it is an entry, the page's elsewhere (the
            # page's reading of an address line is as good as the enlarged one's).
            texts = [text if snap_score(text, choices)[0] is not None else line
                     for text, line in zip(texts, current.lines, strict=True)]
        value, found = snap_box(spec, [(text, []) for text in texts], choices)
        if found:
            score = max(snap_score(text, choices)[1] for text in texts)
            current.value, current.lines = value, texts
            current.readings = [value]
            current.evidence = current.evidence.model_copy(
                update={"raw": value, "confidence": round(min(0.9, score / 100.0), 3)}
            )


def _box_crop(name: str, found: FieldValue, shape: tuple[int, ...], join: str) -> _Crop | None:
    """A box's crop padded by a fraction of one of its lines, so the caption above and the rule
    below stay out of the re-read (the lines are counted by the separator, an upper bound)."""
    box = found.evidence.bbox
    if box is None:
        return None
    lines = max(1, str(found.value).count(join) + 1) if join.strip() else 1
    pad_y = max(4, box.height // (3 * lines))
    left, top = max(0, box.left - box.height // lines), max(0, box.top - pad_y)
    right = min(shape[1], box.left + box.width + box.height // lines)
    bottom = min(shape[0], box.top + box.height + pad_y)
    if right - left < 8 or bottom - top < 8:
        return None
    return _Crop(name, (left, top, right, bottom))
