"""Recognise first, read second (parsing.look): real pages of the sample corpus, real Tesseract
behind a counting engine. A decoy is placed by its bands without a whole reading; a page its
look cannot place, page 1 of a detainer, and page 1 with its title band lost are read whole."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from core.config import ParsingSettings
from parsing import ocr_engine
from parsing import pages as P
from parsing.look import BOTTOM_BAND, TOP_BAND, Verdict, band_image, cut_rows, judge
from parsing.models import PageKind
from parsing.ocr import OcrParams, Word
from parsing.pipeline import PageJob, PageOutput, process_page

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CountingEngine:
    """The process's engine, each call's image size recorded."""

    inner: Any
    sizes: list[tuple[int, int]] = field(default_factory=list)

    def identity(self) -> str:
        return str(self.inner.identity())

    def words(self, image: Image.Image, params: OcrParams, timeout: float) -> list[Word]:
        self.sizes.append(image.size)
        return list(self.inner.words(image, params, timeout))

    def orientation(self, image: Image.Image, timeout: float) -> int | None:
        self.sizes.append((0, 0))
        return self.inner.orientation(image, timeout)  # type: ignore[no-any-return]


@pytest.fixture
def engine() -> Iterator[CountingEngine]:
    counting = CountingEngine(ocr_engine.ocr_engine())
    ocr_engine.set_ocr_engine(counting)
    yield counting
    ocr_engine.set_ocr_engine(counting.inner)


def _receipt(truth: dict[str, Any], kinds: list[str], kind: str = "detainer") -> dict[str, Any]:
    for receipt in truth["receipts"]:
        if (receipt["kind"] == kind and receipt["format"] == "tiff_g4" and receipt["resolution"] == "fine"
                and [p["kind"] for p in receipt["pages"]][: len(kinds)] == kinds):
            return receipt
    raise AssertionError(f"no fine G4 fax starting {kinds} in the sample corpus")


def _frame(receipt: dict[str, Any], index: int) -> Image.Image:
    with Image.open(ROOT / "sample_faxes" / receipt["path"]) as image:
        image.seek(index)
        return image.convert("1")


def _run(page: Image.Image, tmp_path: Path) -> tuple[PageOutput, int]:
    """One page as a one-page fine G4 fax through the page pipeline, and its height as read."""
    out = io.BytesIO()
    page.save(out, format="TIFF", compression="group4", dpi=(204, 196))
    path = tmp_path / "page.tif"
    path.write_bytes(out.getvalue())
    ref = P.open_input(out.getvalue(), path, ParsingSettings()).pages[0]
    return process_page(PageJob(ref, 1)), page.height


def _whiten(page: Image.Image, top: float, bottom: float) -> Image.Image:
    """The page with rows [top, bottom) (fractions of its height) white."""
    pixels = np.asarray(page.convert("L")).copy()
    pixels[int(pixels.shape[0] * top): int(pixels.shape[0] * bottom)] = 255
    return Image.fromarray(pixels).convert("1")


def _whole_readings(engine: CountingEngine, height: int) -> int:
    return sum(1 for _, h in engine.sizes if h >= height * 0.95)


def test_a_decoy_page_is_placed_without_a_whole_reading(
    truth: dict[str, Any], tmp_path: Path, engine: CountingEngine,
) -> None:
    decoy = _receipt(truth, ["other"], kind="decoy")
    out, height = _run(_frame(decoy, 0), tmp_path)
    assert out.error is None
    assert out.kind is PageKind.other and out.looked
    assert out.evidence == []
    assert out.header is not None  # the fax header line is in the top band
    assert len(engine.sizes) == 1  # one Tesseract run: the bands, stacked
    assert _whole_readings(engine, height) == 0
    assert engine.sizes[0][1] < height * (TOP_BAND + BOTTOM_BAND + 0.1)


def test_a_page_its_look_cannot_place_is_read_whole(
    truth: dict[str, Any], tmp_path: Path, engine: CountingEngine,
) -> None:
    # The same decoy with nothing printed in its bands: the look reads nothing, places nothing.
    decoy = _receipt(truth, ["other"], kind="decoy")
    page = _whiten(_whiten(_frame(decoy, 0), 0.0, TOP_BAND + 0.03), 1.0 - BOTTOM_BAND - 0.03, 1.0)
    out, height = _run(page, tmp_path)
    assert out.error is None
    assert not out.looked
    assert _whole_readings(engine, height) >= 1
    assert out.mean_confidence is not None and out.mean_confidence > 0.5  # its middle was read


def test_notice_pages_are_placed_page_1_and_warrants_are_read(
    truth: dict[str, Any], tmp_path: Path, engine: CountingEngine,
) -> None:
    packet = _receipt(truth, ["detainer_p1", "detainee_notice"])
    notice, _ = _run(_frame(packet, 1), tmp_path)
    assert notice.kind is PageKind.detainee_notice and notice.looked
    assert "notice_page" in notice.evidence
    first, _ = _run(_frame(packet, 0), tmp_path)
    assert first.kind is PageKind.detainer_p1 and not first.looked
    assert first.fields["event_number"].value and first.fields["subject_name"].value  # its fields were read
    kinds = [p["kind"] for p in packet["pages"]]
    warrant, _ = _run(_frame(packet, kinds.index("i200") if "i200" in kinds else kinds.index("i205")), tmp_path)
    assert warrant.kind in (PageKind.i200, PageKind.i205) and not warrant.looked
    assert {"officer_name", "subject_name"} <= set(warrant.fields)  # the body's fields were looked for


def test_page_1_whose_title_band_is_lost_is_still_found(
    truth: dict[str, Any], tmp_path: Path, engine: CountingEngine,
) -> None:
    # Everything under the fax header line down to the top band's edge is gone (a line hit
    # across the title): the form footer the look still reads sends the page to a whole reading.
    packet = _receipt(truth, ["detainer_p1"])
    page = _whiten(_frame(packet, 0), 0.04, TOP_BAND)
    out, height = _run(page, tmp_path)
    assert out.error is None
    assert out.kind is PageKind.detainer_p1
    assert not out.looked
    assert _whole_readings(engine, height) >= 1 or len(engine.sizes) >= 2


# --------------------------------------------------------------------------- the look itself


def _line(text: str, top: int, conf: float = 92.0) -> list[Word]:
    words, left = [], 100
    for token in text.split():
        words.append(Word(token, left, top, 18 * len(token), 30, conf))
        left += 18 * len(token) + 20
    return words


LETTERHEAD = (_line("TRIAL COURT OF THE COMMONWEALTH", 150)
              + _line("NOTICE OF HEARING for the case of the defendant", 220))
INK = np.zeros((2200, 1700), dtype=bool)


def test_the_verdicts() -> None:
    assert judge(LETTERHEAD + _line("Page 1 of 1 please call the clerk", 2100), INK).verdict is Verdict.other
    assert judge(LETTERHEAD + _line("Form I-200 (Rev. 09/16)", 2100), INK).verdict is Verdict.unplaced_evidence
    assert judge(LETTERHEAD + _line("U.S. Department of Homeland Security", 300), INK).verdict \
        is Verdict.unplaced_evidence
    assert judge(LETTERHEAD + _line("FAX COVER SHEET", 300), INK).verdict is Verdict.unplaced_evidence
    # A fax machine's own header line may say FAX: only a title below it marks a cover sheet.
    assert judge(_line("FAX 617 555 0100 the page of", 10) + LETTERHEAD, INK).verdict is Verdict.other
    # The word alone is no form's mark: the page is placed, the word kept as its evidence.
    roster = judge(LETTERHEAD + _line("holds and detainers are listed as entered", 2100), INK)
    assert roster.verdict is Verdict.other and roster.evidence == ["word:detainer"]
    assert judge(LETTERHEAD + _line("IMMIGRATION DETAINER - NOTICE OF ACTION", 300), INK).verdict \
        is Verdict.unplaced_evidence
    soup = _line("sepia uoy| ,eb AdoNN ezi3 lleo ozb yitox", 150, conf=35.0)
    assert judge(soup, INK).verdict is Verdict.poor_reading


def test_the_bands_are_cut_where_no_print_is_and_mapped_back() -> None:
    ink = np.zeros((1000, 800), dtype=bool)
    ink[200:230, 50:700] = True  # a line of print across the top band's edge (22 %)
    ink[880:910, 50:700] = True  # and across the bottom one's (90 %)
    top, bottom = cut_rows(ink)
    assert not ink[top].any() and not ink[bottom].any()
    image = Image.fromarray(np.where(ink, 0, 255).astype(np.uint8))
    bands = band_image(image, ink)
    below = Word("x", 10, bands.top_end + bands.gap + 5, 5, 5, 90.0)
    assert bands.to_page(below).top == bands.bottom_start + 5
    assert bands.to_page(Word("x", 10, 5, 5, 5, 90.0)).top == 5


def test_a_placed_notice_without_its_identifiers_is_read_whole() -> None:
    from parsing.fieldvalue import FieldValue
    from parsing.models import FieldEvidence
    from parsing.pipeline import _bands_hold_its_fields

    def value(text: str | None) -> FieldValue:
        return FieldValue(text, FieldEvidence(page=2, confidence=0.9))

    notice = PageOutput(2, kind=PageKind.detainee_notice, template="detainee_notice")
    notice.fields = {"subject_id": value("KVAJ37CGD"), "file_number": value("A012345678")}
    assert _bands_hold_its_fields(notice)
    notice.fields["subject_id"] = value(None)  # its label read in the band, its value not
    assert not _bands_hold_its_fields(notice)
    del notice.fields["subject_id"]  # not even its label
    assert not _bands_hold_its_fields(notice)
    assert _bands_hold_its_fields(PageOutput(1))  # no form: nothing to hold
