"""What a held-out detainer says: people, identifiers, departments, offices, officers.
Invented values; nothing is taken from the tuned family."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

SURNAMES = ("ALVARADO", "BERISHA", "CHAUDHRY", "DA SILVA", "ESPINOZA", "FOFANA", "GUTIERREZ RAMOS", "HOANG",
            "IBRAHIM", "JEAN-BAPTISTE", "KARIMI", "LOZANO", "MENSAH", "NAVARRO", "OYELARAN", "PACHECO",
            "QUISPE", "ROJAS", "SANTAMARIA", "TRAN", "URIBE", "VASQUEZ", "WOLDE", "XAVIER", "YILMAZ", "ZELAYA")
GIVEN = ("Adriana", "Bashir", "Carlos", "Dalia", "Emeka", "Fatima", "Gustavo", "Hyun", "Ines", "Jorge", "Kwame",
         "Luz Marina", "Mateus", "Nadia", "Oscar", "Priya", "Rafael", "Samira", "Tomas", "Valentina", "Wilson",
         "Yesenia")
COUNTRIES = ("GUATEMALA", "EL SALVADOR", "BRAZIL", "HAITI", "DOMINICAN REPUBLIC", "ECUADOR", "COLOMBIA",
             "VIETNAM", "CAPE VERDE", "NIGERIA", "PERU", "ALBANIA", "INDIA", "MEXICO", "VENEZUELA")
# Departments ICE addresses (TO box): institution, district/unit, address lines.
DEPARTMENTS = (
    ("Riverside County Sheriff's Office", "Central Detention Unit", "4000 Orange St, Riverside, CA 92501"),
    ("Hamilton Township Police Department", "Records Division", "2100 Kuser Rd, Hamilton, NJ 08690"),
    ("Boston Police Department", "District B-2", "2400 Washington St, Boston, MA 02119"),
    ("Essex County Sheriff's Department", "Middleton Jail and House of Correction", "20 Manning Rd, Middleton, MA"),
    ("Providence Police Department", "Detention Unit", "325 Washington St, Providence, RI 02903"),
    ("Lowell Police Department", "Booking and Records", "50 Arcand Dr, Lowell, MA 01852"),
    ("Nassau County Correctional Center", "Inmate Records", "100 Carman Ave, East Meadow, NY 11554"),
)
# DHS offices (FROM box): office line, street, city.
OFFICES = (
    ("ICE ERO Boston Field Office", "1000 District Ave", "Burlington, MA 01803"),
    ("ICE ERO Newark Field Office", "970 Broad St", "Newark, NJ 07102"),
    ("Los Angeles Area of Responsibility", "300 N Los Angeles St", "Los Angeles, CA 90012"),
    ("ICE ERO New York", "26 Federal Plaza", "New York, NY 10278"),
    ("Hartford Sub-Office", "450 Main St", "Hartford, CT 06103"),
)
OFFICE_CODES = ("BOS", "NEW", "LOS", "NYC", "HAR")
OFFICER_NAMES = ("Jennifer Ortiz", "R. Brennan", "Maria L. Chen", "Daniel P. Whitfield", "K. Osei", "Ana Lucia Ferro",
                 "T. Nakamura", "Michael J. Doyle", "S. Abernathy", "Luis Cardenas")
# title as printed, the title it stands for (the field holds the full title), placement
OFFICER_TITLES = (("DO", "Deportation Officer", "before"),
                  ("SDDO", "Supervisory Detention and Deportation Officer", "before"),
                  ("IEA", "Immigration Enforcement Agent", "before"),
                  ("Deportation Officer", "Deportation Officer", "after"),
                  ("Supervisory Detention and Deportation Officer", "Supervisory Detention and Deportation Officer",
                   "after"),
                  ("Immigration Enforcement Agent", "Immigration Enforcement Agent", "after"),
                  (None, None, "none"))
SENDERS = (("+16175550191", "ICE ERO BOS"), ("+19735550148", "ERO NEWARK"), ("+12135550172", "LOS ERO"),
           ("+12125550135", "ICE NYC ERO"), ("+18605550119", "HARTFORD SUB"))
PC = ("final_order", "pending_proceedings", "biometric_records", "statements_evidence")
ACTIONS = ("notify", "maintain_custody", "relay", "notify_death_transfer")
EDITIONS = ("02/17", "3/17", "3/17", "10/19")


@dataclass
class Detainer:
    """One filled I-247A and the truth it stands for."""

    subject_id: str
    event_number: str
    a_digits: str
    issued: date
    to_lines: list[str]
    from_lines: list[str]
    surname: str
    given: str
    dob: date
    citizenship: str
    sex: str
    probable_cause: list[str]
    transferred: bool
    actions: list[str]
    cancels: date | None
    officer: str
    officer_title: str | None  # the full title (truth)
    title_printed: str | None  # as printed: an abbreviation or the full title
    title_place: str
    edition: str
    warrant: str | None
    sender_number: str
    sender_tsi: str
    office_index: int
    sent_local: datetime
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.surname}, {self.given}"

    @property
    def officer_line(self) -> str:
        if self.title_place == "before":
            return f"{self.title_printed} {self.officer}"
        if self.title_place == "after":
            return f"{self.officer}, {self.title_printed}"
        return self.officer


def _ident(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "".join(rng.choice(string.digits) for _ in range(rng.choice((9, 10))))
    alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ23456789"
    return "".join(rng.choice(alphabet) for _ in range(9))


def make_detainer(rng: random.Random, year: int = 2025) -> Detainer:
    office = rng.randrange(len(OFFICES))
    issued = date(year, 1, 1) + timedelta(days=rng.randrange(330))
    dept = rng.choice(DEPARTMENTS)
    to_lines = list(dept[: rng.choice((2, 3))])
    from_lines = list(OFFICES[office][: rng.choice((1, 2, 3))])
    transferred = rng.random() < 0.12
    pc = [] if transferred else sorted(rng.sample(PC, rng.choice((1, 1, 2))), key=PC.index)
    actions = sorted({"notify", *rng.sample(ACTIONS, rng.choice((0, 1, 2)))}, key=ACTIONS.index)
    if rng.random() < 0.15:
        actions = sorted(rng.sample(ACTIONS, rng.choice((1, 2))), key=ACTIONS.index)
    cancels = issued - timedelta(days=rng.randrange(20, 200)) if rng.random() < 0.08 else None
    printed, title, place = rng.choice(OFFICER_TITLES)
    number, tsi = SENDERS[office]
    sent = datetime(issued.year, issued.month, issued.day, rng.randrange(7, 20), rng.randrange(60))
    return Detainer(
        subject_id=_ident(rng),
        event_number=f"{OFFICE_CODES[office]}{issued:%y%m}{rng.randrange(10**5, 10**6)}",
        a_digits=f"{rng.randrange(10**7, 3 * 10**8):09d}",
        issued=issued, to_lines=to_lines, from_lines=from_lines,
        surname=rng.choice(SURNAMES), given=rng.choice(GIVEN),
        dob=date(rng.randrange(1962, 2006), rng.randrange(1, 13), rng.randrange(1, 29)),
        citizenship=rng.choice(COUNTRIES), sex=rng.choice("MMMF"),
        probable_cause=pc, transferred=transferred, actions=actions, cancels=cancels,
        officer=rng.choice(OFFICER_NAMES), officer_title=title, title_printed=printed, title_place=place,
        edition=rng.choice(EDITIONS), warrant=rng.choice(("I-200", "I-200", "I-200", "I-205")),
        sender_number=number, sender_tsi=tsi, office_index=office, sent_local=sent,
    )
