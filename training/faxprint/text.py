"""Training lines: what the key-field re-read sees, as text.

Identifiers (subject IDs, event numbers, A-numbers in their printed styles), dates, officer
names, institutions and form labels. Made up here from the tuned family's name material
(samplegen), never from the held-out family's generator."""

from __future__ import annotations

import random
import string

from samplegen.scenario import NAME_POOLS, OFFICER_SURNAMES, OFFICER_TITLES, OFFICES

_ALNUM = string.ascii_uppercase + string.digits
_GIVEN = ("James", "Maria", "Robert", "Linda", "Michael", "Karen", "David", "Susan", "Thomas", "Angela",
          "Patrick", "Denise", "Kevin", "Laura", "Brian", "Monica", "Carlos", "Teresa", "Samuel", "Irene")
_TITLE_ABBR = ("DO", "SDDO", "IEA", "AFOD", "SA", "SSA", "ERO")
_LABELS = ("File No:", "File No.:", "File #:", "A-File:", "Event #:", "Event No:", "Event Number:",
           "Subject ID:", "Subject  ID:", "FINS:", "Date:", "Date Issued:", "Date of Birth:", "DOB:",
           "Name:", "Nationality:", "Sex:", "Gender:", "Signature:", "To:", "From:", "Title:",
           "Name and Title of Immigration Officer", "Date of Action:", "Case No.:")
_STREETS = ("Main Street", "Federal Plaza", "Court Square", "Harbor Road", "Liberty Avenue", "Commerce Drive")
_INSTITUTIONS = ("County Sheriff's Office", "House of Correction", "Police Department", "Detention Center",
                 "Department of Correction", "Jail Booking Unit", "Regional Jail", "State Prison")
_TOWNS = ("Springfield", "Fairview", "Riverton", "Lakewood", "Greenville", "Kingston", "Ashland", "Milford")


def _alnum(rng: random.Random, n: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def a_number(rng: random.Random) -> str:
    d = _digits(rng, 9)
    if rng.random() < 0.2:
        d = "0" + _digits(rng, 8)
    styles = (f"A{d}", f"A {d[:3]} {d[3:6]} {d[6:]}", f"{d[:3]}-{d[3:6]}-{d[6:]}", f"A{d[:3]}-{d[3:6]}-{d[6:]}",
              f"A{d.lstrip('0') or '0'}", f"A-{d}", f"{d}")
    return rng.choice(styles)


def subject_id(rng: random.Random) -> str:
    if rng.random() < 0.45:
        return _digits(rng, rng.choice((8, 9, 10)))
    return _alnum(rng, rng.choice((8, 9, 10)))


def event_number(rng: random.Random) -> str:
    office = rng.choice(list(OFFICES))[:3].upper() if rng.random() < 0.6 else _alnum(rng, 3, string.ascii_uppercase)
    return f"{office}{rng.randint(15, 29):02d}{rng.randint(1, 12):02d}{_digits(rng, 6)}"


def a_date(rng: random.Random) -> str:
    y, m, d = rng.randint(1950, 2027), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice((f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y}", f"{m:02d}-{d:02d}-{y}",
                       f"{m:02d}/{d:02d}/{y % 100:02d}"))


def person_name(rng: random.Random) -> str:
    surnames, men, women, _ = NAME_POOLS[rng.choice(list(NAME_POOLS))]
    given = rng.choice(men + women)
    surname = rng.choice(surnames)
    style = rng.randrange(3)
    if style == 0:
        return f"{surname}, {given}"
    if style == 1:
        return f"{given} {surname.title()}"
    return f"{surname} {given.upper()}"


def officer(rng: random.Random) -> str:
    surname = rng.choice(OFFICER_SURNAMES + tuple(name.title() for pool in NAME_POOLS.values() for name in pool[0][:2]))
    first = rng.choice(_GIVEN)
    name = rng.choice((f"{first[0]}. {surname}", f"{first} {surname}", f"{first[0]}.{surname}"))
    style = rng.randrange(4)
    if style == 0:
        return f"{rng.choice(_TITLE_ABBR)} {name}"
    if style == 1:
        return f"{name}, {rng.choice(OFFICER_TITLES)}"
    return name


def institution(rng: random.Random) -> str:
    town = rng.choice(_TOWNS)
    kind = rng.random()
    if kind < 0.4:
        return f"{town} {rng.choice(_INSTITUTIONS)}"
    if kind < 0.7:
        number, street = rng.randint(1, 999), rng.choice(_STREETS)
        state = rng.choice(("MA", "NY", "TX", "CA", "FL"))
        return f"{number} {street}, {town}, {state} {_digits(rng, 5)}"
    return f"{town.upper()} {rng.choice(_INSTITUTIONS).upper()}"


_VALUES = (a_number, subject_id, event_number, a_date, person_name, officer, institution)
_WEIGHTS = (4, 4, 4, 4, 1.5, 1.5, 1)


def line(rng: random.Random) -> str:
    """One training line: a value, sometimes after its label, sometimes two values."""
    maker = rng.choices(_VALUES, _WEIGHTS)[0]
    text = maker(rng)
    roll = rng.random()
    if roll < 0.2:
        text = f"{rng.choice(_LABELS)} {text}"
    elif roll < 0.25:
        text = f"{text}   {rng.choices(_VALUES, _WEIGHTS)[0](rng)}"
    return text
