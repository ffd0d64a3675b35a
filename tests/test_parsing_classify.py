"""Page kinds from a page's reading: the templates' [match] rules on OCR-like line texts.

Each page is a list of lines as OCR returns them (slips included); no picture is read, the
point is which template the words select.
"""

from __future__ import annotations

import pytest

from parsing.layout import Line
from parsing.ocr import Word
from parsing.templates import classify_lines, keyword_present


def _lines(*texts: str) -> list[Line]:
    lines = []
    for row, text in enumerate(texts):
        words, left = [], 10
        for token in text.split():
            words.append(Word(token, left, 20 + 30 * row, 12 * len(token), 20, 90.0))
            left += 12 * len(token) + 10
        lines.append(Line(words))
    return lines


def _kind(*texts: str) -> str:
    match = classify_lines(_lines(*texts))
    return "other" if match is None else match.template.page_kind


# --------------------------------------------------------------------------- cover sheets


def test_a_facsimile_transmittal_sheet_without_the_word_fax_is_a_cover() -> None:
    assert _kind(
        "From +12125550135 Mar 03 2025 11:40 Page 1 of 4",
        "FACSIMILE TRANSMITTAL",
        "To: Watch Commander",
        "Frorn: Deportation Officer L. Pham",
        "Date: 03/03/2025",
        "No. of pages: 4",
        "Re; Inmate in your custody",
    ) == "fax_cover"


def test_a_fax_cover_with_routing_fields_only_is_a_cover() -> None:
    # No confidentiality notice, no comments box: the routing fields say what it is.
    assert _kind(
        "FAX",
        "Date: 11/02/2025",
        "To: Records Unit Fax: (617) 555-0100",
        "From: ERO Burlington Phone: (781) 555-0166",
        "Pages: 5",
        "Subject: detainer",
    ) == "fax_cover"


def test_a_telecopy_cover_with_a_confidentiality_clause_is_a_cover() -> None:
    assert _kind(
        "TELECOPY COVER SHEET",
        "Attn: Booking Sergeant",
        "Sent: 07/14/2025 09:12",
        "Total pages (including this one): 3",
        "CONFIDENTIAL: intended only for the use of the addressee named above.",
    ) == "fax_cover"


def test_a_letter_on_letterhead_with_a_fax_number_is_not_a_cover() -> None:
    assert _kind(
        "LAW OFFICES OF M. ALVES, P.C.",
        "12 Tremont Street, Boston MA 02108 Tel: (617) 555-0133 Fax: (617) 555-0134",
        "Date: 05/06/2025",
        "Re: Records request for my client",
        "Dear Records Officer, please find enclosed the signed release.",
        "Sincerely, Maria Alves",
    ) == "other"


def test_a_detainer_page_whose_title_is_lost_is_not_a_cover() -> None:
    # A machine header says FROM/FAX, the form prints TO:, FROM:, Date:: still no cover sheet.
    kind = _kind(
        "01-31-2025 10:00 FROM: ICE ERO FAX +1-617-555-0191 T-123 P.002/005",
        "DEPARTMENT OF HOMELAND SECURITY (DHS)",
        "~ ,. ' eee ae ~~",
        "Subject ID: 7HX2KQ9 Event #: BOS2501004417",
        "File No: A012345678 Date: 01/31/2025",
        "TO: (Name and Title of Institution) FROM: (DHS Office Address)",
        "Name of Alien: NUNEZ, Carla",
        "1. DHS HAS DETERMINED THAT PROBABLE CAUSE EXISTS THAT THE SUBJECT IS A REMOVABLE ALIEN",
        "IT IS THEREFORE REQUESTED THAT YOU:",
    )
    assert kind != "fax_cover"


def test_a_state_arrest_warrant_by_fax_is_neither_a_cover_nor_an_immigration_warrant() -> None:
    kind = _kind(
        "4/22/2025 3:42 PM FROM:+15558127619 County Court FAX TO:16175550100 Pag.1/2",
        "STATE OF NEW JERSEY ARREST WARRANT",
        "To: any peace officer of this State",
        "From: Superior Court, Law Division",
        "Date: 04/22/2025",
        "Re: Complaint 2025-00417",
        "Having found probable cause to believe that the defendant committed an offense,",
        "you are hereby commanded to arrest the defendant and bring him before the court.",
    )
    assert kind == "other"


def test_a_keyword_that_folds_to_nothing_is_found_nowhere() -> None:
    assert not keyword_present(_lines("any English page"), "被拘留者通知", 85.0)


# --------------------------------------------------------------------------- warrants


def test_a_cover_naming_the_warrant_in_its_re_line_is_a_cover_not_the_warrant() -> None:
    assert _kind(
        "FAX COVER SHEET",
        "To: Booking Desk",
        "From: ICE ERO Newark",
        "Pages: 5",
        "Re: Form I-200 Warrant for Arrest of Alien and I-247A",
        "CONFIDENTIALITY NOTICE: This facsimile may contain law enforcement sensitive information.",
    ) == "fax_cover"


def test_an_i200_whose_heading_a_fax_lost_is_known_by_its_body_and_footer() -> None:
    assert _kind(
        "From +19735550148 Jun 19 2025 09:24 Page 4 of 4",
        "To: Any immigration officer authorized pursuant to sections 236 and 287 of the lmmigration and",
        "| have determined that there is probable cause to believe that the person named below is removab1e from",
        "made voluntarily by the subject. YOU ARE COMMANDED to arrest and take into custody for removal proceedings",
        "Name of alien: ORTEGA, Luis",
        "(Signature of Authorized lmmigration Officer)",
        "Form l-200 (Rev. 09/16)",
    ) == "i200"


def test_an_i200_whose_body_a_scan_garbled_is_known_by_its_title_and_edition() -> None:
    assert _kind(
        "cm ae niece }",
        "RRANT FOR ARREST OF ALIEN",
        ". ee e i",
        "1-200 (Rev.09/16)",
    ) == "i200"

def test_an_i205_is_not_taken_for_an_i200_by_its_footer_one_glyph_away() -> None:
    assert _kind(
        "WARRANT OF REMOVAL/DEPORTATION",
        "To: Any immigration officer authorized pursuant to sections 236 and 287 of the Immigration and",
        "is subject to removal/deportation from the United States, based upon a final order by:",
        "(Signature of authorized immigration officer)",
        "Form I-205 (Rev. 08/07)",
    ) == "i205"
    assert _kind(
        "To: Any immigration officer authorized pursuant to sections 236 and 287 of the Immigration and",
        "YOU ARE COMMANDED to arrest and take into custody for removal proceedings",
        "Form I-200 (Rev. 09/16)",
    ) == "i200"


def test_an_i205_whose_heading_a_fax_lost_is_known_by_its_body_and_footer() -> None:
    assert _kind(
        "04-26-2025 16:38 FROM: ERO NEWARK +1-973-555-0148 T-143 P.005/005",
        "To any immigration officer of the United States Department of Homeland Security:",
        "(Full name of alien)",
        "is subject to removal/deportation from the United States, based upon a final order by:",
        "command you to take into custody and rernove from the United States the above-named alien",
        "Form l-205 (Rev. 08/07)",
    ) == "i205"


# --------------------------------------------------------------------------- notices


def test_a_notice_in_french_and_spanish_with_its_hotline_garbled_is_a_notice() -> None:
    assert _kind(
        "DEPARTMENT OF HOMELAND SECURITY (DHS)",
        "AVIS AU DETENU",
        "Le Departement de la Securite interieure (DHS) a emis un ordre ... (855) 448-0908.",
        "NOTIFICACl0N A LA PERSONA DETENIDA",
        "El Departamento de Seguridad Nacional (DHS) ... al (855) 44B-6Q03.",
    ) == "detainee_notice"


@pytest.mark.parametrize("title", ["AVISO AO DETIDO", "AVI POU MOUN KI DETANI", "THONG BAO CHO NGUOI Bl GIAM GIU"])
def test_a_notice_in_another_language_is_known_by_its_title(title: str) -> None:
    assert _kind(
        "DHS Form I-247A (3/17) Page 3 of 3",
        title,
        "... (8S5) 44S-69O3 ...",
    ) == "detainee_notice"


# --------------------------------------------------------------------------- detainer forms


BODY = (
    "Subjéct ID! 7HX2KQ9 Event #: LOS2508004417",
    "File No. A012345678 Date: 08/17/2025",
    "Name of Alien: SOTO, Ana",
    "Date of Birth: 04/09/1988",
    "the pendency of ongoing removal proceedings against the alien",
)


def test_an_i247a_whose_title_a_scan_garbled_is_known_by_its_footer_and_box_2() -> None:
    assert _kind(
        "ails sliviieil HON DETAINER NoricHOK ACTlON",
        *BODY,
        "C 2. DHS TRANSFERRED THE ALIEN TO YOUR CUSTODY FOR A PROCEEDING 1 OR INUES",
        "DHS Form 1-247A (02/17) Page | of 3",
    ) == "detainer_p1"


def test_an_i247d_whose_subtitle_is_garbled_is_not_taken_for_an_i247a() -> None:
    # Its footer reads one glyph from "I-247A" and it shares the first half of the title.
    kind = _kind(
        "IMMIGRATION DETAINER - REQ EST F0R V0LNTRY ACTN",
        *BODY,
        "DHS Form I-247D (5/15) Page 1 of 3",
    )
    assert kind != "detainer_p1"
