"""Field parsers and the fax header line: pure functions, no OCR."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from parsing.fields import (
    normalize_a_number,
    normalize_citizenship,
    normalize_identifier,
    normalize_name,
    normalize_officer,
    normalize_officer_title,
    normalize_phone,
    normalize_sex,
    parse_date,
)
from parsing.header import parse_header
from parsing.lexicon import snap
from parsing.officer import officer_titles, split_officer

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A012345678", "A012345678"),
        ("A 012 345 678", "A012345678"),
        ("A012-345-678", "A012345678"),
        ("012-345-678", "A012345678"),
        ("A1234567", "A001234567"),  # 7 digits are zero-padded
        ("12345678", "A012345678"),
        ("AO12345678", "A012345678"),  # O read for 0
        ("A0l2345678", "A012345678"),  # l read for 1
        ("AQ87654321", "A087654321"),  # a dotted zero read Q
        ("A_012 345 678", "A012345678"),  # the rule under the value read between its groups
        ("A12345", None),  # too short
        ("A1234567890", None),  # too long
        ("BOSTON", None),
        ("", None),
    ],
)
def test_a_number(text: str, expected: str | None) -> None:
    assert normalize_a_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03/04/2025", date(2025, 3, 4)),
        ("3/4/2025", date(2025, 3, 4)),
        ("2025-03-04", date(2025, 3, 4)),
        ("O3/O4/2O25", date(2025, 3, 4)),
        ("March 4, 2025", date(2025, 3, 4)),
        ("04 MAR 2025", date(2025, 3, 4)),
        ("= =—1.1/18/2003", date(2003, 11, 18)),  # a speck inside the month, not a separator
        ("12.25.2024", date(2024, 12, 25)),  # dotted dates stay dates
        ("07°20/1980", date(1980, 7, 20)),  # a slash read as a degree sign
        ("02/30/2025", None),  # impossible
        ("14/26/2000", None),
        ("(date).", None),
    ],
)
def test_dates(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M", "M"), ("F", "F"), ("U", "U"), ("X", "X"),
        ("Male", "M"), ("MALE", "M"), ("Female", "F"), ("FEMALE", "F"), ("Unknown", "U"),
        # The word as a fax or a scan reads it.
        ("Maie", "M"), ("MAlE", "M"), ("Ma1e", "M"), ("Fernale", "F"), ("FEMAIE", "F"), ("Femaie", "F"),
        ("Unknowm", "U"), ("UNKN0WN", "U"),
        # Not a sex: another word, or a piece too short to tell.
        ("CHINA", None), ("Box", None), ("Fem", None), ("?", None),
    ],
)
def test_sex_from_the_code_or_the_word(text: str, expected: str | None) -> None:
    assert normalize_sex(text) == expected


def test_people_fields() -> None:
    assert normalize_sex("M") == "M"
    assert normalize_sex("Female") == "F"
    assert normalize_sex("?") is None
    assert normalize_name("= TAVARES,Arlindo |") == "TAVARES, Arlindo"
    # A capital I read as a bar or an exclamation mark after two capitals; nothing else touched.
    assert normalize_name("ADEYEM!, Oluwaseun") == "ADEYEMI, Oluwaseun"
    assert normalize_name("SM|TH, John") == "SMITH, John"
    assert normalize_name("O!NEIL, Lu!s") == "O!NEIL, Lu!s"


def test_a_line_of_form_text_is_no_name_and_name_particles_are_kept() -> None:
    # Another edition of the warrant words its sentence differently: the sentence is no name.
    assert normalize_name("the person named below is removable from the United States. This") is None
    assert normalize_name("DE LA CRUZ GARCIA, Maria del Carmen") == "DE LA CRUZ GARCIA, Maria del Carmen"
    assert normalize_name("VAN DER BERG, Anna") == "VAN DER BERG, Anna"
    assert normalize_citizenship("[NDIA") == "INDIA"
    assert normalize_citizenship("NIGERIA : ON") == "NIGERIA"
    assert normalize_citizenship("NIGER") == "NIGER"
    assert normalize_citizenship("el salvador") == "EL SALVADOR"
    assert normalize_identifier("BOS 2412 733891") == "BOS2412733891"
    assert normalize_officer("A Doherty") == "A. Doherty"
    assert normalize_officer("E- Okafor") == "E. Okafor"
    assert normalize_officer("A.Kowalski") == "A. Kowalski"
    assert normalize_officer("J. Nguyen") == "J. Nguyen"
    assert normalize_officer("Nguyen") == "Nguyen"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+1-714-583-0000", "+17145830000"),
        ("(617) 555-0143", "+16175550143"),
        ("16175550143", "+16175550143"),
        ("555-0143", None),
    ],
)
def test_phone(text: str, expected: str | None) -> None:
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    ("line", "sender", "sent", "page", "total"),
    [
        ("From +16175551234   Jan 12 2025 10:32   Page 1 of 4", "+16175551234", datetime(2025, 1, 12, 10, 32), 1, 4),
        ("01-31-2005 10:00 FROM: TOSHIBA +1-714-583-0000 T-123 P.001/003 F-030", "+17145830000",
         datetime(2005, 1, 31, 10, 0), 1, 3),
        ("4/22/2020 3:42 PM    FROM:+15558127619 Acme Inc.   TO:15559876543     Pag.2/3", "+15558127619",
         datetime(2020, 4, 22, 15, 42), 2, 3),
        ("12-09-2024 10:12 FROM: ICE ERO BOSTON +1-617-555-0143 T-123 P.002/005 F-030", "+16175550143",
         datetime(2024, 12, 9, 10, 12), 2, 5),
    ],
)
def test_header_styles(line: str, sender: str, sent: datetime, page: int, total: int) -> None:
    header = parse_header(line, "America/New_York")
    assert header is not None
    assert header.sender_number == sender
    assert header.sent_at == sent.replace(tzinfo=NY)
    assert (header.page, header.total) == (page, total)


def test_header_zone_is_a_parameter() -> None:
    header = parse_header("From +16175551234   Jan 12 2025 10:32   Page 1 of 4", "America/Chicago")
    assert header is not None and header.sent_at is not None
    assert header.sent_at.utcoffset().total_seconds() == -6 * 3600  # type: ignore[union-attr]


def test_not_a_header() -> None:
    assert parse_header("DEPARTMENT OF HOMELAND SECURITY (DHS)") is None
    assert parse_header("Date of Birth: 07/14/1988 Citizenship: HONDURAS") is None


@pytest.mark.parametrize(
    ("footer", "revision"),
    [
        ("DHS Form I-247A (3/17) Page 1 of 3", "3/17"),
        ("DHS Form 1-247A (02/17)", "02/17"),
        ("DHS Form I-247A (8/17)", "3/17"),  # one glyph off one known revision
        ("DHS Form 1-247A (W17) Page 1of3", "3/17"),  # the 3 and its slash run together
        ("DHS Form I-247A (2/17)", "3/17"),  # a substituted glyph, not a lost leading 0
        ("DHS Form I-247A (5/15)", "5/15"),  # a well-formed revision not on the list: as read
        ("DHS Form I-247A (WX17)", None),  # letters and no known revision near: no reading
    ],
)
def test_the_form_revision_snaps_only_to_one_known_revision(footer: str, revision: str | None) -> None:
    from parsing.templates import find_revision, templates

    i247a = next(t for t in templates() if t.name == "i247a")
    assert find_revision(footer, i247a) == revision


# --------------------------------------------------------------------------- officer line


@pytest.mark.parametrize(
    ("line", "name", "title"),
    [
        # the title before the name, abbreviated or written out
        ("DO Jennifer Ortiz", "Jennifer Ortiz", "Deportation Officer"),
        ("D0 Jennifer Ortiz", "Jennifer Ortiz", "Deportation Officer"),  # the O read as a zero
        ("TEA S. Abernathy", "S. Abernathy", "Immigration Enforcement Agent"),  # its I read as a T
        ("lEA S. Abernathy", "S. Abernathy", "Immigration Enforcement Agent"),
        ("TO Jennifer Ortiz", "TO Jennifer Ortiz", None),  # two letters: too few to read T as I
        ("SDDO Jennifer Ortiz", "Jennifer Ortiz", "Supervisory Detention and Deportation Officer"),
        ("IEA Robert K. Lee", "Robert K. Lee", "Immigration Enforcement Agent"),
        ("AFOD M. Haddad", "M. Haddad", "Assistant Field Office Director"),
        ("Deportation Officer Jennifer Ortiz", "Jennifer Ortiz", "Deportation Officer"),
        ("Supervisory Detention and Deportation Officer Robert K. Lee", "Robert K. Lee",
         "Supervisory Detention and Deportation Officer"),
        ("Border Patrol Agent Ana Diaz", "Ana Diaz", "Border Patrol Agent"),
        # the title after the name, after a comma or not, read with a slip, or cut by its field
        ("R. Brennan, Deportation Officer", "R. Brennan", "Deportation Officer"),
        ("Jennifer Ortiz, SDDO", "Jennifer Ortiz", "Supervisory Detention and Deportation Officer"),
        ("Robert K. Lee, Supervisory Special Agent", "Robert K. Lee", "Supervisory Special Agent"),
        ("Robert K. Lee Special Agent", "Robert K. Lee", "Special Agent"),
        ("T. Haddad, Assistant Field Ofice Director", "T. Haddad", "Assistant Field Office Director"),
        ("J. Doe  Supervisory Detention and Deportat", "J. Doe", "Supervisory Detention and Deportation Officer"),
        ("J. Doe Deportation Officer", "J. Doe", "Deportation Officer"),
        ("J, Nguyen, Immigration Enforcement Agent", "J. Nguyen", "Immigration Enforcement Agent"),
        # an unlisted title after a comma is kept as read; no title at all is none
        ("J. Doe, Acting Deputy Chief", "J. Doe", "Acting Deputy Chief"),
        ("Robert K. Lee", "Robert K. Lee", None),
        ("J. Doe, ERO Boston", "J. Doe", None),  # a cover sheet's sender: what follows is no title
        ("Nguyen", "Nguyen", None),
        ("Deportation Officer", None, "Deportation Officer"),
    ],
)
def test_an_officer_line_splits_into_name_and_title(line: str, name: str | None, title: str | None) -> None:
    assert (normalize_officer(line), normalize_officer_title(line)) == (name, title)


def test_the_officer_titles_are_data_with_their_abbreviations() -> None:
    listed = dict(officer_titles())
    assert listed["Deportation Officer"] == "DO"
    assert listed["Supervisory Detention and Deportation Officer"] == "SDDO"
    assert listed["Border Patrol Agent"] == "BPA"
    # The longest first, so a longer title is never read as the shorter one it ends with.
    assert [len(t) for t, _ in officer_titles()] == sorted((len(t) for t, _ in officer_titles()), reverse=True)
    assert split_officer("SSA Ana Diaz") == ("Ana Diaz", "Supervisory Special Agent")


# --------------------------------------------------------------------------- department names

SAMPLE_NAMES = ["CITY POLICE DEPARTMENT - OPERATIONS DIVISION", "CITY POLICE DEPARTMENT - DISTRICT A-1",
                "CITY POLICE DEPARTMENT - DISTRICT B-2"]


@pytest.mark.parametrize(
    ("read", "want"),
    [
        # OCR slips in the department's own name are corrected ...
        ("CITY POLlCE DEPARTMENT - OPERATlONS DlVISION", "CITY POLICE DEPARTMENT - OPERATIONS DIVISION"),
        ("C1TY P0LICE DEPARTMEHT - DISTR1CT B-2", "CITY POLICE DEPARTMENT - DISTRICT B-2"),
        # ... another department's name never becomes it, however alike the rest of the line
        ("Boston Police Department", "Boston Police Department"),
        ("Boston Police Department, District B-2", "Boston Police Department, District B-2"),
        ("Quincy Police Department - Operations Division", "Quincy Police Department - Operations Division"),
        ("Lynn Police Department - District A-1", "Lynn Police Department - District A-1"),
    ],
)
def test_the_lexicon_corrects_slips_never_another_department(read: str, want: str) -> None:
    assert snap(read, SAMPLE_NAMES) == want


def test_a_configured_one_line_name_matches_the_first_line_of_a_box() -> None:
    from parsing.boxread import snap_box
    from parsing.templates import templates

    spec = next(f for f in next(t for t in templates() if t.name == "i247a").fields if f.name == "to_institution")
    box = [("CITY POLlCE DEPARTMENT - DlSTRICT A-1", []), ("Booking Desk", []), ("1 Main Street, City", [])]
    assert snap_box(spec, box, SAMPLE_NAMES) == (
        "CITY POLICE DEPARTMENT - DISTRICT A-1, Booking Desk, 1 Main Street, City", True)
    foreign = [("Boston Police Department", []), ("District B-2", [])]
    assert snap_box(spec, foreign, SAMPLE_NAMES) == ("Boston Police Department, District B-2", False)
