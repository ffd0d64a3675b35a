"""Header labels as real forms print them: other wordings ("DOB:", "Gender:", "Date Issued:"),
a colon set apart ("Date :"), sex as a word, and a value that stops where the next label on
its line begins (however OCR split or glued that label). Read through the text layer of a
generated PDF and from rendered lines with real Tesseract."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

from core.config import ParsingSettings
from parsing.extract import extract_document
from parsing.formread import read_fields
from parsing.layout import Line, find_in_line, group_lines
from parsing.ocr import Word
from parsing.ocr_engine import read_words
from parsing.templates import Template, templates
from samplegen.forms import font_path
from tests.born_digital import i247a_header_pdf

WIDTH = 1700

# Made-up values, each header row as (label, value) pairs in the wordings other departments'
# and other editions' forms print.
ROWS = (
    (("Subject ID:", "729304518"), ("Event No.:", "NYC2502004417")),
    (("File No.:", "A087-654-321"), ("Date Issued:", "03/04/2025")),
    (("Name of Alien:", "RIVERA SOTO, Ana"),),
    (("DOB:", "11/23/1988"), ("Country of Citizenship:", "GUATEMALA"), ("Gender:", "Female")),
)
# The same header with the colons set apart and the sex spelt in capitals.
SPACED = (
    (("Subject ID :", "729304518"), ("Event # :", "NYC2502004417")),
    (("File No. :", "A087654321"), ("Date :", "03/04/2025")),
    (("Name of Alien :", "RIVERA SOTO, Ana"),),
    (("Date of Birth :", "11/23/1988"), ("Citizenship :", "GUATEMALA"), ("Sex :", "FEMALE")),
)
EXPECTED = {"subject_id": "729304518", "event_number": "NYC2502004417", "file_number": "A087654321",
            "issued_date": date(2025, 3, 4), "subject_name": "RIVERA SOTO, Ana", "date_of_birth": date(1988, 11, 23),
            "citizenship": "GUATEMALA", "sex": "F"}


def _i247a() -> Template:
    return next(t for t in templates() if t.name == "i247a")


def _line(top: int, *words: tuple[str, int]) -> Line:
    return Line([Word(text, left, top, 12 * len(text), 20, 80.0) for text, left in words])


def _values(lines: list[Line]) -> dict[str, Any]:
    return {name: found.value for name, found in read_fields(lines, _i247a(), 1, None, WIDTH).items()}


# ---------------------------------------------------------------- a value ends at the next label


@pytest.mark.parametrize("next_label", [
    (("Evemt", 900), ("No.:", 970)),  # the next label read loosely
    (("E", 900), ("vent", 915), ("#:", 970)),  # split: its first letter a word of its own
    (("Event", 900), ("No.:", 970)),  # an edition's wording the loose match starts inside of
    (("Evem", 900), ("#:", 970)),  # too garbled to be found as the field's label; its colon read
], ids=["loose", "split", "wording", "garbled"])
def test_a_value_stops_where_the_next_label_on_its_line_begins(next_label: tuple[tuple[str, int], ...]) -> None:
    line = _line(200, ("Subject", 110), ("ID:", 200), ("3170466285", 250), *next_label, ("SEA2409118834", 1030))
    found = read_fields([line], _i247a(), 1, None, WIDTH)["subject_id"]
    assert found.value == "3170466285"
    assert found.evidence.raw == "3170466285"


def test_a_next_label_glued_to_the_value_is_not_part_of_it() -> None:
    line = _line(200, ("Subject", 110), ("ID:", 200), ("3170466285Event", 250), ("#:", 450), ("SEA2409118834", 500))
    assert _values([line])["subject_id"] == "3170466285"


def test_a_label_whose_colon_stands_apart_ends_at_its_colon() -> None:
    line = _line(200, ("Date", 110), ("of", 170), ("Birth", 200), (":", 260), ("09/14/1975", 280),
                 ("Citizenship", 600), (":", 740), ("INDIA", 760), ("Sex", 1390), (":", 1430), ("Male", 1450))
    fields = read_fields([line], _i247a(), 1, None, WIDTH)
    assert fields["date_of_birth"].evidence.raw == "09/14/1975"  # not "09/14/1975 C"
    assert fields["citizenship"].evidence.raw == "INDIA"  # not "INDIA Sex : Male"
    assert fields["sex"].value == "M"
    # A word that is not followed by a colon is no label: "Date" of "Date of Birth" is not "Date:".
    assert "issued_date" not in fields


def test_short_labels_do_not_match_inside_longer_words() -> None:
    assert find_in_line(_line(200, ("DOB:", 110), ("09/14/1975", 170)), "DOB:", 82.0) is not None
    assert find_in_line(_line(200, ("DOB", 110), ("09/14/1975", 170)), "DOB:", 82.0) is not None
    assert find_in_line(_line(200, ("DOBSON,", 110), ("Carl", 200)), "DOB:", 82.0) is None
    assert find_in_line(_line(200, ("Sexton", 110), ("Rd", 200)), "Sex:", 82.0) is None
    # A name that begins like a short label is not read as the date of birth's label.
    lines = [_line(200, ("Name", 110), ("of", 170), ("Alien:", 200), ("DOBBS,", 300), ("Carl", 400))]
    assert _values(lines) == {"subject_name": "DOBBS, Carl"}


# ---------------------------------------------------------------- through the text layer


@pytest.mark.parametrize("rows", [ROWS, SPACED], ids=["wordings", "spaced-colons"])
def test_header_wordings_are_read_through_the_text_layer(rows: tuple[tuple[tuple[str, str], ...], ...]) -> None:
    result = extract_document(i247a_header_pdf(rows), settings=ParsingSettings())
    assert result.pages[0].text_layer
    [detainer] = result.detainers
    assert {name: getattr(detainer, name) for name in EXPECTED} == EXPECTED


# ---------------------------------------------------------------- rendered lines, real Tesseract


def _header_page(rows: tuple[tuple[tuple[str, str], ...], ...]) -> Image.Image:
    """The header as a 200 dpi scan prints it: each value right of its label, the next label
    of the row a column further on."""
    page = Image.new("L", (WIDTH, 110 + 60 * len(rows)), 255)
    draw = ImageDraw.Draw(page)
    bold, value = ImageFont.truetype(font_path("sans_bold"), 24), ImageFont.truetype(font_path("mono"), 27)
    top = 60
    for row in rows:
        x = 100
        for label, text in row:
            draw.text((x, top + 2), label, fill=0, font=bold)
            draw.text((x + draw.textlength(label, font=bold) + 14, top), text, fill=0, font=value)
            x += 1500 // len(row)
        top += 60
    return page


@pytest.mark.parametrize("rows", [ROWS, SPACED], ids=["wordings", "spaced-colons"])
def test_header_wordings_are_read_from_a_scan(rows: tuple[tuple[tuple[str, str], ...], ...]) -> None:
    lines = group_lines(read_words(_header_page(rows), lang="eng", timeout=60))
    assert _values(lines) == EXPECTED
