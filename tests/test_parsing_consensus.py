"""Packet-level voting, identifier shapes and known-value lists: pure functions, no OCR."""

from __future__ import annotations

from datetime import UTC, date
from pathlib import Path

import pytest

from parsing.consensus import consensus
from parsing.fields import apply_shape, normalize_identifier, normalize_officer
from parsing.lexicon import lexicon, snap, snap_score


def test_positions_vote_across_readings() -> None:
    result = consensus(["A924272117", "A024272117", "A024272117"])
    assert result is not None and result.value == "A024272117" and (result.agree, result.total) == (2, 3)
    # No single reading is right, but each position has a majority.
    mixed = consensus(["BOS25O1", "B0S2501", "BOS2S01"])
    assert mixed is not None and mixed.value == "BOS2501" and mixed.agree == 0


def test_ties_go_to_the_first_reading_and_odd_lengths_are_outvoted() -> None:
    tie = consensus(["GUAMAN, Luts", "GUAMAN, Luis"])
    assert tie is not None and tie.value == "GUAMAN, Luts"
    lengths = consensus(["JA9374BWM", "JA9374B1WM", "JA9374BWM"])
    assert lengths is not None and lengths.value == "JA9374BWM"
    assert consensus([]) is None and consensus(["", ""]) is None


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("8OS2502675359", "BOS2502675359"),  # 8 where a letter belongs, O where a digit does
        ("BOS25O2675359", "BOS2502675359"),
        ("HAR250743£058", None),  # a position nothing corrects: not a reading of the value
        ("BOS24)2988544", None),
        ("BOS250267535", None),  # a digit lost
    ],
)
def test_event_number_shape(raw: str, want: str | None) -> None:
    value = normalize_identifier(raw)
    assert (apply_shape(value, "AAA9999999999") if value else None) == want


def test_identifiers_drop_stray_marks_and_officers_refuse_digits() -> None:
    assert normalize_identifier("JA9374B\\WM") == "JA9374BWM"
    assert normalize_identifier("0PZA 97TNJ |") == "0PZA97TNJ"  # a trailing bar is the box edge
    assert normalize_identifier("M4|R0K") == "M4IR0K"
    assert normalize_officer("3 Nguyen") is None
    assert normalize_officer("ICE ERO BOSTON +1-617-555-0143 T-422") is None
    assert normalize_officer("J, Nguyen") == "J. Nguyen"


def test_offices_snap_only_when_clearly_one_entry() -> None:
    offices = lexicon("offices")
    assert "Boston Area of Responsibility" in offices
    assert snap("Boston ase a of Responsibility", offices) == "Boston Area of Responsibility"
    assert snap("Bostan Area of Responsibilty", offices) == "Boston Area of Responsibility"
    assert snap("Houston Area of Responsibility", offices) == "Houston Area of Responsibility"
    # An address line and a reading too garbled to tell Boston from Houston stay as read.
    assert snap("1000 Harborside Federal Plaza, Suite 400", offices) == "1000 Harborside Federal Plaza, Suite 400"
    assert snap_score("fiostan Att of Kesponsitulity", offices)[0] is None
    assert lexicon("no-such-list") == ()


def test_vote_changes_a_date_only_into_a_real_date() -> None:
    from parsing.assemble import _from_text

    assert _from_text("issued_date", "2025-08-25") == date(2025, 8, 25)
    assert _from_text("issued_date", "2025-19-25") is None
    assert _from_text("subject_name", "CHEN, Hao") == "CHEN, Hao"


def _lines(*texts: str) -> list:
    from parsing.layout import Line
    from parsing.ocr import Word

    lines = []
    for row, text in enumerate(texts):
        words, left = [], 10
        for token in text.split():
            words.append(Word(token, left, 20 + 30 * row, 12 * len(token), 20, 90.0))
            left += 12 * len(token) + 10
        lines.append(Line(words))
    return lines


def test_a_form_whose_small_labels_were_lost_is_known_by_its_option_texts() -> None:
    from parsing.templates import classify_lines

    title = ("DEPARTMENT OF HOMELAND SECURITY (DHS)", "IMMIGRATION DETAINER - NOTICE OF ACTION")
    poor_fax = _lines(
        *title, "Bubjectio; @PZAG7 Evenia: 6082607338007", "Pile No' ARATOTOTAL bate: oa/oasaere",
        "Name of Allen: CHEN, Hao", "Oste of Alith: 87/40/4072 Cithenship: CHINA Bex: M",
        "the pendency of ongoing removal proceedings against the alien",
        "2. DHS TRANSFERRED THE ALIEN TO YOUR CUSTODY FOR A PROCEEDING",
        "Maintain custody of the alien for a period NOT TO EXCEED 48 HOURS",
    )
    match = classify_lines(poor_fax)
    assert match is not None and match.template.page_kind == "detainer_p1"
    # A letter that quotes the title and one option text is still not the form.
    letter = _lines(*title, "Dear Chief, we write about the detainer form you received.",
                    "Maintain custody of the alien for a period NOT TO EXCEED 48 HOURS", "Sincerely, Counsel")
    found = classify_lines(letter)
    assert found is None or found.template.page_kind != "detainer_p1"


DEPARTMENT = ["CITY POLICE DEPARTMENT - OPERATIONS DIVISION"] + [
    f"CITY POLICE DEPARTMENT - DISTRICT {code}" for code in ("A-1", "A-7", "B-2", "C-6", "C-11", "D-4", "D-14", "E-13")
]


@pytest.mark.parametrize(
    ("read", "want"),
    [
        ("CITY POUCE DEPARTMENT - DISTRICT B-2", "CITY POLICE DEPARTMENT - DISTRICT B-2"),
        ("CITY POLICE DEPARTMENT - DISTRICT C-LL", "CITY POLICE DEPARTMENT - DISTRICT C-11"),  # not C-6
        ("CITY POLICE DEPARTMENT - DISTRICT D4", "CITY POLICE DEPARTMENT - DISTRICT D-4"),  # its hyphen lost
        # B-2 read "#7?": nearest A-7 by far, but the letter telling the districts apart was not
        # read and the digit may be the misread: kept as read, never a clean-looking wrong name.
        ("CITY POLICE DEPARTMENT © DISTRICT #7?", "CITY POLICE DEPARTMENT © DISTRICT #7?"),
        ("CITY POLICE DEPARTMENT - DISTRICT 7", "CITY POLICE DEPARTMENT - DISTRICT 7"),
        ("CITY POLICE DEPARTMENT - DISTRICT A-11", "CITY POLICE DEPARTMENT - DISTRICT A-11"),  # A-1 or C-11: kept
        ("CITY POLICE DEPARTMENT - DISTRICT A-t", "CITY POLICE DEPARTMENT - DISTRICT A-1"),  # t is a 1, not a 7
        ("CITY POLICE DEPARTMENT - DISTRICT A-?", "CITY POLICE DEPARTMENT - DISTRICT A-?"),  # kept
        # A bar or bracket ending the name is a 1 whose serifs blurred, not a lost glyph.
        ("CITY POLICE DEPARTMENT - DISTRICT A-}", "CITY POLICE DEPARTMENT - DISTRICT A-1"),
        ("CITY POLICE DEPARTMENT - DISTRICT A-)", "CITY POLICE DEPARTMENT - DISTRICT A-1"),
        ("CITY POLICE DEPARTMENT - DISTRICT E-13)", "CITY POLICE DEPARTMENT - DISTRICT E-13"),
        ("QUINCY POLICE DEPARTMENT", "QUINCY POLICE DEPARTMENT"),  # someone else's name: kept
    ],
)
def test_the_departments_own_names_snap_only_when_unambiguous(read: str, want: str) -> None:
    assert snap(read, DEPARTMENT) == want


def test_the_configured_names_correct_the_to_box_with_or_without_its_label() -> None:
    from parsing.formread import read_fields
    from parsing.templates import templates

    i247a = next(t for t in templates() if t.name == "i247a")
    known = {"institutions": DEPARTMENT}
    value = "CITY POUCE DEPARTMENT - DISTRICT B-2"
    labelled = _lines("TO: (Name and Title of Institution - OR Any Subsequent Law", "Enforcement Agency)", value)
    assert read_fields(labelled, i247a, 1, None, 2000)["to_institution"].value == value
    assert read_fields(labelled, i247a, 1, None, 2000, known)["to_institution"].value == DEPARTMENT[3]
    # The caption lost to a poor fax: the one line in the box's half of the page that is a known
    # name, with the box's lines below it.
    garbled = _lines("Te) (NAO Hd Tithe of tnutiiution Ot Any tuleequen aw", "Cetorcomment Agoricy)", value,
                     "Booking Supervisor / Officer in Charge")
    assert "to_institution" not in read_fields(garbled, i247a, 1, None, 2000)
    found = read_fields(garbled, i247a, 1, None, 2000, known)["to_institution"]
    assert found.value == DEPARTMENT[3] + ", Booking Supervisor / Officer in Charge"
    assert found.evidence.confidence <= 0.6


def test_results_read_with_other_names_are_cached_apart() -> None:
    from core.config import ParsingSettings
    from flows.extraction_cache import ExtractionCache

    plain = ExtractionCache(Path("/cache"), ParsingSettings())
    named = ExtractionCache(Path("/cache"), ParsingSettings(institutions=DEPARTMENT))
    assert plain.path_for("ab" * 32) != named.path_for("ab" * 32)


def test_an_officer_read_without_initial_takes_it_from_a_page_that_prints_it() -> None:
    from parsing.assemble import build_request
    from parsing.fieldvalue import FieldValue
    from parsing.models import FieldEvidence, PageKind
    from parsing.pipeline import PageOutput

    evidence = FieldEvidence(page=1, bbox=None, confidence=0.9, raw="")
    p1 = PageOutput(2, kind=PageKind.detainer_p1, form_type="I-247A",
                    fields={"officer_name": FieldValue("Nguyen", evidence)})
    warrant = PageOutput(3, kind=PageKind.i200, fields={"officer_name": FieldValue("J. Nguyen", evidence)})
    assert build_request([p1, warrant], [p1, warrant]).officer_name == "J. Nguyen"
    other = PageOutput(3, kind=PageKind.i200, fields={"officer_name": FieldValue("J. Nguyena", evidence)})
    assert build_request([p1, other], [p1, other]).officer_name == "Nguyen"
    # A line of form text read where the name should be is no name at all.
    assert normalize_officer("OC tt checked: please cancet the detamer related to this alien") is None


def test_an_issue_date_after_the_fax_was_sent_is_corrected_only_when_one_digit_decides() -> None:
    """Issued after it was faxed is a misread digit. The one date a digit away in the week
    before the fax is taken, doubtful (review); with none or several, the date is left out."""
    from datetime import datetime

    from parsing.assemble import build_request
    from parsing.fieldvalue import FieldValue
    from parsing.header import FaxHeader
    from parsing.models import FieldEvidence, PageKind
    from parsing.pipeline import PageOutput

    evidence = FieldEvidence(page=1, bbox=None, confidence=0.9, raw="06/17/2026")
    sent = FaxHeader(sender_number="+16175550143", sent_at=datetime(2025, 6, 17, 14, 3, tzinfo=UTC),
                     page=1, total=4, raw="")

    def page(issued: date) -> PageOutput:
        return PageOutput(1, kind=PageKind.detainer_p1, form_type="I-247A", header=sent,
                          fields={"issued_date": FieldValue(issued, evidence)})

    year_slip = build_request([page(date(2026, 6, 17))], [page(date(2026, 6, 17))])  # 2025 read 2026
    assert year_slip.issued_date == date(2025, 6, 17)
    assert "issued_date:low_confidence" in year_slip.review_reasons
    month_slip = build_request([page(date(2025, 8, 12))], [page(date(2025, 8, 12))])  # 06 read 08
    assert month_slip.issued_date == date(2025, 6, 12)
    for unsettled in (date(2026, 12, 1), date(2025, 6, 19)):  # no digit fits / 06/10 to 06/18 all do
        late = build_request([page(unsettled)], [page(unsettled)])
        assert late.issued_date is None and "issued_date:invalid" in late.review_reasons
    same_day = build_request([page(date(2025, 6, 17))], [page(date(2025, 6, 17))])
    assert same_day.issued_date == date(2025, 6, 17) and "issued_date:invalid" not in same_day.review_reasons


def test_an_officer_name_read_more_surely_elsewhere_wins_only_if_it_is_the_same_name() -> None:
    from parsing.assemble import build_request
    from parsing.fieldvalue import FieldValue
    from parsing.models import FieldEvidence, PageKind
    from parsing.pipeline import PageOutput

    def page(number: int, kind: PageKind, name: str, confidence: float) -> PageOutput:
        evidence = FieldEvidence(page=number, bbox=None, confidence=confidence, raw="")
        return PageOutput(number, kind=kind, form_type="I-247A", fields={"officer_name": FieldValue(name, evidence)})

    p1 = page(1, PageKind.detainer_p1, "A. Kowalsha", 0.68)
    same = page(3, PageKind.i200, "A. Kowalski", 0.92)
    assert build_request([p1, same], [p1, same]).officer_name == "A. Kowalski"
    unsure = page(3, PageKind.i200, "A. Kowalski", 0.5)
    assert build_request([p1, unsure], [p1, unsure]).officer_name == "A. Kowalsha"
    someone_else = page(3, PageKind.i200, "K. Jones", 0.99)  # a supervisor signed the warrant
    assert build_request([p1, someone_else], [p1, someone_else]).officer_name == "A. Kowalsha"


def test_a_label_whose_best_occurrence_gives_no_value_is_read_at_its_next() -> None:
    from parsing.formread import read_fields
    from parsing.templates import templates

    cover = next(t for t in templates() if t.name == "fax_cover")
    lines = _lines("03-20-2025 07:56 FROM: ICE ERO BOSTON +1-617-555-0143 P.001/005", "FAX COVER SHEET",
                   "To: Booking Supervisor", "From: J. Nguyen, ERO Boston")
    assert read_fields(lines, cover, 1, None, 2000)["officer_name"].value == "J. Nguyen"


def test_a_cancel_box_without_the_cancelled_date_counts_as_a_request_for_review() -> None:
    from parsing.assemble import build_request
    from parsing.fieldvalue import FieldValue
    from parsing.models import FieldEvidence, PageKind
    from parsing.pipeline import PageOutput

    evidence = FieldEvidence(page=1, bbox=None, confidence=0.9, raw="")

    def page(**fields: object) -> PageOutput:
        return PageOutput(1, kind=PageKind.detainer_p1, form_type="I-247A",
                          fields={k: FieldValue(v, evidence) for k, v in fields.items()})

    misread = page(cancels_previous=True)
    request = build_request([misread], [misread])
    assert request.cancels_previous is False and "cancels_previous:invalid" in request.review_reasons
    cancellation = page(cancels_previous=True, cancelled_detainer_date=date(2025, 3, 1))
    request = build_request([cancellation], [cancellation])
    assert request.cancels_previous is True and request.cancelled_detainer_date == date(2025, 3, 1)


def test_a_known_value_box_that_matched_no_entry_is_read_again_on_its_own() -> None:
    """Tesseract ran the FROM box's office line into its address line on the page; the box
    read again, enlarged on its own, gives the office (real Tesseract)."""
    from PIL import Image, ImageDraw, ImageFont

    from parsing.fieldvalue import FieldValue
    from parsing.models import BBox, FieldEvidence
    from parsing.reread import reread_known_values
    from parsing.templates import templates
    from samplegen.forms import font_path

    page = Image.new("L", (900, 300), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(font_path("sans"), 22)
    for n, text in enumerate(("Boston Area of Responsibility", "1000 Harborside Federal Plaza, Suite 400",
                              "Burlington, MA 01803")):
        draw.text((420, 100 + 26 * n), text, fill=0, font=font)
    i247a = next(t for t in templates() if t.name == "i247a")
    garbled = "Ser Lintaniae Coaeed Pte suite 400"
    fields = {"from_office": FieldValue(garbled, FieldEvidence(
        page=1, bbox=BBox(left=420, top=112, width=420, height=40), confidence=0.4, raw=garbled))}
    reread_known_values(page, fields, i247a, {}, lang="eng", timeout=60)
    # The whole box, its office line the entry (the address lines as the re-read gives them).
    assert fields["from_office"].value.startswith("Boston Area of Responsibility, 1000 Harborside Federal Plaza")
    # A box that holds no entry stays as read.
    other = {"from_office": FieldValue("Quincy Police", FieldEvidence(
        page=1, bbox=BBox(left=420, top=150, width=420, height=30), confidence=0.4, raw="Quincy Police"))}
    reread_known_values(page, other, i247a, {}, lang="eng", timeout=60)
    assert other["from_office"].value == "Quincy Police"
