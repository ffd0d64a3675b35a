"""The cheap look: what a page is, from its title and footer bands, before (or instead of) a full reading.

Forms say what they are at their edges: the title and the fax header line at the top, the form
number and edition at the foot. Many of a year's fax pages need nothing more: another agency's
letter, a court notice, the notice-to-detainee pages of a packet. Page 1 of the I-247 and the
warrant have fields all over the page. So a page is first read in its two bands only, cut
at the emptiest rows near :data:`TOP_BAND` and :data:`BOTTOM_BAND` (so no line of print is cut),
stacked into one image, in one Tesseract call.

The look *places* a page (no full reading) only when all of these hold, never by a band
threshold alone: its reading is good (``parsing.orientation.reading_quality``, the same check
that confirms an orientation, so a page upside down or turned is never placed by it), and the
bands say either a form whose fields the count does not need from the whole page (a notice page,
recognised by its template from the band text), or nothing of DHS at all: no form
matched, no form footer and no "Immigration Detainer" (``parsing.evidence``), no mark of any DHS
form (a title half, a footer, a sentence of one: ``parsing.templates.form_hints``), no DHS agency
name and no cover-sheet title below the fax header line (a cover sheet's "Re: detainer" sits in
its body). The word "detainer" alone (a jail roster's footer) does not stop a page being placed:
it stays the page's evidence, so a document of such pages is still a possible detainer. Everything
else is read whole:
a poor or empty reading, page 1 of a detainer, a warrant, a cover sheet, and any page with a DHS
mark the look could not place. Noise is told by the full reading (``parsing.pipeline``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
from PIL import Image

from parsing.evidence import WORD as DETAINER_WORD
from parsing.evidence import page_evidence
from parsing.header import HEADER_BAND
from parsing.layout import Line, fold, group_lines, page_text
from parsing.models import PageKind
from parsing.ocr import Word
from parsing.orientation import Quality, Reader, reading_quality
from parsing.templates import TemplateMatch, classify_lines, form_hints, keyword_present

# Where the cuts are sought (fraction of the page height): the title block and fax header
# above, the form footer below. Each cut moves to the emptiest row within CUT_WINDOW of it.
TOP_BAND = 0.22
BOTTOM_BAND = 0.10
CUT_WINDOW = 0.03
# White between the two bands in the stacked image, in page heights: more than a line of
# print, so Tesseract never joins the bands' lines.
GAP = 0.02
# The forms a look may place: pages whose fields the count needs are not all over the page. The
# notice pages print their identifiers under the title (in the top band). A warrant's signing
# officer, subject name and date vote on page 1's values from all over the page (measured: placed
# by their bands, warrants cost two officer names in 22 fine faxes and a photo's A-number), so
# warrants are read whole, as are page 1 and cover sheets (a cover's "Re:" line is in its body).
PLACED_KINDS = frozenset({PageKind.detainee_notice})
# Names that make a page worth reading whole when the look cannot place it.
AGENCY_MARKS = ("Homeland Security", "Immigration and Customs Enforcement", "Enforcement and Removal Operations",
                "Immigration")
# A cover sheet's title (the cover template's keywords), counted below the fax header line only:
# a fax machine's own header may say "FAX".
COVER_MARKS = ("FAX", "FACSIMILE", "TELECOPY", "TELEFAX", "TRANSMITTAL")
MARK_SCORE = 90.0
WORD_EVIDENCE = f"word:{DETAINER_WORD}"


class Verdict(StrEnum):
    """Why a page was (not) placed by its look; the first three need the full reading."""

    poor_reading = "poor_reading"
    read_whole_kind = "read_whole_kind"
    unplaced_evidence = "unplaced_evidence"  # detainer evidence, a DHS form's or agency's mark, a cover title
    form = "form"  # a form without page-wide fields, recognised from its bands
    other = "other"  # no DHS form or agency mark; at most the word "detainer" (kept as its evidence)


@dataclass(frozen=True)
class Bands:
    """The stacked band image and where its rows come from on the page."""

    image: Image.Image
    top_end: int  # page rows [0, top_end) are image rows [0, top_end)
    bottom_start: int  # page rows [bottom_start, height) start at image row top_end + gap
    gap: int

    def to_page(self, word: Word) -> Word:
        if word.top < self.top_end:
            return word
        return replace(word, top=word.top - self.top_end - self.gap + self.bottom_start)


@dataclass
class Look:
    words: list[Word]  # in page coordinates
    lines: list[Line]
    quality: Quality
    match: TemplateMatch | None
    evidence: list[str]
    verdict: Verdict
    bands: Bands | None = None

    @property
    def placed(self) -> bool:
        return self.verdict in (Verdict.form, Verdict.other)


def cut_rows(ink: np.ndarray) -> tuple[int, int]:
    """The two cuts: the emptiest row near each band's edge (the first such row)."""
    height = ink.shape[0]
    rows = ink.sum(axis=1)
    window = max(1, int(height * CUT_WINDOW))

    def emptiest(target: float) -> int:
        centre = int(height * target)
        low, high = max(1, centre - window), min(height - 1, centre + window)
        return low + int(np.argmin(rows[low:high])) if high > low else centre

    top, bottom = emptiest(TOP_BAND), emptiest(1.0 - BOTTOM_BAND)
    return (top, bottom) if top < bottom else (height, height)


def band_image(image: Image.Image, ink: np.ndarray) -> Bands:
    """The page's top and bottom bands stacked into one image, white between them."""
    top, bottom = cut_rows(ink)
    gap = max(8, int(image.height * GAP))
    upper = image.crop((0, 0, image.width, top))
    lower = image.crop((0, bottom, image.width, image.height))
    stacked = Image.new("L", (image.width, upper.height + gap + lower.height), 255)
    stacked.paste(upper, (0, 0))
    stacked.paste(lower, (0, upper.height + gap))
    return Bands(stacked, top, bottom, gap)


def look_at(image: Image.Image, ink: np.ndarray, read: Reader, timeout: float) -> Look:
    """Read the bands of ``image`` (the page as OCR reads it; ``ink`` its mask) and judge them."""
    bands = band_image(image, ink)
    look = judge([bands.to_page(word) for word in read(bands.image, timeout)], ink)
    look.bands = bands
    return look


def judge(words: list[Word], ink: np.ndarray) -> Look:
    """The verdict on a page from its band words (page coordinates) and its ink."""
    lines = group_lines(words)
    quality = reading_quality(words)
    match = classify_lines(lines) if lines else None
    kind = PageKind(match.template.page_kind) if match is not None else PageKind.other
    evidence = page_evidence(page_text(lines), kind)

    def look(verdict: Verdict) -> Look:
        return Look(words, lines, quality, match, evidence, verdict)

    if not quality.good:
        return look(Verdict.poor_reading)
    if match is not None:
        return look(Verdict.form if kind in PLACED_KINDS else Verdict.read_whole_kind)
    if form_hints(lines, skip=frozenset({PageKind.fax_cover})) or _marked(lines, ink.shape[0]):
        return look(Verdict.unplaced_evidence)
    # The word alone (a jail roster's "holds and detainers" footer) is kept as the page's evidence:
    # reading the rest finds no form where the bands show no form's or agency's mark.
    if any(slug != WORD_EVIDENCE for slug in evidence):
        return look(Verdict.unplaced_evidence)
    return look(Verdict.other)


def _marked(lines: list[Line], height: int) -> bool:
    below_header = [line for line in lines if line.top >= height * HEADER_BAND]
    if any(keyword_present(lines, mark, MARK_SCORE) for mark in AGENCY_MARKS):
        return True
    words = {token for line in below_header for token in re.findall(r"[a-z]+", fold(line.text))}
    return any(fold(mark) in words for mark in COVER_MARKS)
