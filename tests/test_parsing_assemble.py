"""Packets from classified pages: grouping, page 1 wherever it is, header voting, review flags."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from parsing.assemble import assemble
from parsing.fieldvalue import FieldValue
from parsing.header import FaxHeader
from parsing.models import FieldEvidence, PageKind
from parsing.pipeline import PageOutput

NY = ZoneInfo("America/New_York")


def _value(value: object, page: int) -> FieldValue:
    return FieldValue(value, FieldEvidence(page=page, confidence=0.9, raw="x"))


def _p1(number: int, file_number: str) -> PageOutput:
    fields = {
        "file_number": _value(file_number, number),
        "event_number": _value("BOS2501000001", number),
        "issued_date": _value(date(2025, 1, 10), number),
        "subject_name": _value("DOE, Jane", number),
        "date_of_birth": _value(date(1990, 5, 6), number),
        "probable_cause:final_order": _value(True, number),
        "probable_cause:pending_proceedings": _value(False, number),
        "requested_actions:notify": _value(True, number),
        "transferred_for_proceeding": _value(False, number),
        "cancels_previous": _value(False, number),
    }
    return PageOutput(number, kind=PageKind.detainer_p1, form_type="I-247A", fields=fields)


def _header(number: str, minute: int) -> FaxHeader:
    return FaxHeader(number, datetime(2025, 1, 10, 9, minute, tzinfo=NY), 1, 5, "")


def test_warrant_before_page_one_joins_the_packet() -> None:
    pages = [
        PageOutput(1, kind=PageKind.fax_cover),
        PageOutput(2, kind=PageKind.i205),
        _p1(3, "A012345678"),
        PageOutput(4, kind=PageKind.detainee_notice),
    ]
    results, requests = assemble(pages, today=date(2025, 6, 1))
    assert [r.kind for r in results] == [p.kind for p in pages]
    (request,) = requests
    assert request.source_pages == [2, 3, 4]
    assert request.file_number == "A012345678" and request.subject_name == "DOE, Jane"
    assert request.warrant_form == "I-205"
    assert request.probable_cause == ["final_order"] and request.requested_actions == ["notify"]
    assert not request.needs_review, request.review_reasons


def test_two_packets_and_pages_matched_by_a_number() -> None:
    first, second = _p1(1, "A000000001"), _p1(3, "A000000002")
    stray = PageOutput(5, kind=PageKind.i200, a_numbers=["A000000001"])  # printed A-number wins over position
    notice, warrant = PageOutput(2, kind=PageKind.detainee_notice), PageOutput(4, kind=PageKind.i200)
    _, requests = assemble([first, notice, second, warrant, stray])
    assert [r.source_pages for r in requests] == [[1, 2, 5], [3, 4]]


def test_fax_header_is_voted_across_pages() -> None:
    pages = [_p1(1, "A012345678"), PageOutput(2, kind=PageKind.detainee_notice),
             PageOutput(3, kind=PageKind.detainee_notice)]
    pages[0].header = _header("+16175556143", 12)  # a dotted zero read as 6 on page 1 only
    pages[1].header = _header("+16175550143", 12)
    pages[2].header = _header("+16175550143", 12)
    _, (request,) = assemble(pages)
    assert request.fax_sender_number == "+16175550143"
    assert request.fax_sent_at == datetime(2025, 1, 10, 9, 12, tzinfo=NY)


def test_a_send_time_no_two_pages_agree_on_is_voted_glyph_by_glyph() -> None:
    from parsing.header import parse_header

    pages = [_p1(1, "A012345678"), PageOutput(2, kind=PageKind.detainee_notice),
             PageOutput(3, kind=PageKind.detainee_notice), PageOutput(4, kind=PageKind.i200)]
    lines = [
        "2-02-2025 09:03 FROM: ICE ERO BOSTON +1-617-555-0143 T-413 P.001/004 F-063",  # month misread
        "1-02-2025 09:03 FROM: ICE ERO BOSTON +1-617-555-0143 T-413 P.002/004 F-063",
        None,  # page 3's header was not read
        "1-82-2025 69:03 FROM: ICE ERO BOSTON +1-617-555-0143 T-413 P.604/004 F-063",  # no valid time at all
    ]
    for page, line in zip(pages, lines, strict=True):
        page.header = parse_header(line) if line else None
    assert pages[3].header is not None and pages[3].header.sent_at is None
    _, (request,) = assemble(pages)
    assert request.fax_sent_at == datetime(2025, 1, 2, 9, 3, tzinfo=NY)


def test_a_dotted_zero_misread_on_most_pages_does_not_outvote_the_time() -> None:
    """Only page 1 reads the hour's dotted zero ("10:12"); the other pages read "16:12" and
    their dates fail: the date is voted glyph by glyph, the time is page 1's."""
    from parsing.header import parse_header

    pages = [_p1(1, "A012345678"), PageOutput(2, kind=PageKind.detainee_notice),
             PageOutput(3, kind=PageKind.detainee_notice), PageOutput(4, kind=PageKind.i205)]
    lines = ["12-09-2024 10:12 FROM: ICE ERO BOSTON +1-617-555-0143 P.002/005",
             "44-09-2024 16:12 FROM: ICE ERO BOSTON +1-617-555-0143 P.003/005",
             "12-69-2624 16:12 FROM: ICE ERO BOSTON +1-617-555-0143 P.004/005",
             "12-09-2624 16:12 FROM: ICE ERO BOSTON +1-617-555-0143 P.005/005"]
    for page, line in zip(pages, lines, strict=True):
        page.header = parse_header(line)
    _, (request,) = assemble(pages)
    assert request.fax_sent_at == datetime(2024, 12, 9, 10, 12, tzinfo=NY)


def test_review_reasons_are_slugs_without_values() -> None:
    page = _p1(1, "A012345678")
    page.fields["date_of_birth"] = _value(date(2026, 1, 1), 1)  # after the issue date
    del page.fields["subject_name"]
    page.fields["probable_cause:final_order"] = _value(False, 1)
    _, (request,) = assemble([page], today=date(2026, 6, 1))
    assert request.needs_review
    assert set(request.review_reasons) >= {
        "subject_name:missing", "date_of_birth:after_issued_date", "probable_cause:no_box_checked",
    }
    assert not any("DOE" in r or "2026" in r for r in request.review_reasons)


def test_identity_values_from_a_coarse_page_stay_below_the_trusted_confidence() -> None:
    """A standard-resolution fax's identifiers are exact far less often than their readings
    agree: they may support a match in the ledger but never rule one out."""
    fine, coarse = _p1(1, "A012345678"), _p1(1, "A012345678")
    coarse.coarse = True
    _, (clear,) = assemble([fine], today=date(2025, 6, 1))
    _, (poor,) = assemble([coarse], today=date(2025, 6, 1))
    assert clear.evidence["file_number"].confidence == 0.9
    assert poor.evidence["file_number"].confidence == 0.7 and poor.evidence["date_of_birth"].confidence == 0.7
    assert poor.evidence["subject_name"].confidence == 0.9  # names are not vetoes
    assert poor.file_number == clear.file_number and not any("file_number" in r for r in poor.review_reasons)
