"""Header values printed in ruled cells under their captions (a grid header block) are read,
from a scanned page (real Tesseract) and through the text layer; the inline layout reads the same."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from core.config import ParsingSettings
from parsing import fields as F
from parsing.extract import extract_document
from parsing.formread import read_fields
from parsing.layout import group_lines
from parsing.ocr_engine import read_words
from parsing.templates import templates
from samplegen.forms import font_path
from tests.born_digital import Page, i247a_page

# Made-up values; each row of the grid as (caption, value) cells, left to right.
GRID = (
    (("Subject ID:", "729304518"), ("Event #:", "NYC2502004417")),
    (("File No:", "A087654321"), ("Date:", "03/04/2025")),
    (("Name of Alien:", "RIVERA SOTO, Ana"),),
    (("Date of Birth:", "11/23/1988"), ("Citizenship:", "GUATEMALA"), ("Sex:", "F")),
)
FIELD_OF = {"Subject ID:": "subject_id", "Event #:": "event_number", "File No:": "file_number",
            "Date:": "issued_date", "Name of Alien:": "subject_name", "Date of Birth:": "date_of_birth",
            "Citizenship:": "citizenship", "Sex:": "sex"}
PARSER_OF = {"subject_id": F.normalize_identifier, "event_number": F.normalize_identifier,
             "file_number": F.normalize_a_number, "issued_date": F.parse_date, "subject_name": F.normalize_name,
             "date_of_birth": F.parse_date, "citizenship": F.normalize_citizenship, "sex": F.normalize_sex}


def _expected(blank: tuple[str, ...] = ()) -> dict[str, Any]:
    return {FIELD_OF[caption]: PARSER_OF[FIELD_OF[caption]](value)
            for row in GRID for caption, value in row if FIELD_OF[caption] not in blank}


def _i247a():  # type: ignore[no-untyped-def]
    return next(t for t in templates() if t.name == "i247a")


def _grid_page(layout: str, blank: tuple[str, ...] = ()) -> Image.Image:
    """The header block as a 200 dpi scan prints it: ``cells`` (a ruled cell per field, caption at
    its top left, value under it) or ``inline`` (value right of its label); fields in ``blank``
    left empty."""
    page = Image.new("L", (1700, 700), 255)
    draw = ImageDraw.Draw(page)
    caption, bold = ImageFont.truetype(font_path("sans"), 19), ImageFont.truetype(font_path("sans"), 24)
    value = ImageFont.truetype(font_path("mono"), 27)
    left, right, top = 100, 1600, 80
    for row in GRID:
        width = (right - left) // len(row)
        for n, (label, text) in enumerate(row):
            x = left + n * width
            empty = FIELD_OF[label] in blank
            if layout == "cells":
                draw.rectangle((x, top, x + width, top + 84), outline=0, width=2)
                draw.text((x + 8, top + 6), label, fill=0, font=caption)
                if not empty:
                    draw.text((x + 20, top + 38), text, fill=0, font=value)
            else:
                draw.text((x + 8, top + 20), label, fill=0, font=bold)
                if not empty:
                    end = x + 8 + draw.textlength(label, font=bold) + 16
                    draw.text((end, top + 18), text, fill=0, font=value)
        top += 84 if layout == "cells" else 60
    return page


def _read(page: Image.Image, *, with_ink: bool = True) -> dict[str, Any]:
    words = read_words(page, lang="eng", timeout=60)
    ink = np.asarray(page) < 128 if with_ink else None
    found = read_fields(group_lines(words), _i247a(), 1, ink, page.width)
    return {name: reading.value for name, reading in found.items() if reading.value is not None}


@pytest.fixture(scope="module")
def grid_pages() -> dict[str, Image.Image]:
    return {"cells": _grid_page("cells"), "inline": _grid_page("inline"),
            "blank cells": _grid_page("cells", blank=("subject_id", "file_number"))}


def test_values_in_ruled_cells_under_their_captions_are_read(grid_pages: dict[str, Image.Image]) -> None:
    assert _read(grid_pages["cells"]) == _expected()


def test_the_inline_layout_reads_the_same(grid_pages: dict[str, Image.Image]) -> None:
    assert _read(grid_pages["inline"]) == _expected()


def test_an_empty_cell_takes_nothing_from_the_cells_below_or_beside_it(grid_pages: dict[str, Image.Image]) -> None:
    # Bounded by the cell's rules where the ink shows them, else by the next row of captions.
    expected = _expected(blank=("subject_id", "file_number"))
    assert _read(grid_pages["blank cells"]) == expected
    assert _read(grid_pages["blank cells"], with_ink=False) == expected


# --------------------------------------------------------------------------- text layer


def _grid_pdf() -> bytes:
    """A born-digital I-247A page 1 (enough of it to be the form) whose header block is a grid."""

    def header(page: Page) -> None:
        text = page.text
        y = 72.0
        for row in GRID:
            width = 532 / len(row)
            for n, (label, value) in enumerate(row):
                x = 40 + n * width
                page.rect(x, y, width, 24)
                text(x + 3, y + 7, label, 6.5)
                text(x + 8, y + 19, value, 9.5, "Courier")
            y += 24
        page.rect(40, y + 4, 532, 56)
        page.line(306, y + 4, 306, y + 60)
        text(43, y + 13, "TO: (Name and Title of Institution - OR Any Subsequent Law", 6.6)
        text(43, y + 21, "Enforcement Agency)", 6.6)
        text(309, y + 13, "FROM: (DHS Office Address)", 6.6)
        text(46, y + 33, "Riverside County Sheriff", 8.2, "Courier")
        text(312, y + 33, "Los Angeles Field Office", 8.2, "Courier")

    return i247a_page(header)


def test_values_in_ruled_cells_are_read_through_the_text_layer() -> None:
    result = extract_document(_grid_pdf(), settings=ParsingSettings())
    assert result.pages[0].text_layer
    [detainer] = result.detainers
    assert {name: getattr(detainer, name) for name in _expected()} == _expected()


# --------------------------------------------------------------------------- the cell's bounds


def _line(*words: tuple[str, int, int]) -> Any:
    from parsing.layout import Line
    from parsing.ocr import Word

    return Line([Word(text, left, top, 12 * len(text), 20, 90.0) for text, left, top in words])


def _cell_value(lines: list[Any], field: str, ink: np.ndarray | None) -> Any:
    found = read_fields(lines, _i247a(), 1, ink, 1700)
    return found[field].value if field in found else None


def test_a_cell_whose_neighbours_caption_was_lost_is_bounded_by_its_side_rule() -> None:
    # The next cell's caption ("Event #:") unread: only the rule between the cells ends this one.
    lines = [_line(("Subject", 110, 100), ("ID:", 200, 100)),
             _line(("729304518", 122, 130), ("NYC2502004417", 872, 130))]
    ink = np.zeros((400, 1700), dtype=bool)
    ink[90:180, 850:853] = True
    ink[90:92, 100:1600] = ink[178:180, 100:1600] = True
    assert _cell_value(lines, "subject_id", ink) == "729304518"


def test_running_text_under_a_blank_caption_is_no_cell_value() -> None:
    # "Date:" left blank at the end of its line, a paragraph below it and no rule between.
    lines = [_line(("File", 110, 100), ("No:", 170, 100), ("A087654321", 230, 100), ("Date:", 900, 100)),
             _line(("Removal", 110, 130), ("is", 210, 130), ("stayed", 250, 130), ("until", 340, 130),
                   ("the", 420, 130), ("hearing", 470, 130), ("of", 570, 130), ("June", 610, 130),
                   ("3,", 670, 130), ("2025", 710, 130), ("and", 780, 130), ("the", 830, 130),
                   ("order", 875, 130), ("of", 945, 130), ("07/01/2025", 985, 130))]
    assert _cell_value(lines, "file_number", None) == F.normalize_a_number("A087654321")
    assert _cell_value(lines, "issued_date", None) is None


def test_the_next_cells_garbled_caption_beyond_the_side_rule_is_no_value() -> None:
    # "Event #:" read "Evem #": no label, but it stands beyond the rule that ends this cell.
    lines = [_line(("Subject", 110, 100), ("ID:", 200, 100), ("Evem", 870, 100), ("#", 930, 100)),
             _line(("729304518", 122, 130), ("NYC2502004417", 872, 130))]
    ink = np.zeros((400, 1700), dtype=bool)
    ink[90:180, 850:853] = True
    ink[90:92, 100:1600] = ink[178:180, 100:1600] = True
    assert _cell_value(lines, "subject_id", ink) == "729304518"


def test_a_caption_garbled_past_its_score_on_a_caption_row_still_heads_its_cell() -> None:
    # "Subject ID:" read "Suibyect ID" (colon lost, two letters wrong) beside its row partner.
    lines = [_line(("Suibyect", 110, 100), ("ID", 220, 100), ("Event", 870, 100), ("No.", 940, 100)),
             _line(("KVAJ37CGD", 122, 130), ("BOS2506972536", 872, 130))]
    assert _cell_value(lines, "subject_id", None) == "KVAJ37CGD"
    assert _cell_value(lines, "event_number", None) == "BOS2506972536"


def test_a_loosely_read_caption_with_a_value_beside_it_is_no_caption_row() -> None:
    # A value on the line (here the event number inline): not a grid's caption row, so the
    # garbled words are not taken for the caption and nothing under them for its value.
    lines = [_line(("Suibyect", 110, 100), ("ID", 220, 100), ("Event", 870, 100), ("No.", 940, 100),
                   ("BOS2506972536", 1000, 100)),
             _line(("KVAJ37CGD", 122, 130))]
    assert _cell_value(lines, "subject_id", None) is None
    assert _cell_value(lines, "event_number", None) == "BOS2506972536"
