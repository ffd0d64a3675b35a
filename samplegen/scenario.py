"""Who sent what, when and how: the sample corpus scenario as pure data.

Nothing here draws or writes files. :func:`build_scenario` turns a seed into a
:class:`Scenario`: the unique detainer requests (people, forms, offices), every
arrival of a document (receipt plans with their pages, channel, time and file
format) and the e-mail messages that carry some of them. The drawing
(:mod:`samplegen.forms`), the fax degradation (:mod:`samplegen.fax`), the mail
builder (:mod:`samplegen.mail`) and the truth writer (:mod:`samplegen.truth`)
all read from it, so the files and ``truth.json`` cannot drift apart.

The calendar is written out by hand below (what arrives on which day and channel,
which copies repeat, which inputs are broken); the personal details (synthetic
names, dates of birth, A-numbers, identifiers) come from a seeded
:class:`random.Random`, so the same seed always gives the same corpus.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("America/New_York")
CHANNEL_ORDER = ("dedicated_fax", "station_fax", "bfs_email")

DEPT_NAME = "CITY POLICE DEPARTMENT"
DEDICATED_NUMBER = "+16175550100"
STATION_NUMBERS = {
    "A-1": "+16175550111",
    "B-2": "+16175550122",
    "C-6": "+16175550136",
    "C-11": "+16175550141",
    "D-4": "+16175550144",
    "E-13": "+16175550153",
    "E-18": "+16175550158",
}
STATION_NAMES = {
    "A-1": "District A-1 (Downtown)",
    "B-2": "District B-2 (Roxbury Crossing)",
    "C-6": "District C-6 (South End)",
    "C-11": "District C-11 (Fields Corner)",
    "D-4": "District D-4 (Back Bay)",
    "E-13": "District E-13 (Jamaica Plain)",
    "E-18": "District E-18 (Hyde Park)",
}
MAIL_DOMAIN = "police.city.example"
BFS_ADDRESS = f"bfs.detainers@{MAIL_DOMAIN}"


# --------------------------------------------------------------------------- people and offices


@dataclass(frozen=True)
class Person:
    surname: str
    given: str
    dob: date
    citizenship: str
    sex: str  # "M" / "F"
    file_number: str  # "A" + 9 digits
    language: str

    @property
    def printed_name(self) -> str:
        return f"{self.surname}, {self.given}"


@dataclass(frozen=True)
class FaxSender:
    """A sending fax machine: its number, station identifier and header style."""

    number: str  # E.164
    tsi: str  # at most 20 characters
    style: str  # hylafax | toshiba | faxserver
    name: str  # short name the fax-server style prints after the number


@dataclass(frozen=True)
class Office:
    key: str
    from_office: str  # first line of the FROM block (truth value)
    address: tuple[str, ...]
    phone: str  # printed in the "notify DHS" option
    fax: FaxSender
    city: str
    email: str


OFFICES = {
    "BOS": Office(
        "BOS", "Boston Area of Responsibility",
        ("1000 Harborside Federal Plaza, Suite 400", "Burlington, MA 01803"),
        "(617) 555-0190", FaxSender("+16175550143", "ICE ERO BOSTON", "toshiba", "ICE ERO"),
        "Boston", "ero.boston.detainers@ice.dhs.example",
    ),
    "BUR": Office(
        "BUR", "Boston Area of Responsibility",
        ("Burlington Sub-Office", "12 Middlesex Turnpike, 2nd Floor", "Burlington, MA 01803"),
        "(781) 555-0181", FaxSender("+17815550188", "+17815550188", "hylafax", "ERO BURL"),
        "Burlington", "ero.burlington@ice.dhs.example",
    ),
    "NYC": Office(
        "NYC", "New York City Area of Responsibility",
        ("26 Federal Plaza Annex, 9th Floor", "New York, NY 10278"),
        "(212) 555-0117", FaxSender("+12125550117", "ERO NYC", "faxserver", "ICE ERO NYC"),
        "New York", "nyc.ero.detainers@ice.dhs.example",
    ),
    "HAR": Office(
        "HAR", "Boston Area of Responsibility",
        ("Hartford Sub-Office", "450 Main Street, Room 5XX", "Hartford, CT 06103"),
        "(860) 555-0162", FaxSender("+18605550162", "+18605550162", "hylafax", "ERO HFD"),
        "Hartford", "ero.hartford@ice.dhs.example",
    ),
    "NEW": Office(
        "NEW", "Newark Area of Responsibility",
        ("970 Broad Street Annex, 11th Floor", "Newark, NJ 07102"),
        "(973) 555-0124", FaxSender("+19735550124", "ICE NEWARK ERO", "faxserver", "ICE ERO NWK"),
        "Newark", "newark.ero@ice.dhs.example",
    ),
}

OFFICER_SURNAMES = ("Ramirez", "Kowalski", "Okafor", "Doherty", "Castillo", "Nguyen", "Brennan", "Achebe",
                    "Lindqvist", "Morales", "Fitzgerald", "Haddad")
OFFICER_TITLES = (
    "Deportation Officer",
    "Supervisory Detention and Deportation Officer",
    "Immigration Enforcement Agent",
    "Assistant Field Office Director",
)

# Synthetic name material by citizenship: (surnames, male given names, female given names, language).
NAME_POOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], str]] = {
    "HONDURAS": (("MEJIA", "ZELAYA", "CASTELLANOS", "BANEGAS", "ORELLANA", "PAZ", "FUNEZ"),
                 ("Jose Angel", "Kevin Adonay", "Wilmer", "Elvin Josue"), ("Dania Marisol", "Keyla", "Iris Yolany"),
                 "es"),
    "GUATEMALA": (("XOCOP", "AJANEL", "TZUL", "BATZ", "COJ", "PIRIR", "SICAJAN"),
                  ("Mynor Estuardo", "Baltazar", "Edwin Rolando", "Selvin"), ("Rosa Elvira", "Ana Lucia", "Cristina"),
                  "es"),
    "EL SALVADOR": (("ALVARENGA", "ROMERO", "ARGUETA", "HENRIQUEZ", "ZAVALETA", "PORTILLO"),
                    ("Jose Dimas", "Nelson Ernesto", "Oscar Rene"), ("Marta Alicia", "Yesenia", "Glenda Patricia"),
                    "es"),
    "DOMINICAN REPUBLIC": (("DE LA CRUZ", "PERALTA", "ALMONTE", "FERMIN", "TAVAREZ", "ROSARIO"),
                           ("Wander", "Yunior", "Franklin Rafael"), ("Yokasta", "Massiel", "Ramona"), "es"),
    "MEXICO": (("VILLANUEVA", "OCAMPO", "SANDOVAL", "IBARRA", "TAPIA", "ZAMUDIO"),
               ("Juan Carlos", "Luis Fernando", "Efrain"), ("Guadalupe", "Maria Elena", "Araceli"), "es"),
    "BRAZIL": (("CARVALHO", "BARBOSA", "MEDEIROS", "NASCIMENTO", "FAGUNDES"),
               ("Wellington", "Thiago Henrique", "Rodrigo"), ("Luciana", "Thais", "Raquel"), "pt"),
    "HAITI": (("JEAN-BAPTISTE", "PIERRE-LOUIS", "DORSAINVIL", "CHARLEMAGNE", "ETIENNE"),
              ("Wilner", "Jean Robert", "Frantz"), ("Mirlande", "Nadege", "Roseline"), "fr"),
    "CHINA": (("ZHENG", "LIN", "CHEN", "WENG", "HUANG"), ("Wei", "Jianguo", "Hao"), ("Xiaomei", "Li Na", "Yan"), "zh"),
    "VIETNAM": (("NGUYEN", "TRAN", "PHAM", "DOAN", "VU"), ("Van Minh", "Quoc Bao", "Duc Anh"),
                ("Thi Lan", "Ngoc Anh", "Thu Ha"), "vi"),
    "CAPE VERDE": (("FONSECA", "MONTEIRO", "SEMEDO", "TAVARES", "VARELA"), ("Arlindo", "Edmilson", "Nelson"),
                   ("Filomena", "Ivanilda", "Odete"), "pt"),
    "COLOMBIA": (("MOSQUERA", "CARDONA", "OSPINA", "RESTREPO"), ("Jhon Fredy", "Andres Felipe", "Yeison"),
                 ("Luz Adriana", "Paola", "Yuliana"), "es"),
    "ECUADOR": (("GUAMAN", "QUIZHPI", "SUQUILANDA", "ZHUNIO"), ("Segundo", "Wilson Patricio", "Luis Angel"),
                ("Rosa Maria", "Nube", "Blanca"), "es"),
    "NIGERIA": (("ADEYEMI", "OKONKWO", "BABATUNDE", "EZEH"), ("Chukwuemeka", "Oluwaseun", "Tunde"),
                ("Ngozi", "Folake", "Adaeze"), "en"),
    "JAMAICA": (("BROWN-MCKENZIE", "THOMPSON", "CAMPBELL", "GAYLE"), ("Dwayne", "Andre", "Kemar"),
                ("Shanice", "Tamika", "Kerry-Ann"), "en"),
    "INDIA": (("PATEL", "SINGH", "REDDY", "CHAUDHARY"), ("Rajesh", "Gurpreet", "Vikram"),
              ("Priya", "Harpreet", "Sunita"), "en"),
}


# --------------------------------------------------------------------------- forms and pages


@dataclass
class Detainer:
    """One filled detainer form (I-247A or I-247D), with how it is printed."""

    request_id: str | None  # None on a cancellation notice
    person: Person
    office: Office
    form_type: str
    form_revision: str
    subject_id: str
    event_number: str
    issued_date: date
    to_institution: str
    to_lines: tuple[str, ...]
    probable_cause: list[str]
    transferred_for_proceeding: bool
    requested_actions: list[str]
    officer_name: str
    officer_title: str
    warrant_form: str | None  # form of the warrant printed with this packet (truth)
    cancels_previous: bool = False
    cancelled_detainer_date: date | None = None
    cancels_request_id: str | None = None
    # print style
    a_style: int = 0  # 0 "A012345678", 1 "A 012 345 678", 2 "012-345-678", 3 "A012-345-678"
    date_style: int = 0  # 0 "01/10/2025", 1 "1/10/2025"
    fill_font: str = "mono"
    mark: str = "x"  # x | check | fill
    notice_langs: tuple[str, ...] = ("es", "zh", "fr", "pt", "vi")

    @property
    def printed_file_number(self) -> str:
        d = self.person.file_number[1:]
        return [f"A{d}", f"A {d[:3]} {d[3:6]} {d[6:]}", f"{d[:3]}-{d[3:6]}-{d[6:]}", f"A{d[:3]}-{d[3:6]}-{d[6:]}"][
            self.a_style
        ]


def fmt_date(d: date, style: int = 0) -> str:
    if style == 1:
        return f"{d.month}/{d.day}/{d.year}"
    return d.strftime("%m/%d/%Y")


@dataclass
class Page:
    """One page of a document as planned: what it shows and how it is stored."""

    kind: str  # parsing.models.PageKind value
    draw: str  # drawing routine: p1 | notice2 | notice3 | i200 | i205 | cover | decoy:<name>
    detainer: Detainer | None = None
    data: dict = field(default_factory=dict)
    rotation: int = 0  # degrees clockwise as stored
    fed_upside_down: bool = False  # fax page whose content was fed rotated 180 (header stays upright)


@dataclass
class ReceiptPlan:
    id: str
    channel: str
    station: str | None
    received_local: datetime  # aware, department zone
    fmt: str  # truth format
    resolution: str | None  # fine | standard | None
    kind: str  # detainer | decoy | broken
    pages: list[Page]
    sender: FaxSender | None  # sending fax machine (header line), None when the pages carry none
    sent_local: datetime | None  # header time
    file_name: str = ""  # for mail: attachment name as declared
    path: str = ""  # relative to the corpus root (mail: the message file)
    broken_reason: str | None = None
    message_key: str | None = None
    attachment_index: int | None = None
    content_type: str | None = None  # declared MIME type (mail)
    same_bytes_as: str | None = None  # receipt id whose bytes are reused (forwarded copy)
    received_from: str = ""
    sender_value: str | None = None  # truth "sender"
    notes: str = ""
    label: str = ""  # short scenario label used to seed the per-document random generator
    truncate: bool = False
    header_total: int | None = None  # "page x of y" total printed in the header when pages were lost
    header_pages: list[int] | None = None  # page numbers printed in the headers, when not 1..n


@dataclass
class MessagePlan:
    key: str
    received_local: datetime
    sent_local: datetime
    from_addr: str
    from_name: str
    to_addr: str
    subject: str
    body: str
    attachments: list[str]  # receipt ids, in MIME order
    html_inline: bool = False
    forwarded_of: str | None = None  # key of the forwarded message
    forwarder_note: str = ""
    folder: str = "cur"
    flags: str = "S"
    path: str = ""
    message_id: str = ""
    no_document: bool = False


@dataclass
class Scenario:
    seed: int
    requests: dict[str, Detainer]
    receipts: list[ReceiptPlan]
    messages: list[MessagePlan]


# --------------------------------------------------------------------------- building


def _alnum(rng: random.Random, n: int, alphabet: str = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _local(y: int, mo: int, d: int, h: int, mi: int, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=TZ)


class _Builder:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(f"samplegen:{seed}")
        self.used_names: set[str] = set()
        self.requests: dict[str, Detainer] = {}
        self.receipts: list[ReceiptPlan] = []
        self.messages: list[MessagePlan] = []
        self._fax_seq = 101

    # people -----------------------------------------------------------------------------------
    def person(self, country: str | None = None) -> Person:
        rng = self.rng
        country = country or rng.choice(sorted(NAME_POOLS))
        for attempt in range(200):
            if attempt and attempt % 20 == 0:
                country = rng.choice(sorted(NAME_POOLS))  # this pool is used up: another nationality
            surnames, male, female, lang = NAME_POOLS[country]
            sex = rng.choice("MMMF")
            given = rng.choice(male if sex == "M" else female)
            first = rng.choice(surnames)
            surname = first
            if lang == "es" and rng.random() < 0.6:
                second = rng.choice(surnames)
                if second == first:
                    continue
                surname = f"{first} {second}"
            if first not in self.used_names and given not in self.used_names:
                self.used_names.update((first, given))
                break
        else:  # pragma: no cover
            raise RuntimeError("ran out of synthetic names")
        dob = date(rng.randint(1962, 2004), rng.randint(1, 12), rng.randint(1, 28))
        anum = "A" + f"{rng.randint(0, 2) }{rng.randint(0, 99_999_999):08d}"
        return Person(surname, given, dob, country, sex, anum, lang)

    def detainer(
        self,
        rid: str | None,
        person: Person,
        office: str,
        issued: date,
        station: str | None = None,
        **kw: object,
    ) -> Detainer:
        rng = self.rng
        off = OFFICES[office]
        if station:
            to_inst = f"{DEPT_NAME} - {STATION_NAMES[station].split(' (')[0].upper()}"
        else:
            to_inst = f"{DEPT_NAME} - OPERATIONS DIVISION"
        to_lines = (to_inst, "Booking Supervisor / Officer in Charge", "1 Schroeder Plaza Annex, City, MA 02120")
        pc_choices = [
            ["biometric_records"],
            ["biometric_records", "statements_evidence"],
            ["pending_proceedings"],
            ["final_order"],
            ["pending_proceedings", "biometric_records"],
            ["statements_evidence"],
        ]
        probable = list(rng.choice(pc_choices))
        transferred = False
        if kw.pop("transferred", False):
            probable, transferred = [], True
        actions = ["notify", "maintain_custody", "relay"]
        if rng.random() < 0.35:
            actions.append("notify_death_transfer")
        if rng.random() < 0.12:
            actions = ["notify", "relay"]
        warrant = "I-205" if "final_order" in probable else "I-200"
        initials = rng.choice("ABCDEGJKLMRST")
        officer = f"{initials}. {rng.choice(OFFICER_SURNAMES)}"
        det = Detainer(
            request_id=rid,
            person=person,
            office=off,
            form_type="I-247A",
            form_revision=rng.choice(["3/17", "3/17", "3/17", "02/17"]),
            subject_id=_alnum(rng, rng.choice([9, 10]), "0123456789") if rng.random() < 0.5 else _alnum(rng, 9),
            event_number=f"{office[:3]}{issued:%y%m}{rng.randint(0, 999999):06d}",
            issued_date=issued,
            to_institution=to_inst,
            to_lines=to_lines,
            probable_cause=probable,
            transferred_for_proceeding=transferred,
            requested_actions=actions,
            officer_name=officer,
            officer_title=rng.choice(OFFICER_TITLES),
            warrant_form=warrant,
            a_style=rng.choice([0, 0, 1, 2, 3]),
            date_style=rng.choice([0, 0, 1]),
            fill_font=rng.choice(["serif", "serif", "sans_narrow", "sans_narrow", "mono", "mono_bold"]),
            mark=rng.choice(["x", "x", "check", "fill"]),
            notice_langs=tuple(rng.sample(["es", "zh", "fr", "pt", "vi", "ht"], 5)),
        )
        for k, v in kw.items():
            setattr(det, k, v)
        if rid:
            self.requests[rid] = det
        return det

    # pages ------------------------------------------------------------------------------------
    @staticmethod
    def packet(det: Detainer, *, cover: dict | None = None, drop: tuple[str, ...] = (), order: str = "normal",
               warrant: bool = True) -> list[Page]:
        pages: list[Page] = []
        if cover is not None:
            pages.append(Page("fax_cover", "cover", det, cover))
        body = [Page("detainer_p1", "p1", det)]
        if det.form_type == "I-247A":
            body += [Page("detainee_notice", "notice2", det), Page("detainee_notice", "notice3", det)]
        else:
            body += [Page("detainee_notice", "notice2", det)]
        if warrant and det.warrant_form:
            body.append(Page(det.warrant_form.lower().replace("-", ""), det.warrant_form.lower().replace("-", ""), det))
        body = [p for p in body if p.draw not in drop]
        if order == "warrant_first":
            body = body[-1:] + body[:-1]
        return pages + body

    def add(self, plan: ReceiptPlan) -> ReceiptPlan:
        self.receipts.append(plan)
        return plan

    def fax_name(self) -> str:
        self._fax_seq += self.rng.randint(1, 9)
        return f"fax{self._fax_seq:06d}"


def _sent_before(received: datetime, rng: random.Random) -> datetime:
    """Header time: a minute or two before the receive time, to the minute."""
    t = received - timedelta(seconds=rng.randint(50, 150))
    return t.replace(second=0)


DECOY_SENDERS = {
    "court": FaxSender("+16175550172", "SUFFOLK DIST CT CLK", "toshiba", "DIST COURT"),
    "state_police": FaxSender("+15085550133", "MSP CJIS UNIT", "faxserver", "STATE POLICE"),
    "da": FaxSender("+16175550119", "+16175550119", "hylafax", "DA OFFICE"),
    "sheriff": FaxSender("+16175550166", "SCSD BOOKING", "toshiba", "SHERIFF"),
    "pd": FaxSender("+17815550155", "+17815550155", "hylafax", "QUINCY PD"),
}


def build_scenario(seed: int = 2025) -> Scenario:
    b = _Builder(seed)
    rng = b.rng
    P = b.person

    # ---- the unique requests ------------------------------------------------------------------
    # (request, issued date, office, first-arrival station or None, extra detainer fields)
    people = {k: P() for k in range(1, 29)}
    people[20] = people[5]  # same person, two genuinely different detainers months apart
    spec: list[tuple[int, date, str, str | None, dict]] = [
        (1, date(2024, 12, 9), "BOS", None, {}),
        (2, date(2024, 12, 31), "BOS", "E-13", {}),
        (3, date(2025, 1, 8), "BOS", None, {}),
        (4, date(2025, 1, 21), "BUR", "C-6", {}),
        (5, date(2025, 2, 3), "BOS", "B-2", {}),
        (6, date(2025, 2, 14), "BOS", "A-1", {}),
        (7, date(2025, 2, 27), "HAR", None, {}),
        (8, date(2025, 2, 27), "HAR", None, {"transferred": True}),
        (9, date(2025, 3, 11), "NYC", "D-4", {}),
        (10, date(2025, 3, 20), "BOS", "C-6", {}),
        (11, date(2025, 4, 2), "BOS", None, {}),
        (12, date(2025, 4, 15), "BUR", "E-18", {}),
        (13, date(2025, 4, 29), "BOS", None, {}),
        (14, date(2025, 5, 7), "NEW", "A-1", {}),
        (15, date(2025, 5, 20), "BOS", None, {}),
        (16, date(2025, 6, 3), "BOS", "B-2", {}),
        (17, date(2025, 6, 17), "BUR", "C-11", {}),
        (18, date(2016, 11, 3), "BOS", "C-11", {}),
        (19, date(2025, 7, 9), "NYC", None, {}),
        (20, date(2025, 7, 14), "BOS", "B-2", {}),
        (21, date(2025, 7, 28), "HAR", "E-13", {}),
        (22, date(2025, 8, 6), "BOS", None, {}),
        (23, date(2025, 8, 19), "BOS", None, {}),
        (24, date(2025, 9, 2), "BUR", "D-4", {}),
        (25, date(2025, 9, 16), "BOS", "E-18", {}),
        (26, date(2025, 9, 30), "NEW", None, {}),
        (27, date(2025, 10, 14), "BOS", "C-6", {}),
        (28, date(2025, 10, 28), "BUR", "A-1", {}),
    ]
    D: dict[int, Detainer] = {}
    for n, issued, office, station, extra in spec:
        D[n] = b.detainer(f"Q{n:03d}", people[n], office, issued, station, **extra)
    # the older-form detainer, relayed in 2025 by a station from its records
    d18 = D[18]
    d18.form_type, d18.form_revision, d18.warrant_form = "I-247D", "5/15", None
    d18.event_number = f"BOS1611{rng.randint(0, 999999):06d}"
    # make the second detainer for the same person keep identity but differ in event/subject wording
    D[20].subject_id = D[5].subject_id

    cover_std = {"re": "Immigration Detainer"}

    def fax(rid_label: str, channel: str, station: str | None, when: datetime, fmt: str, res: str | None,
            pages: list[Page], sender: FaxSender | None, kind: str = "detainer", **kw: object) -> ReceiptPlan:
        plan = ReceiptPlan(
            id="", channel=channel, station=station, received_local=when, fmt=fmt, resolution=res, kind=kind,
            pages=pages, sender=sender, sent_local=_sent_before(when, rng) if sender else None, label=rid_label,
        )
        for k, v in kw.items():
            setattr(plan, k, v)
        return b.add(plan)

    OF = OFFICES

    # ---- arrivals (local times) ---------------------------------------------------------------
    fax("Q001", "dedicated_fax", None, _local(2024, 12, 9, 10, 14, 37), "tiff_g4", "fine",
        b.packet(D[1], cover=cover_std), OF["BOS"].fax)
    fax("Q002-st", "station_fax", "E-13", _local(2024, 12, 31, 23, 18, 5), "tiff_g4", "standard",
        b.packet(D[2]), OF["BOS"].fax)
    fax("Q002-mail", "bfs_email", None, _local(2025, 1, 2, 9, 5, 41), "pdf_image", "fine",
        b.packet(D[2]), OF["BOS"].fax, message_key="M-efax-q002", content_type="application/pdf")
    fax("D-court-2024", "station_fax", "C-6", _local(2024, 12, 18, 15, 2, 11), "tiff_g4", "fine",
        [Page("other", "decoy:court_notice", data={"variant": 0})], DECOY_SENDERS["court"], kind="decoy")

    fax("Q003", "dedicated_fax", None, _local(2025, 1, 8, 8, 47, 19), "tiff_g3", "fine",
        b.packet(D[3], cover=cover_std), OF["BOS"].fax)
    fax("Q003-mail", "bfs_email", None, _local(2025, 1, 8, 9, 12, 3), "pdf_text", None,
        b.packet(D[3]), None, message_key="M-q003", content_type="application/pdf")
    fax("D-cover-alone", "dedicated_fax", None, _local(2025, 1, 15, 16, 41, 50), "tiff_g4", "standard",
        [Page("fax_cover", "cover", D[4], {"re": "Immigration Detainer", "pages": 5, "alone": True})],
        OF["BUR"].fax, kind="decoy")
    fax("Q004", "station_fax", "C-6", _local(2025, 1, 21, 13, 30, 44), "tiff_g4", "fine",
        b.packet(D[4], cover=cover_std), OF["BUR"].fax)
    fax("Q005", "station_fax", "B-2", _local(2025, 2, 3, 11, 2, 17), "pdf_image", "standard",
        b.packet(D[5], cover=cover_std), OF["BOS"].fax)
    fax("D-court-feb", "station_fax", "C-6", _local(2025, 2, 5, 9, 55, 30), "tiff_g4", "fine",
        [Page("other", "decoy:court_notice", data={"variant": 1})], DECOY_SENDERS["court"], kind="decoy")
    fax("Q006-mail", "bfs_email", None, _local(2025, 2, 14, 10, 21, 9), "pdf_text", None,
        b.packet(D[6]), None, message_key="M-q006", content_type="application/octet-stream")
    fax("Q006-st", "station_fax", "A-1", _local(2025, 2, 14, 14, 6, 52), "tiff_g4", "fine",
        b.packet(D[6], cover=cover_std), OF["BOS"].fax)
    fax("D-booking-feb", "station_fax", "B-2", _local(2025, 2, 20, 2, 14, 38), "tiff_g3", "standard",
        [Page("other", "decoy:booking_report", data={"variant": 0})], DECOY_SENDERS["sheriff"], kind="decoy")
    # two packets in one transmission
    fax("Q007+Q008", "dedicated_fax", None, _local(2025, 2, 27, 15, 33, 21), "pdf_image", "fine",
        b.packet(D[7], cover={"re": "Immigration Detainers (2)"}) + b.packet(D[8]), OF["HAR"].fax)
    fax("D-letter-pd", "bfs_email", None, _local(2025, 3, 4, 11, 48, 2), "pdf_text", None,
        [Page("other", "decoy:letter_pd")], None, kind="decoy", message_key="M-letter",
        content_type="application/pdf")
    fax("Q009", "station_fax", "D-4", _local(2025, 3, 11, 19, 42, 5), "tiff_lzw", "fine",
        b.packet(D[9], cover=cover_std), OF["NYC"].fax)
    fax("Q010", "station_fax", "C-6", _local(2025, 3, 20, 7, 58, 12), "tiff_g4", "standard",
        b.packet(D[10], cover=cover_std), OF["BOS"].fax)
    fax("Q010-resend", "station_fax", "C-6", _local(2025, 3, 20, 8, 24, 40), "tiff_g4", "fine",
        b.packet(D[10], cover=cover_std), OF["BOS"].fax, notes="re-sent to the same station")
    fax("D-bolo-mar", "station_fax", "E-13", _local(2025, 3, 26, 12, 10, 8), "tiff_g4", "fine",
        [Page("other", "decoy:bolo", data={"variant": 0})], DECOY_SENDERS["state_police"], kind="decoy")
    fax("B-empty", "station_fax", "D-4", _local(2025, 3, 31, 6, 2, 0), "empty_pdf", None, [], None,
        kind="broken", broken_reason="empty")
    fax("Q011-mail", "bfs_email", None, _local(2025, 4, 2, 14, 55, 31), "tiff_g4", "fine",
        b.packet(D[11], cover=cover_std), OF["BOS"].fax, message_key="M-efax-q011", content_type="image/tiff")
    fax("Q011-ded", "dedicated_fax", None, _local(2025, 4, 2, 16, 3, 58), "tiff_g4", "fine",
        b.packet(D[11], cover=cover_std), OF["BOS"].fax)
    fax("Q012", "station_fax", "E-18", _local(2025, 4, 15, 21, 37, 26), "pdf_scan_gray", None,
        b.packet(D[12]), OF["BUR"].fax)
    fax("D-warrant-only", "dedicated_fax", None, _local(2025, 4, 22, 10, 7, 45), "tiff_g4", "fine",
        [Page("fax_cover", "cover", D[13], {"re": "Warrant of Arrest (I-200) - no detainer"}),
         Page("i200", "i200", b.detainer(None, P(), "BOS", date(2025, 4, 21)))],
        OF["BOS"].fax, kind="decoy")
    fax("Q013", "dedicated_fax", None, _local(2025, 4, 29, 12, 19, 3), "tiff_g4", "fine",
        b.packet(D[13], cover=cover_std, order="warrant_first"), OF["BOS"].fax)
    fax("Q014", "station_fax", "A-1", _local(2025, 5, 7, 3, 51, 22), "tiff_g3", "standard",
        b.packet(D[14]), OF["NEW"].fax)
    p14 = b.packet(D[14])[:1]
    p14[0].rotation = 0
    fax("Q014-photo", "bfs_email", None, _local(2025, 5, 7, 7, 40, 15), "jpeg_photo", None,
        p14, OF["NEW"].fax, message_key="M-photo-q014", content_type="image/jpeg", header_total=4, header_pages=[1])
    fax("D-subpoena", "bfs_email", None, _local(2025, 5, 13, 15, 2, 27), "pdf_text", None,
        [Page("other", "decoy:subpoena", data={"page": 1}), Page("other", "decoy:subpoena", data={"page": 2})],
        None, kind="decoy", message_key="M-subpoena", content_type="application/pdf")
    fax("Q015-mail", "bfs_email", None, _local(2025, 5, 20, 9, 33, 50), "pdf_text", None,
        b.packet(D[15]), None, message_key="M-q015", content_type="application/pdf")
    fax("Q015-fwd", "bfs_email", None, _local(2025, 5, 21, 8, 2, 13), "pdf_text", None,
        b.packet(D[15]), None, message_key="M-q015-fwd", content_type="application/pdf", same_bytes_as="Q015-mail")
    fax("B-truncated", "dedicated_fax", None, _local(2025, 5, 27, 13, 44, 9), "truncated_tiff", "fine",
        b.packet(b.detainer(None, P(), "BOS", date(2025, 5, 27))), OF["BOS"].fax, kind="broken",
        broken_reason="truncated", truncate=True)
    fax("Q016", "station_fax", "B-2", _local(2025, 6, 3, 17, 25, 0), "tiff_g4", "fine",
        b.packet(D[16], drop=("notice3",)), OF["BOS"].fax, notes="page 3 of the I-247A missing",
        header_total=4, header_pages=[1, 2, 4])
    fax("D-court-jun", "dedicated_fax", None, _local(2025, 6, 10, 11, 12, 41), "tiff_g4", "fine",
        [Page("other", "decoy:court_notice", data={"variant": 2})], DECOY_SENDERS["court"], kind="decoy")
    fax("Q017", "dedicated_fax", None, _local(2025, 6, 17, 10, 2, 36), "tiff_g4", "standard",
        b.packet(D[17], cover=cover_std), OF["BUR"].fax)
    fax("Q017-st", "station_fax", "C-11", _local(2025, 6, 17, 10, 6, 2), "tiff_g4", "standard",
        b.packet(D[17]), OF["BUR"].fax)
    fax("Q018", "station_fax", "C-11", _local(2025, 6, 30, 22, 48, 19), "tiff_g4", "fine",
        b.packet(D[18], cover={"re": "Detainer on file - relay (I-247D)"}), DECOY_SENDERS["sheriff"])
    fax("D-booking-jul", "station_fax", "D-4", _local(2025, 7, 1, 4, 30, 55), "tiff_g4", "standard",
        [Page("other", "decoy:booking_report", data={"variant": 1})], DECOY_SENDERS["pd"], kind="decoy")
    fax("Q019-mail", "bfs_email", None, _local(2025, 7, 9, 16, 20, 8), "pdf_text", None,
        b.packet(D[19]), None, message_key="M-q019", content_type="application/pdf",
        file_name="../../detainers/I-247A_signed.pdf")
    fax("Q020", "station_fax", "B-2", _local(2025, 7, 15, 9, 12, 29), "tiff_g4", "fine",
        b.packet(D[20], cover=cover_std), OF["BOS"].fax)
    fax("B-encrypted", "bfs_email", None, _local(2025, 7, 22, 13, 5, 40), "encrypted_pdf", None,
        b.packet(D[21]), None, kind="broken", broken_reason="encrypted", message_key="M-encrypted",
        content_type="application/pdf")
    fax("Q021", "station_fax", "E-13", _local(2025, 7, 28, 18, 40, 11), "pdf_image", "fine",
        b.packet(D[21], cover=cover_std), OF["HAR"].fax)
    fax("Q021-mail", "bfs_email", None, _local(2025, 7, 28, 18, 52, 37), "pdf_image", "fine",
        b.packet(D[21], cover=cover_std), OF["HAR"].fax, message_key="M-efax-q021", content_type="application/pdf")
    fax("Q022", "dedicated_fax", None, _local(2025, 8, 6, 14, 15, 3), "tiff_g3", "fine",
        b.packet(D[22], cover=cover_std), OF["BOS"].fax)
    fax("D-letter-da", "station_fax", "A-1", _local(2025, 8, 12, 10, 44, 16), "tiff_g4", "fine",
        [Page("other", "decoy:letter_da")], DECOY_SENDERS["da"], kind="decoy")
    p23 = b.packet(D[23])[:1]
    p23[0].rotation = 90
    fax("Q023-photo", "bfs_email", None, _local(2025, 8, 19, 6, 58, 2), "png_photo", None,
        p23, OF["BOS"].fax, message_key="M-inline-q023", content_type="image/png", header_total=4,
        header_pages=[1])
    # the cancellation of Q012
    cancel = b.detainer(None, D[12].person, D[12].office.key, date(2025, 8, 25), "E-18",
                        cancels_previous=True, cancelled_detainer_date=D[12].issued_date,
                        cancels_request_id="Q012")
    cancel.subject_id, cancel.event_number = D[12].subject_id, D[12].event_number
    cancel.probable_cause, cancel.requested_actions, cancel.warrant_form = [], [], None
    fax("C-Q012", "dedicated_fax", None, _local(2025, 8, 26, 9, 31, 48), "tiff_g4", "fine",
        [Page("fax_cover", "cover", cancel, {"re": "CANCELLATION of Immigration Detainer"}),
         Page("detainer_p1", "p1", cancel)], OF["BUR"].fax)
    fax("Q024", "dedicated_fax", None, _local(2025, 9, 2, 11, 8, 30), "pdf_image", "standard",
        b.packet(D[24]), OF["BUR"].fax)
    fax("Q024-st", "station_fax", "D-4", _local(2025, 9, 2, 11, 15, 4), "tiff_g4", "fine",
        b.packet(D[24], cover=cover_std), OF["BUR"].fax)
    fax("D-bolo-sep", "bfs_email", None, _local(2025, 9, 9, 8, 1, 19), "pdf_image", "fine",
        [Page("other", "decoy:bolo", data={"variant": 1})], DECOY_SENDERS["state_police"], kind="decoy",
        message_key="M-bolo", content_type="application/pdf")
    q25 = b.packet(D[25])
    q25[-1].fed_upside_down, q25[-1].rotation = True, 180
    fax("Q025", "station_fax", "E-18", _local(2025, 9, 16, 15, 27, 33), "tiff_g4", "fine",
        q25, OF["BOS"].fax, notes="warrant page fed upside down")
    p26 = b.packet(D[26])[:1]
    p26[0].rotation = 180
    fax("Q026-photo", "bfs_email", None, _local(2025, 9, 30, 20, 11, 6), "jpeg_photo", None,
        p26, OF["NEW"].fax, message_key="M-photo-q026", content_type="image/jpeg", header_total=4,
        header_pages=[1])
    fax("D-records", "station_fax", "C-11", _local(2025, 10, 7, 14, 3, 52), "tiff_lzw", "fine",
        [Page("fax_cover", "cover", None, {"re": "Records request", "generic": True}),
         Page("other", "decoy:records_request")], DECOY_SENDERS["pd"], kind="decoy")
    q27 = b.packet(D[27])
    q27[1].rotation = 90
    fax("Q027", "station_fax", "C-6", _local(2025, 10, 14, 12, 0, 48), "pdf_scan_gray", None,
        q27, OF["BOS"].fax, notes="notice page scanned sideways")
    fax("B-docx", "bfs_email", None, _local(2025, 10, 21, 10, 30, 0), "docx", None, [], None,
        kind="broken", broken_reason="unsupported_format", message_key="M-docx",
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        file_name="Detainer request - draft.docx")
    fax("Q028", "station_fax", "A-1", _local(2025, 10, 28, 16, 45, 59), "tiff_g4", "fine",
        b.packet(D[28], cover=cover_std), OF["BUR"].fax)

    fax("D-roster", "dedicated_fax", None, _local(2025, 11, 3, 7, 12, 40), "tiff_g4", "fine",
        [Page("other", "decoy:roster", data={"page": i, "of": 3}) for i in (1, 2, 3)],
        DECOY_SENDERS["sheriff"], kind="decoy")
    fax("D-hit", "station_fax", "E-18", _local(2025, 11, 12, 3, 14, 51), "tiff_g3", "standard",
        [Page("other", "decoy:hit_confirmation")], DECOY_SENDERS["state_police"], kind="decoy")

    _messages(b)
    _finalise(b)
    return Scenario(seed, b.requests, b.receipts, b.messages)


def _messages(b: _Builder) -> None:
    by_label = {r.label: r for r in b.receipts}
    Q = b.requests

    def m(key: str, label: str | None, from_name: str, from_addr: str, subject: str, body: str, **kw: object) -> None:
        r = by_label[label] if label else None
        when: datetime = r.received_local if r else kw.pop("when")  # type: ignore[assignment]
        sent = when - timedelta(seconds=b.rng.randint(4, 40))
        plan = MessagePlan(key, when, sent, from_addr, from_name, BFS_ADDRESS, subject, body,
                           [label] if label else [])
        for k, v in kw.items():
            setattr(plan, k, v)
        b.messages.append(plan)

    efax_from = "message@inbound.efax.example"
    m("M-efax-q002", "Q002-mail", "eFax", efax_from,
      "eFax from ICE ERO BOSTON - 4 page(s), caller ID: 617-555-0143",
      "You have received a 4 page fax at 2025-01-02 09:04:58 AM EST.\n\n"
      "* The reference number for this fax is bos1_did12-1735826698-6175550143-47.\n\n"
      "Please visit www.efax.example/myaccount if you have any questions regarding this message.\n")
    d3 = Q["Q003"]
    m("M-q003", "Q003-mail", d3.officer_name.split(". ")[1].title() + ", " + d3.officer_name[0], d3.office.email,
      f"Immigration Detainer - {d3.person.surname}",
      "Good morning,\n\nPlease see the attached immigration detainer (I-247A) and warrant. "
      "The subject is believed to be in your custody. Please notify this office prior to release.\n\n"
      f"Thank you,\n{d3.officer_name}\n{d3.officer_title}\nICE ERO {d3.office.city}\n{d3.office.phone}\n")
    d6 = Q["Q006"]
    m("M-q006", "Q006-mail", "ERO Boston Detainers", d6.office.email,
      "I-247A / I-200",
      "Attached please find a detainer and warrant for a subject booked at District A-1 last night.\n"
      "A copy has also been faxed to the district.\n\nERO Boston\n")
    m("M-letter", "D-letter-pd", "Committee for Public Counsel Services (fictional)", "intake@publiccounsel.example",
      "Records request - detainers", "Please see the attached letter.\n\nRegards,\nPublic Counsel Intake Unit\n")
    m("M-efax-q011", "Q011-mail", "eFax", efax_from,
      "eFax from ICE ERO BOSTON - 4 page(s), caller ID: 617-555-0143",
      "You have received a 4 page fax. The fax is attached to this email as a TIFF file.\n")
    d14 = Q["Q014"]
    m("M-photo-q014", "Q014-photo", "Sgt. Dana Whitfield", f"d.whitfield@{MAIL_DOMAIN}",
      "detainer A-1 overnight",
      "BFS - this came in on our fax overnight for a prisoner we're holding. Photo attached, "
      "original is in the booking folder.\n\nSgt. Whitfield, A-1 desk\n\nSent from my iPhone\n")
    del d14
    m("M-subpoena", "D-subpoena", "Keller & Osei LLP (fictional)", "docket@kellerosei.example",
      "Subpoena - Keeper of Records", "Counsel, please find attached a subpoena duces tecum.\n")
    d15 = Q["Q015"]
    m("M-q015", "Q015-mail", d15.officer_name, d15.office.email,
      f"Detainer lodged - {d15.person.surname}",
      "Please see attached I-247A with accompanying warrant. Kindly confirm receipt.\n\n"
      f"{d15.officer_name}\n{d15.officer_title}\n")
    m("M-q015-fwd", "Q015-fwd", "Lt. Marcus Ferreira", f"m.ferreira@{MAIL_DOMAIN}",
      f"FW: Detainer lodged - {d15.person.surname}", "", forwarded_of="M-q015",
      forwarder_note="Forwarding for BFS logging - not sure this one made it into the binder.\n\nLt. Ferreira\n")
    d16 = Q["Q016"]
    m("M-nodoc", None, d16.officer_name, d16.office.email, "Did you receive our detainer?",
      "Good afternoon,\n\nWe faxed an immigration detainer to District B-2 earlier today. "
      "Could you please confirm it was received? No attachment - the fax is the official copy.\n\n"
      f"{d16.officer_name}\n", when=_local(2025, 6, 3, 17, 58, 14), no_document=True)
    m("M-q019", "Q019-mail", "ERO New York Detainers", Q["Q019"].office.email,
      "Detainer notice", "Attached.\n")
    m("M-encrypted", "B-encrypted", "ERO Hartford", Q["Q021"].office.email,
      "SECURE: detainer documents",
      "This message contains a password-protected attachment. The password will be sent separately.\n")
    m("M-efax-q021", "Q021-mail", "eFax", efax_from,
      "eFax from ERO HFD - 5 page(s), caller ID: 860-555-0162",
      "You have received a 5 page fax. The fax is attached to this email as a PDF file.\n")
    m("M-inline-q023", "Q023-photo", "Officer P. Santangelo", f"p.santangelo@{MAIL_DOMAIN}",
      "photo of detainer",
      "see below\n", html_inline=True)
    m("M-bolo", "D-bolo-sep", "Commonwealth Fusion Center (fictional)", "bulletins@fusion.state.example",
      "BOLO - attempt to identify", "Law enforcement sensitive. Please disseminate to patrol.\n")
    m("M-photo-q026", "Q026-photo", "Det. Aisha Rahman", f"a.rahman@{MAIL_DOMAIN}",
      "Fwd pic - ICE paper",
      "Got this from ICE at the courthouse. Picture attached.\n", folder="new", flags="")
    m("M-docx", "B-docx", "ERO Newark", OFFICES["NEW"].email, "Detainer request (draft)",
      "Please see attached.\n", folder="new", flags="")
    b.messages.sort(key=lambda mp: mp.received_local)


def _finalise(b: _Builder) -> None:
    """Order receipts by arrival, give ids, paths, file names and metadata sources."""
    b.receipts.sort(key=lambda r: (r.received_local, CHANNEL_ORDER.index(r.channel)))
    for i, r in enumerate(b.receipts, 1):
        r.id = f"R{i:03d}"
    ext = {"tiff_g4": "tif", "tiff_g3": "tif", "tiff_lzw": "tif", "truncated_tiff": "tif", "pdf_image": "pdf",
           "pdf_text": "pdf", "pdf_scan_gray": "pdf", "empty_pdf": "pdf", "encrypted_pdf": "pdf",
           "jpeg_photo": "jpg", "png_photo": "png", "docx": "docx"}
    for r in b.receipts:
        e = ext[r.fmt]
        if r.channel == "dedicated_fax":
            name = f"{b.fax_name()}.{e}"
            r.file_name, r.path = name, f"dedicated/{name}"
            r.received_from = "sidecar" if e == "pdf" else "tiff_datetime"
            if r.sender is None:
                r.sender_value = None
            elif e == "pdf":  # the sidecar's caller ID
                r.sender_value = r.sender.number
            else:  # the TSI in ImageDescription: E.164 when it is a number, else the text
                r.sender_value = tsi_value(r.sender.tsi)
            if r.truncate:  # the tags went with the lost end of the file: only the mtime is left
                r.received_from, r.sender_value = "mtime", None
        elif r.channel == "station_fax":
            t = r.received_local
            prefix = "SCAN" if r.fmt == "pdf_scan_gray" else "FAX"
            name = f"{prefix}_{t:%Y%m%d_%H%M%S}.{e}"
            r.file_name, r.path = name, f"stations/{r.station}/{name}"
            r.received_from = "mtime"
            r.sender_value = None
        else:
            r.received_from = "received_header"
    # messages: names, ids, attachment file names
    by_label = {r.label: r for r in b.receipts}
    for n, mp in enumerate(b.messages, 1):
        epoch = int(mp.received_local.timestamp())
        base = f"{epoch}.M{100000 + n * 7919 % 90000}P{2000 + n}.mail.dept.example"
        mp.path = f"mailbox/{mp.folder}/{base}" + (f":2,{mp.flags}" if mp.folder == "cur" else "")
        dom = mp.from_addr.split("@")[1]
        mp.message_id = f"<{mp.sent_local:%Y%m%d%H%M%S}.{n:04d}.{b.rng.randint(10**7, 10**8 - 1)}@{dom}>"
        for label in mp.attachments:
            r = by_label[label]
            r.path = mp.path
            r.sender_value = mp.from_addr
            r.message_key = mp.key
            r.attachment_index = 0
            if not r.file_name:
                r.file_name = _attachment_name(r, b)


def tsi_value(tsi: str) -> str:
    """A TSI as the fax server's metadata gives it: E.164 when it is a phone number, else the text."""
    digits = "".join(ch for ch in tsi if ch.isdigit())
    if tsi.strip().lstrip("+").replace("-", "").replace(" ", "").isdigit() and len(digits) >= 10:
        return "+" + digits if tsi.strip().startswith("+") or len(digits) == 11 else "+1" + digits
    return tsi.strip()


def _attachment_name(r: ReceiptPlan, b: _Builder) -> str:
    det = next((p.detainer for p in r.pages if p.detainer is not None), None)
    t = r.received_local
    if r.fmt in ("jpeg_photo",):
        return f"IMG_{4000 + int(t.strftime('%j')) * 3}.jpg"
    if r.fmt == "png_photo":
        return "image001.png"
    if r.message_key and r.message_key.startswith("M-efax"):
        return f"FAX_{t:%Y%m%d}_{t:%H%M%S}_{b.rng.randint(1000, 9999)}.{'tif' if r.fmt.startswith('tiff') else 'pdf'}"
    if r.kind == "decoy":
        return {"D-letter-pd": "Letter_re_detainer_records.pdf", "D-subpoena": "Subpoena_DucesTecum.pdf",
                "D-bolo-sep": "BOLO_2025-0917.pdf"}.get(r.label, "document.pdf")
    if r.fmt == "encrypted_pdf":
        return "SECURE_I-247A.pdf"
    if det is not None:
        return f"I-247A_{det.person.surname.split()[0].replace('-', '')}_{det.issued_date:%m%d%Y}.pdf"
    return "attachment.pdf"
