"""Template fields a poor fax half-lost: found by their line's shape, by their row, or re-read
where their value should be printed."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from parsing.formread import read_fields
from parsing.layout import Line
from parsing.ocr import Word
from parsing.reread import reread_fields
from parsing.templates import Template, templates
from samplegen.forms import font_path

WIDTH = 1700


def _i247a() -> Template:
    return next(t for t in templates() if t.name == "i247a")


def _line(top: int, *words: tuple[str, int]) -> Line:
    return Line([Word(text, left, top, 12 * len(text), 20, 80.0) for text, left in words])


def _officer_page(*officer_lines: Line) -> list[Line]:
    return [
        _line(1380, ("If", 120), ("checked:", 150), ("please", 260), ("cancel", 350), ("the", 440), ("detainer", 490)),
        *officer_lines,
        # The caption under the officer's line, garbled past recognition by a coarse fax.
        _line(1500, ("(Ramen", 110), ("aeied", 200), ("ttt", 280), ("rit", 330), ("Innere", 380), ("rations)", 470)),
    ]


def test_an_officer_whose_caption_ocr_garbled_is_found_by_the_shape_of_the_line() -> None:
    lines = _officer_page(_line(1465, ("tL.", 122), ("Nguyen,", 160), ("Deportation", 260), ("officer", 400)))
    fields = read_fields(lines, _i247a(), 1, None, WIDTH)
    officer = fields["officer_name"]
    assert officer.value == "L. Nguyen"
    assert officer.evidence.confidence <= 0.6  # found without its caption: review decides
    assert officer.evidence.bbox is not None and officer.evidence.bbox.top == 1465


def test_an_officer_line_shape_in_the_other_half_or_twice_is_not_taken() -> None:
    right_half = _officer_page(_line(1465, ("L.", 900), ("Nguyen,", 940), ("Deportation", 1040), ("Officer", 1180)))
    assert "officer_name" not in read_fields(right_half, _i247a(), 1, None, WIDTH)
    twice = _officer_page(
        _line(1430, ("L.", 122), ("Nguyen,", 160), ("Deportation", 260), ("Officer", 400)),
        _line(1465, ("C.", 122), ("Morales,", 160), ("Deportation", 260), ("Officer", 400)),
    )
    assert "officer_name" not in read_fields(twice, _i247a(), 1, None, WIDTH)
    # A sentence that merely mentions an officer is not an officer's line.
    prose = _officer_page(_line(1465, ("statements", 122), ("made", 260), ("to", 330), ("an", 360), ("officer", 400)))
    assert "officer_name" not in read_fields(prose, _i247a(), 1, None, WIDTH)


def test_a_serving_officers_line_below_the_service_block_is_not_the_ice_officer() -> None:
    served = [
        _line(1820, ("This", 120), ("form", 180), ("was", 250), ("served", 300), ("upon", 390), ("the", 460),
              ("alien", 500), ("on", 580)),
        _line(2050, ("P.", 122), ("Walsh,", 160), ("Booking", 260), ("Officer", 380)),
    ]
    ice = _line(1465, ("L.", 122), ("Nguyen,", 160), ("Deportation", 260), ("Officer", 400))
    assert read_fields(_officer_page(ice) + served, _i247a(), 1, None, WIDTH)["officer_name"].value == "L. Nguyen"
    # The ICE officer's line lost too: the serving officer is not taken in its place.
    assert "officer_name" not in read_fields(_officer_page() + served, _i247a(), 1, None, WIDTH)


def test_the_caption_still_comes_first() -> None:
    lines = [
        _line(1420, ("J.", 122), ("Ramirez,", 160), ("Deportation", 280), ("Officer", 420)),
        _line(1465, ("K.", 122), ("Achebe,", 160), ("Deportation", 280), ("Officer", 420)),
        _line(1500, ("(Name", 110), ("and", 190), ("title", 240), ("of", 310), ("Immigration", 340), ("Officer)", 500)),
    ]
    assert read_fields(lines, _i247a(), 1, None, WIDTH)["officer_name"].value == "K. Achebe"


def _birth_line(*tail: tuple[str, int]) -> list[Line]:
    return [_line(600, ("Date", 110), ("of", 170), ("Birth:", 200), ("07/11/1972", 300), ("Citizenship:", 600),
                  ("CHINA", 760), *tail)]


def test_a_misread_sex_label_is_taken_right_of_citizenship_on_its_line() -> None:
    fields = read_fields(_birth_line(("Box:", 1390), ("M", 1460)), _i247a(), 1, None, WIDTH)
    assert fields["sex"].value == "M"
    assert fields["sex"].evidence.confidence <= 0.5  # a loose label: review looks
    assert fields["citizenship"].value == "CHINA"


def test_a_loose_sex_label_needs_its_row() -> None:
    # The same word on a line without the Citizenship label is not the Sex label.
    alone = [_line(600, ("Box:", 1390), ("M", 1460))]
    assert "sex" not in read_fields(alone, _i247a(), 1, None, WIDTH)
    # Left of the Citizenship label is not its place either.
    left = [_line(600, ("Bex", 110), ("M", 160), ("Citizenship:", 600), ("CHINA", 760))]
    assert "sex" not in read_fields(left, _i247a(), 1, None, WIDTH)


def test_a_sex_label_read_without_its_value_keeps_the_place_of_the_value() -> None:
    fields = read_fields(_birth_line(("hex:", 1390)), _i247a(), 1, None, WIDTH)
    sex = fields["sex"]
    assert sex.value is None
    assert sex.evidence.bbox is not None
    assert sex.evidence.bbox.left > 1390 + 12 * 4  # right of the label, clear of its colon


def test_the_place_of_an_unread_sex_value_is_re_read_enlarged() -> None:
    """Real Tesseract on a rendered line: the page's reading lost the value, the re-read finds it."""
    page = Image.new("L", (WIDTH, 140), 255)
    draw = ImageDraw.Draw(page)
    draw.text((110, 50), "Citizenship:    CHINA", font=ImageFont.truetype(font_path("sans_bold"), 22), fill=0)
    draw.text((1390, 50), "Sex:", font=ImageFont.truetype(font_path("sans_bold"), 22), fill=0)
    draw.text((1470, 50), "F", font=ImageFont.truetype(font_path("serif"), 24), fill=0)
    lines = [_line(50, ("Citizenship:", 110), ("CHINA", 270), ("Sex:", 1390))]
    lines[0].words[-1] = Word("Sex:", 1390, 52, 48, 22, 80.0)
    template = _i247a()
    fields = read_fields(lines, template, 1, None, WIDTH)
    assert fields["sex"].value is None
    reread_fields(page, fields, template, lang="eng", timeout=60)
    assert fields["sex"].value == "F"
