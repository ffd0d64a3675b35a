"""Template fields a poor fax half-lost: found by their line's shape, by their row, or re-read
where their value should be printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from parsing.formread import read_fields
from parsing.layout import Line
from parsing.ocr import Word
from parsing.ocr_engine import read_words
from parsing.reread import reread_fields
from parsing.templates import Template, load_template, templates
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


def _id_line(*label_words: tuple[str, int]) -> list[Line]:
    return [_line(200, *label_words, ("WZVTPVBWS", 330), ("Event", 900), ("#:", 970), ("NEW2505262781", 1020))]


def test_a_misread_label_tail_before_the_value_is_not_part_of_it() -> None:
    """"Subject ID:" read "Subject 1D)": the label matches up to "1D"; the ")" left over is
    neither in the value nor in the box the value is re-read from."""
    for label in ((("Subject", 110), ("1D)", 230)), (("Subject", 110), ("ID", 230), (")", 270))):
        found = read_fields(_id_line(*label), _i247a(), 1, None, WIDTH)["subject_id"]
        assert found.value == "WZVTPVBWS"
        assert found.evidence.raw == "WZVTPVBWS"
        assert found.evidence.bbox is not None and found.evidence.bbox.left == 330


def test_a_value_glued_to_its_label_is_still_read() -> None:
    lines = [_line(240, ("File", 110), ("No:A034086693", 170), ("Date:", 900), ("05/07/2025", 980))]
    assert read_fields(lines, _i247a(), 1, None, WIDTH)["file_number"].value == "A034086693"


def test_the_re_read_of_an_identifier_chooses_only_from_its_alphabet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Tesseract on a rendered line. The page's reading slipped ("WZ/TPVBWS"); the re-read
    restricted to the identifier's alphabet reads the value at both scales and replaces it.
    Dates are re-read in a strip of their own, without the restriction."""
    import parsing.reread as reread

    page = Image.new("L", (WIDTH, 140), 255)
    draw = ImageDraw.Draw(page)
    bold, serif = ImageFont.truetype(font_path("sans_bold"), 22), ImageFont.truetype(font_path("serif"), 24)
    draw.text((110, 50), "Subject ID:", font=bold, fill=0)
    draw.text((330, 50), "WZVTPVBWS", font=serif, fill=0)
    draw.text((900, 50), "Date:", font=bold, fill=0)
    draw.text((980, 50), "05/07/2025", font=serif, fill=0)
    lines = [_line(52, ("Subject", 110), ("ID:", 215), ("WZ/TPVBWS", 330), ("Date:", 900), ("05/07/2025", 980))]

    def drawn(printed: str, read_as: str, left: int) -> Word:  # the word's box is where it was drawn
        box = draw.textbbox((left, 50), printed, font=serif)
        return Word(read_as, box[0], box[1], box[2] - box[0], box[3] - box[1], 80.0)

    lines[0].words[2] = drawn("WZVTPVBWS", "WZ/TPVBWS", 330)
    lines[0].words[4] = drawn("05/07/2025", "05/07/2025", 980)
    template = _i247a()
    fields = read_fields(lines, template, 1, None, WIDTH)
    assert fields["subject_id"].value == "WZTPVBWS"  # the page's slip, its "/" dropped
    calls: list[str | None] = []
    real = reread.read_words

    def recording(image: Image.Image, **kwargs: object) -> list[Word]:
        calls.append(kwargs.get("alphabet"))  # type: ignore[arg-type]
        return real(image, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reread, "read_words", recording)
    reread_fields(page, fields, template, lang="eng", timeout=60)
    assert fields["subject_id"].value == "WZVTPVBWS"
    assert str(fields["issued_date"].value) == "2025-05-07"
    spec = next(s for s in template.fields if s.name == "subject_id")
    assert spec.alphabet and "/" not in spec.alphabet
    assert set(calls) == {spec.alphabet, None}


def test_an_ocr_alphabet_is_checked_before_it_reaches_tesseract(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="alphabet"):
        read_words(Image.new("L", (40, 40), 255), alphabet="A B;rm")
    template = tmp_path / "bad.toml"
    template.write_text('name = "bad"\n[fields.subject_id]\nlabels = ["Subject ID:"]\nalphabet = "A B;rm"\n')
    with pytest.raises(ValueError, match="alphabet"):  # a template with one fails as it loads
        load_template(template)


def test_tesseract_keeps_to_the_alphabet_it_is_given() -> None:
    strip = Image.new("L", (600, 90), 255)
    ImageDraw.Draw(strip).text((20, 25), "AB/CD 12", font=ImageFont.truetype(font_path("serif"), 30), fill=0)
    free = "".join(w.text for w in read_words(strip, psm=7))
    kept = "".join(w.text for w in read_words(strip, psm=7, alphabet="ABCD12"))
    assert "/" in free
    assert kept and set(kept) <= set("ABCD12")
