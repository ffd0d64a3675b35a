"""One page, start to finish, inside a worker process: load -> normalise -> OCR (or text
layer) -> classify -> header -> template fields and checkbox ink.

The page image lives only inside :func:`process_page`; what leaves the worker is a
small :class:`PageOutput` (words for later grouping are reduced to what assembly needs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from PIL import Image

from core.errors import InputError, UnreadableInput
from parsing import pages as P
from parsing.checkread import match_by_layout
from parsing.evidence import page_evidence
from parsing.fields import normalize_a_number
from parsing.fieldvalue import FieldValue
from parsing.formread import read_fields
from parsing.header import HEADER_BAND, FaxHeader, parse_header
from parsing.layout import Line, group_lines, page_text
from parsing.limits import memory_limit
from parsing.look import Look
from parsing.models import PageKind
from parsing.normalize import NormalizedPage, looks_like_noise, normalize, to_gray
from parsing.ocr import Word, text_layer_words, usable_text_layer
from parsing.ocr_engine import PAGE_TIMEOUT, read_words
from parsing.orientation import read_upright
from parsing.reread import reread_fields, reread_known_values
from parsing.templates import Template, TemplateMatch, classify_lines, find_form_type, find_revision, templates
from parsing.upright_look import look_upright


@dataclass(frozen=True)
class PageJob:
    ref: P.PageRef
    number: int  # 1-based page number within the input
    lang: str = "eng"
    ocr_timeout: float = PAGE_TIMEOUT
    tz: str = "America/New_York"
    institutions: tuple[str, ...] = ()  # the department's names (parsing.institutions)


@dataclass
class PageOutput:
    number: int
    kind: PageKind = PageKind.other
    template: str | None = None
    form_type: str | None = None
    form_revision: str | None = None
    rotation: int = 0
    text_layer: bool = False
    mean_confidence: float | None = None
    header: FaxHeader | None = None
    fields: dict[str, FieldValue] = field(default_factory=dict)
    a_numbers: list[str] = field(default_factory=list)  # A-numbers printed anywhere on the page
    layout_only: bool = False  # taken for its form by title and checkbox layout, its labels unread
    coarse: bool = False  # a standard-resolution fax, a scan or a photo: its small print reads poorly
    looked: bool = False  # placed by its title and footer bands alone (parsing.look), not read whole
    evidence: list[str] = field(default_factory=list)  # detainer evidence slugs (parsing.evidence), never text
    error: str | None = None  # InputError class name when this page could not be read
    error_message: str | None = None

    @property
    def sender_number(self) -> str | None:
        return self.header.sender_number if self.header else None

    @property
    def sent_at(self) -> datetime | None:
        return self.header.sent_at if self.header else None


def process_page(job: PageJob) -> PageOutput:
    try:
        with memory_limit(job.ref.max_memory_mb):  # every helper process this page starts
            return _process(job)
    except InputError as exc:
        return PageOutput(job.number, error=type(exc).__name__, error_message=exc.message)


def _process(job: PageJob) -> PageOutput:
    ref = job.ref
    if ref.fmt is P.Format.pdf:
        words = text_layer_words(P.pdf_text_words_xml(ref), P.INK_DPI / 72.0)
        if usable_text_layer(words):
            return _from_text_layer(job, words)
    image, dpi, exif_rotation = P.load_image(ref)
    # The ink profile's guess of the orientation, without OSD (~0.6 s a page): the reading checks
    # the guess (the look's or the whole page's), and only a poor one has OSD asked.
    page = normalize(image, dpi, use_osd=False)
    del image

    def read(picture: Image.Image, timeout: float) -> list[Word]:
        return read_words(picture, lang=job.lang, timeout=timeout)

    # Recognise first, read second: most pages are placed by their title and footer bands.
    # Noise is judged by the full reading (its texture fools no look, but its words decide).
    if looks_like_noise(page.ink):
        ocr_image = page.ocr_image()
        ocr_words = read(ocr_image, job.ocr_timeout)
    else:
        looked = look_upright(page, read, timeout=job.ocr_timeout)
        page, ocr_image = looked.page, looked.image
        placed = _placed(job, page, looked.look, exif_rotation) if looked.look.placed else None
        # A placed form whose fields (a notice's identifiers, printed under its title) were not
        # all read in its bands is read whole: they vote on page 1's values.
        if placed is not None and _bands_hold_its_fields(placed):
            return placed
        # Read whole in one piece, as before there were looks: Tesseract's layout analysis of the
        # whole page reads a poor photo's lines better than of its middle alone.
        ocr_words = read(ocr_image, job.ocr_timeout)
    # Noise has no orientation: it is told by its ink texture before any other one is read.
    _check_not_noise(page.ink, ocr_words)
    # The guess is checked by its reading: a poor one has the other orientations read.
    reading = read_upright(page, read, timeout=job.ocr_timeout, first=(ocr_image, ocr_words))
    page, ocr_image, ocr_words = reading.page, reading.image, reading.words
    out = _analyse(job, ocr_words, page.ink, page.ink.shape[0])
    _set_page_form(out, page, exif_rotation)
    if out.fields and out.kind is PageKind.detainer_p1 and out.template is not None:
        template = next(t for t in templates() if t.name == out.template)
        reread_fields(ocr_image, out.fields, template, lang=job.lang, timeout=job.ocr_timeout,
                      fax_print=page.bilevel)
        reread_known_values(ocr_image, out.fields, template, {"institutions": job.institutions}, lang=job.lang,
                            timeout=job.ocr_timeout)
    return out


def _bands_hold_its_fields(out: PageOutput) -> bool:
    if out.template is None:
        return True
    template = next(t for t in templates() if t.name == out.template)
    return all(out.fields.get(spec.name) is not None and out.fields[spec.name].value is not None
               for spec in template.fields)


def _placed(job: PageJob, page: NormalizedPage, look: Look, exif_rotation: int) -> PageOutput:
    """The page from its bands alone (``parsing.look`` placed it): kind, header, evidence and the
    fields printed in the bands."""
    out = _analyse(job, look.words, page.ink, page.ink.shape[0], lines=look.lines, match=look.match)
    out.looked = True
    _set_page_form(out, page, exif_rotation)
    return out


def _set_page_form(out: PageOutput, page: NormalizedPage, exif_rotation: int) -> None:
    """How the page was turned to be read, and whether its small print reads poorly."""
    out.rotation = (page.rotation + exif_rotation) % 360
    out.coarse = page.scale_y > 1.5 or not page.bilevel


# A word OCR read with at least this confidence and two letters or digits is real text.
REAL_WORD_CONFIDENCE = 60.0
# A page of noise may still carry its fax header line (or a few phantom words): fewer real
# words than this below the header band do not make it a document.
MIN_REAL_WORDS = 3


def _check_not_noise(ink: np.ndarray, words: list[Word]) -> None:
    """Raise ``UnreadableInput`` for a page whose ink is noise and whose OCR found (almost) no
    words; checked after OCR, so a page Tesseract cannot finish stays an ``ocr_timeout``."""
    if not looks_like_noise(ink):
        return
    below_header = ink.shape[0] * HEADER_BAND
    real = [
        w for w in words
        if w.top >= below_header and w.conf >= REAL_WORD_CONFIDENCE and sum(c.isalnum() for c in w.text) >= 2
    ]
    if len(real) < MIN_REAL_WORDS:
        raise UnreadableInput("a page holds no readable text, only noise (a line hit or a scanner fault)")


def _from_text_layer(job: PageJob, words: list[Word]) -> PageOutput:
    lines = group_lines(words)
    match = classify_lines(lines)
    ink = None
    if match is not None and match.template.checkboxes:
        image = P.render_pdf_page(job.ref, P.INK_DPI)
        ink = np.asarray(to_gray(image), dtype=np.uint8) < 160  # a clean render: no flattening needed
    height = ink.shape[0] if ink is not None else int((job.ref.size or (612, 792))[1] * P.INK_DPI / 72.0)
    out = _analyse(job, words, ink, height, lines=lines, match=match)
    out.text_layer = True
    out.mean_confidence = 1.0
    return out


def _analyse(
    job: PageJob,
    words: list[Word],
    ink: np.ndarray | None,
    height: int,
    *,
    lines: list[Line] | None = None,
    match: TemplateMatch | None = None,
) -> PageOutput:
    layout_only = False
    if lines is None:  # OCR'd page: lines and template not known yet
        lines = group_lines(words)
        match = classify_lines(lines)
        if match is None and ink is not None:
            match = match_by_layout(lines, ink)
            layout_only = match is not None
    out = PageOutput(job.number, layout_only=layout_only)
    if words:
        out.mean_confidence = round(sum(w.conf for w in words) / len(words) / 100.0, 3)
    out.header = _header(lines, height, job.tz)
    text = page_text(lines)
    out.a_numbers = _a_numbers(text)
    if match is None:
        out.evidence = page_evidence(text, out.kind)
        return out
    template: Template = match.template
    out.kind = PageKind(template.page_kind)
    out.evidence = page_evidence(text, out.kind)
    out.template = template.name
    out.form_type = find_form_type(text, template)
    out.form_revision = find_revision(text, template)
    if template.fields or template.checkboxes:
        width = ink.shape[1] if ink is not None else int((job.ref.size or (612, 792))[0] * P.INK_DPI / 72.0)
        out.fields = read_fields(lines, template, job.number, ink, width, {"institutions": job.institutions})
    return out


def _header(lines: list[Line], height: int, tz: str) -> FaxHeader | None:
    band = [line for line in lines if line.top < height * HEADER_BAND]
    for candidate in (" ".join(line.text for line in band), *(line.text for line in band)):
        header = parse_header(candidate, tz)
        if header is not None:
            return header
    return None


_A_NUMBER_TEXT = re.compile(r"\b(A\s?[\d\s\-]{8,13}\d|\d{3}-\d{3}-\d{3})\b")


def _a_numbers(text: str) -> list[str]:
    found = []
    for match in _A_NUMBER_TEXT.finditer(text):
        number = normalize_a_number(match.group(1))
        if number and number not in found:
            found.append(number)
    return found
