"""The I-247's TO and FROM boxes read whole (every line, joined with ", "), on a page OCR'd by
real Tesseract and through a PDF's text layer; another department's name is kept as printed,
by `extract` with or without a configuration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from typer.testing import CliRunner

from core.config import ParsingSettings
from detainer_intake.cli import app
from parsing.extract import extract_document
from parsing.formread import read_fields
from parsing.layout import group_lines
from parsing.ocr_engine import read_words
from parsing.templates import templates
from samplegen.forms import font_path
from tests.born_digital import Page, i247a_page

ROOT = Path(__file__).resolve().parents[1]
TO_LINES = ("Boston Police Department", "District B-2 Booking Desk", "2400 Washington Street, Roxbury, MA 02119")
FROM_LINES = ("Boston Area of Responsibility", "1000 District Avenue, Suite 400", "Burlington, MA 01803")
# Printed right under the box's bottom rule, closer than the box's own line spacing: not the box's.
BELOW_RULE = ("Court Liaison Unit", "Records Section")
TO_CAPTION = ("TO: (Name and Title of Institution - OR Any Subsequent Law", "Enforcement Agency)")
FROM_CAPTION = "FROM: (DHS Office Address)"


def _i247a():  # type: ignore[no-untyped-def]
    return next(t for t in templates() if t.name == "i247a")


def _rendered_box_page() -> Image.Image:
    """The TO | FROM box as a 200 dpi scan prints it: captions, three lines each, the rule."""
    page = Image.new("L", (1700, 520), 255)
    draw = ImageDraw.Draw(page)
    small, value = ImageFont.truetype(font_path("sans"), 19), ImageFont.truetype(font_path("sans"), 24)
    draw.rectangle((100, 100, 1600, 264), outline=0, width=2)  # the box's bottom rule just under its lines
    draw.line((850, 100, 850, 264), fill=0, width=2)
    draw.text((108, 106), TO_CAPTION[0], fill=0, font=small)
    draw.text((108, 128), TO_CAPTION[1], fill=0, font=small)
    draw.text((858, 106), FROM_CAPTION, fill=0, font=small)
    for n, text in enumerate(TO_LINES):
        draw.text((116, 168 + 31 * n), text, fill=0, font=value)
    for n, text in enumerate(FROM_LINES):
        draw.text((866, 163 + 31 * n), text, fill=0, font=value)
    draw.text((116, 268), BELOW_RULE[0], fill=0, font=value)
    draw.text((866, 268), BELOW_RULE[1], fill=0, font=value)
    draw.text((100, 400), "Name of Alien: DOE, John", fill=0, font=value)
    return page


@pytest.fixture(scope="module")
def rendered_fields() -> dict:
    page = _rendered_box_page()
    words = read_words(page, lang="eng", timeout=60)
    ink = np.asarray(page) < 128
    return {
        "plain": read_fields(group_lines(words), _i247a(), 1, ink, page.width),
        "sample names": read_fields(group_lines(words), _i247a(), 1, ink, page.width,
                                    {"institutions": ParsingSettings.model_validate(
                                        _sample_parsing()).institutions}),
    }


def _sample_parsing() -> dict:
    import tomllib

    return dict(tomllib.loads((ROOT / "config" / "sample.toml").read_text(encoding="utf-8"))["parsing"])


def test_a_three_line_to_box_is_read_whole_from_a_scanned_page(rendered_fields: dict) -> None:
    assert rendered_fields["plain"]["to_institution"].value == ", ".join(TO_LINES)


def test_a_three_line_from_box_is_read_whole_from_a_scanned_page(rendered_fields: dict) -> None:
    assert rendered_fields["plain"]["from_office"].value == ", ".join(FROM_LINES)


def test_another_departments_box_is_kept_as_printed_under_the_sample_names(rendered_fields: dict) -> None:
    # "Boston Police Department ... B-2" is no OCR slip of "CITY POLICE DEPARTMENT - DISTRICT B-2".
    assert rendered_fields["sample names"]["to_institution"].value == ", ".join(TO_LINES)


# --------------------------------------------------------------------------- text layer


def _form_pdf(to_lines: tuple[str, ...], from_lines: tuple[str, ...]) -> bytes:
    """A born-digital I-247A page 1 (enough of it to be the form) with the given boxes."""

    def header(page: Page) -> None:
        text = page.text
        text(40, 82, "Subject ID:", 8, "Helvetica-Bold")
        text(92, 82, "384756102")
        text(330, 82, "Event #:", 8, "Helvetica-Bold")
        text(370, 82, "BOS2503123456")
        text(40, 98, "File No:", 8, "Helvetica-Bold")
        text(92, 98, "A012345678")
        text(330, 98, "Date:", 8, "Helvetica-Bold")
        text(370, 98, "03/04/2025")
        page.rect(40, 106, 532, 70)
        page.line(306, 106, 306, 176)
        text(43, 115, TO_CAPTION[0], 6.6)
        text(43, 123, TO_CAPTION[1], 6.6)
        text(309, 115, FROM_CAPTION, 6.6)
        for n, line in enumerate(to_lines):
            text(46, 135 + 10.5 * n, line, 8.2, "Courier")
        for n, line in enumerate(from_lines):
            text(312, 133 + 10.5 * n, line, 8.2, "Courier")
        text(40, 192, "Name of Alien:", 8, "Helvetica-Bold")
        text(112, 192, "DOE, John")
        text(40, 209, "Date of Birth:", 8, "Helvetica-Bold")
        text(102, 209, "01/02/1990")
        text(220, 209, "Citizenship:", 8, "Helvetica-Bold")
        text(272, 209, "MEXICO")
        text(470, 209, "Sex:", 8, "Helvetica-Bold")
        text(492, 209, "M")

    return i247a_page(header)


def test_the_boxes_are_read_whole_through_the_text_layer() -> None:
    result = extract_document(_form_pdf(TO_LINES, FROM_LINES), settings=ParsingSettings())
    assert result.pages[0].text_layer
    [detainer] = result.detainers
    assert detainer.to_institution == ", ".join(TO_LINES)
    assert detainer.from_office == ", ".join(FROM_LINES)
    assert (detainer.officer_name, detainer.officer_title) == ("Jennifer Ortiz", "Deportation Officer")


def _extract_cli(path: Path, *options: str) -> dict:
    result = CliRunner().invoke(app, ["extract", "--json", *options, str(path)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.splitlines()[-1])["detainers"][0]


def test_extract_keeps_another_departments_name_as_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DETAINER_INTAKE_CONFIG", raising=False)
    monkeypatch.delenv("DETAINER_INTAKE_PARSING__INSTITUTIONS", raising=False)
    foreign = tmp_path / "foreign.pdf"
    foreign.write_bytes(_form_pdf(("Boston Police Department, District B-2", "2400 Washington Street"), FROM_LINES))
    want = "Boston Police Department, District B-2, 2400 Washington Street"
    assert _extract_cli(foreign)["to_institution"] == want
    # The sample department's own configuration does not make it theirs either.
    assert _extract_cli(foreign, "--config", str(ROOT / "config" / "sample.toml"))["to_institution"] == want


def test_extract_snaps_to_a_departments_names_only_with_its_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DETAINER_INTAKE_CONFIG", raising=False)
    monkeypatch.delenv("DETAINER_INTAKE_PARSING__INSTITUTIONS", raising=False)
    slipped = tmp_path / "slipped.pdf"
    slipped.write_bytes(_form_pdf(("CITY POLlCE DEPARTMENT - DlSTRICT B-2", "Booking Desk"), FROM_LINES))
    # Without a configuration there is no department's list: the box as printed.
    assert _extract_cli(slipped)["to_institution"] == "CITY POLlCE DEPARTMENT - DlSTRICT B-2, Booking Desk"
    configured = _extract_cli(slipped, "--config", str(ROOT / "config" / "sample.toml"))
    assert configured["to_institution"] == "CITY POLICE DEPARTMENT - DISTRICT B-2, Booking Desk"


def test_a_garbled_piece_of_the_caption_above_the_box_is_not_its_first_line() -> None:
    from parsing.layout import Line
    from parsing.ocr import Word

    def line(top: int, text: str) -> Line:
        words, left = [], 110
        for token in text.split():
            words.append(Word(token, left, top, 12 * len(token), 20, 90.0))
            left += 12 * len(token) + 12
        return Line(words)

    # A coarse fax split "Enforcement Agency)" over two lines and garbled its first word.
    lines = [line(100, TO_CAPTION[0]), line(124, "Entorcempni"), line(140, "Agency)"),
             line(170, TO_LINES[0]), line(196, TO_LINES[1])]
    assert read_fields(lines, _i247a(), 1, None, 1700)["to_institution"].value == ", ".join(TO_LINES[:2])
    # ... or kept it on one line and garbled it past the last word's recognition.
    lines = [line(100, TO_CAPTION[0]), line(124, "Entexcement Ayoticy)"), line(170, TO_LINES[0])]
    assert read_fields(lines, _i247a(), 1, None, 1700)["to_institution"].value == TO_LINES[0]


def test_the_officers_title_comes_from_the_warrant_only_under_the_same_name() -> None:
    from parsing.assemble import build_request
    from parsing.fieldvalue import FieldValue
    from parsing.models import FieldEvidence, PageKind
    from parsing.pipeline import PageOutput

    evidence = FieldEvidence(page=1, bbox=None, confidence=0.9, raw="")
    p1 = PageOutput(1, kind=PageKind.detainer_p1, form_type="I-247A",
                    fields={"officer_name": FieldValue("J. Nguyen", evidence),
                            "officer_title": FieldValue(None, evidence)})  # the title lost on page 1

    def warrant(name: str) -> PageOutput:
        return PageOutput(2, kind=PageKind.i200, fields={"officer_name": FieldValue(name, evidence),
                                                         "officer_title": FieldValue("Deportation Officer", evidence)})

    same = build_request([p1, warrant("J. Nguyen")], [p1, warrant("J. Nguyen")])
    assert (same.officer_name, same.officer_title) == ("J. Nguyen", "Deportation Officer")
    assert "officer_title:invalid" not in same.review_reasons  # no title read is no misreading
    other = build_request([p1, warrant("K. Achebe")], [p1, warrant("K. Achebe")])
    assert (other.officer_name, other.officer_title) == ("J. Nguyen", None)


def test_the_to_box_is_anchored_by_the_from_caption_when_its_own_is_garbled() -> None:
    from parsing.layout import Line
    from parsing.ocr import Word

    def line(top: int, *cells: tuple[int, str]) -> Line:
        words = []
        for left, text in cells:
            for token in text.split():
                words.append(Word(token, left, top, 12 * len(token), 20, 90.0))
                left += 12 * len(token) + 12
        return Line(words)

    # "TO: (Name and Title of Institution" garbled past recognition; "FROM:" read well.
    lines = [line(100, (110, "TO: (Name and Title of + OR Any Si Lew Agency)"), (900, "FROM: (DHS Office Address)")),
             line(130, (110, TO_LINES[0]), (900, "ICE ERO Boston Field Office")),
             line(156, (110, TO_LINES[1]), (900, "1000 District Ave"))]
    found = read_fields(lines, _i247a(), 1, None, 1700)
    assert found["to_institution"].value == ", ".join(TO_LINES[:2])
    assert found["from_office"].value.startswith("ICE ERO Boston Field Office")
