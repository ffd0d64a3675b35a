"""Orientation checked by the reading it leads to (parsing.orientation), on pages rendered
with PIL and read by real Tesseract: pages whose ink misleads the cheap orientation guess
are still read upright, truly turned pages still are, and a page that reads well at the
first guess costs one OCR call."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from core.formats import Format
from parsing import normalize as N
from parsing import orientation as O
from parsing import pipeline
from parsing.ocr import Word
from parsing.pages import PageRef
from parsing.pipeline import PageJob, PageOutput, process_page

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DPI = 200.0
SIZE = (1700, 2200)  # a letter page at 200 dpi
# Mean word confidence of these clean pages read upright is above 0.85; read upside down or
# sideways, Tesseract returns letter soup at about 0.3.
UPRIGHT_CONFIDENCE = 0.75


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONT, size)


def descender_page(seed: int = 1) -> Image.Image:
    """Upright lowercase prose without capitals or ascenders but rich in descenders (g p q y):
    more ink hangs below its lines than stands above them, as upside-down print looks."""
    words = ("copy your you page per upon any many every may say way years person group pay "
             "agency energy query proper gray spy").split()
    rng = random.Random(seed)
    image = Image.new("L", SIZE, 255)
    draw = ImageDraw.Draw(image)
    for y in range(150, 2000, 70):
        draw.text((150, y), " ".join(rng.choice(words) for _ in range(8)), font=_font(40), fill=0)
    return image


def table_page(seed: int = 1) -> Image.Image:
    """An upright table: five columns of words between full-height vertical rules. The rules
    leave no white row on the page, the gutters many white columns: the ink's projection
    profiles look like text lines running vertically."""
    words = ("name date office number case page person state city county notice request action "
             "form file event court order record").split()
    rng = random.Random(seed)
    image = Image.new("L", SIZE, 255)
    draw = ImageDraw.Draw(image)
    columns = (150, 420, 690, 960, 1230, 1500)
    for x in columns:
        draw.rectangle((x - 15, 150, x - 12, 2000), fill=0)
    for y in range(170, 1960, 40):
        for x in columns[:-1]:
            draw.text((x + 10, y), rng.choice(words), font=_font(30), fill=0)
    return image


def prose_page() -> Image.Image:
    """An ordinary typed letter: capitals, ascenders and descenders."""
    lines = [
        "NOTICE TO THE RECORDS OFFICE",
        "Please find attached the copy of the order that the court issued this week.",
        "The office will keep the original on file for the review of the case.",
        "Call the number below with any question about this notice or the request.",
        "The department thanks you for your help with the transfer of these records.",
    ] * 3
    image = Image.new("L", SIZE, 255)
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((150, 150 + i * 80), line, font=_font(34), fill=0)
    return image


def soup_page(seed: int = 3) -> Image.Image:
    """Letter soup: no orientation of it reads as words."""
    rng = random.Random(seed)
    image = Image.new("L", SIZE, 255)
    draw = ImageDraw.Draw(image)
    for y in range(150, 700, 70):
        text = " ".join("".join(rng.choice("bcdfghkmnpqrstvwxz") for _ in range(rng.randint(3, 7))) for _ in range(7))
        draw.text((150, y), text, font=_font(40), fill=0)
    return image


def stored(image: Image.Image, rotation: int) -> Image.Image:
    """The page as a sender stored it turned ``rotation`` degrees clockwise."""
    return image.rotate(-rotation, expand=True, fillcolor=255) if rotation else image


@dataclass
class Calls:
    ocr: int = 0
    osd: int = 0
    whole: int = 0  # of the OCR runs, those of a whole page (not its look's bands: parsing.look)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Counts the page's Tesseract runs (page OCR and OSD), each still a real run."""
    counted = Calls()
    real_ocr, real_osd = pipeline.read_words, N.osd_rotation

    def ocr(*args: object, **kwargs: object) -> list[Word]:
        counted.ocr += 1
        image = args[0]
        assert isinstance(image, Image.Image)
        counted.whole += max(image.size) >= max(SIZE) - 10 and min(image.size) >= min(SIZE) - 10
        return real_ocr(*args, **kwargs)  # type: ignore[arg-type]

    def osd(*args: object, **kwargs: object) -> int | None:
        counted.osd += 1
        return real_osd(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "read_words", ocr)
    monkeypatch.setattr(N, "osd_rotation", osd)
    monkeypatch.setattr(O, "osd_rotation", osd)
    return counted


def run_page(image: Image.Image, tmp_path: Path) -> PageOutput:
    path = tmp_path / "page.png"
    image.save(path, dpi=(DPI, DPI))
    ref = PageRef(str(path), Format.png, 0, dpi=(DPI, DPI), size=image.size)
    return process_page(PageJob(ref, 1))


def test_upright_page_whose_ink_looks_upside_down_is_read_upright(tmp_path: Path, calls: Calls) -> None:
    page = descender_page()
    ink = N.binarize(page)
    assert N.upside_down_score(ink) < 0
    assert N.normalize(page, (DPI, DPI), use_osd=False).rotation == 180  # the ink alone turns it
    out = run_page(page, tmp_path)
    assert out.error is None
    assert out.rotation == 0
    assert out.mean_confidence is not None and out.mean_confidence > UPRIGHT_CONFIDENCE
    # The guess read poorly; the page as received, tried first, read well: no more tries.
    assert calls.ocr == 2


def test_upright_table_taken_for_a_turned_page_is_read_upright(tmp_path: Path, calls: Calls) -> None:
    page = table_page()
    assert N.quarter_turn(N.binarize(page))  # the ink's quarter-turn test is fooled
    assert N.normalize(page, (DPI, DPI)).rotation != 0
    out = run_page(page, tmp_path)
    assert out.error is None
    assert out.rotation == 0
    assert out.mean_confidence is not None and out.mean_confidence > UPRIGHT_CONFIDENCE


@pytest.mark.parametrize(
    ("make", "rotation"),
    [(prose_page, 180), (prose_page, 90), (prose_page, 270), (descender_page, 180), (table_page, 90)],
    ids=["prose-180", "prose-90", "prose-270", "descenders-180", "table-90"],
)
def test_turned_pages_are_read_upright(make: object, rotation: int, tmp_path: Path, calls: Calls) -> None:
    assert callable(make)
    out = run_page(stored(make(), rotation), tmp_path)
    assert out.error is None
    assert out.rotation == rotation
    assert out.mean_confidence is not None and out.mean_confidence > UPRIGHT_CONFIDENCE


def test_a_page_read_well_at_the_first_guess_costs_one_ocr_call(tmp_path: Path, calls: Calls) -> None:
    out = run_page(prose_page(), tmp_path)
    assert out.rotation == 0
    assert out.mean_confidence is not None and out.mean_confidence > UPRIGHT_CONFIDENCE
    assert (calls.ocr, calls.osd) == (1, 0)


def test_a_blank_page_is_read_once(tmp_path: Path, calls: Calls) -> None:
    # No words in any orientation: nothing for another orientation to improve. Its look finds
    # nothing either, which places nothing: the page is read whole, once.
    out = run_page(Image.new("L", SIZE, 255), tmp_path)
    assert out.error is None
    assert (calls.ocr, calls.whole) == (2, 1)


def test_a_page_poor_in_every_orientation_keeps_its_best_reading(tmp_path: Path, calls: Calls) -> None:
    out = run_page(soup_page(), tmp_path)
    assert out.error is None  # a poor reading is not an error
    assert out.rotation in (0, 90, 180, 270)
    # The guess and the three other orientations were each looked at, then each read whole.
    assert (calls.ocr, calls.whole) == (8, 4)
    assert out.mean_confidence is not None


def _words(*texts: str, conf: float = 90.0, sideways: bool = False) -> list[Word]:
    width, height = (10, 30) if sideways else (30, 10)
    return [Word(text, 40 * i, 10, width, height, conf) for i, text in enumerate(texts)]


def test_reading_quality_tells_words_from_letter_soup() -> None:
    prose = O.reading_quality(_words(*"Please call the office about the notice of action and the request".split()))
    assert prose.good and prose.known >= 8
    soup = O.reading_quality(_words(*"sepia uoy| ,eb AdoNN ezi3 lleo ozb yitox wsn qrvt".split(), conf=40.0))
    assert not soup.good and soup.known == 0
    # The same real words read with little confidence do not count.
    assert not O.reading_quality(_words(*"the office notice request".split(), conf=20.0)).good
    assert prose.better_than(soup) and not soup.better_than(prose)
    # Tesseract reads vertical lines of text by itself: words lying on their side, read
    # right, tell of a page turned a quarter, not of an upright reading.
    sideways = O.reading_quality(_words(*"Please call the office about the notice of action".split(), sideways=True))
    assert sideways.sideways and not sideways.good and sideways.known == 0
    # ... even when a few short words among them come out wider than tall.
    mixed = O.reading_quality(_words(*"Please call the office about the notice of action".split(), sideways=True)
                              + _words(*"the and any law order time".split()))
    assert mixed.sideways and not mixed.good and not mixed.better_than(prose)


def test_other_orientations_are_tried_most_likely_first() -> None:
    asked: list[int] = []

    def osd(answer: int | None) -> object:
        def ask() -> int | None:
            asked.append(1)
            return answer
        return ask

    # Guess 180: the page as received, OSD's answer (unsure here), then the quarter turns.
    assert list(O.candidates(180, osd(None))) == [0, 90, 270]  # type: ignore[arg-type]
    # A quarter-turn guess: as received, OSD's answer, its half turn (the other quarter turn).
    assert list(O.candidates(90, osd(180))) == [0, 180, 270]  # type: ignore[arg-type]
    assert list(O.candidates(0, osd(90))) == [90, 180, 270]  # type: ignore[arg-type]
    # OSD is asked only when the candidates before it were read and found poor.
    asked.clear()
    gen = O.candidates(180, osd(0))  # type: ignore[arg-type]
    assert next(gen) == 0 and not asked
