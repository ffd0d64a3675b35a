"""The fax header line (47 CFR 68.318(d)) every received page carries.

Three styles are seen (see shared/reference/forms-and-fax.md):
  HylaFAX tagline  ``From +16175551234   Jan 12 2025 10:32   Page 1 of 4``
  machine TTI      ``01-31-2005 10:00 FROM: TOSHIBA +1-714-583-0000 T-123 P.001/003 F-030``
  fax server       ``4/22/2020 3:42 PM    FROM:+15558127619 Acme Inc.   TO:15559876543     Pag.2/3``
The parser does not need to know the style: it looks for the date/time, the number
after FROM (never the one after TO) and the page counter independently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from parsing.fields import _MONTH_RE, _MONTHS, digits_of, normalize_phone

_D = r"[0-9OoIl|]"
_NUM_DATE = re.compile(rf"(?<![\d])({_D}{{1,2}})\s?[/\-.]\s?({_D}{{1,2}})\s?[/\-.]\s?({_D}{{4}}|{_D}{{2}})(?!\d)")
_ISO_DATE = re.compile(rf"(?<![\d])({_D}{{4}})[/\-.:]({_D}{{2}})[/\-.:]({_D}{{2}})(?!\d)")
_WORD_DATE = re.compile(rf"(?i)\b({_MONTH_RE})\.?\s+({_D}{{1,2}}),?\s+({_D}{{4}})\b")
_TIME = re.compile(
    rf"(?<![\d])({_D}{{1,2}})\s?[:.]\s?({_D}{{2}})(?:\s?[:.]\s?({_D}{{2}}))?(?:\s*([AaPp])\.?\s?[Mm]\.?)?(?![\d])"
)
_FROM = re.compile(r"(?i)\bF\s?R\s?[O0]\s?M\b\s*[:.;]?")
_TO = re.compile(r"(?i)(?<![A-Za-z])T\s?[O0]\s*[:;]")
_PHONE = re.compile(r"\+?\s?(?:1[\s\-.]?)?\(?[0-9OoIl]{3}\)?[\s\-.]?[0-9OoIl]{3}[\s\-.]?[0-9OoIl]{4}(?![\d])")
_PAGE = re.compile(
    r"(?i)(?:\bPa?ge?\.?|\bPag\.?|\bP\.?)\s*([0-9OoIl]{1,3})\s*(?:of|/)\s*([0-9OoIl]{1,3})\b"
)


HEADER_BAND = 0.06  # the header line sits in the top 6% of the page


@dataclass(frozen=True)
class FaxHeader:
    sender_number: str | None
    sent_at: datetime | None
    page: int | None
    total: int | None
    raw: str


def parse_sent_at(text: str, tz: str = "America/New_York") -> datetime | None:
    """The send time in ``text`` (a header line, or its date and time alone)."""
    return _sent_at(" ".join(text.split()), ZoneInfo(tz))


def parse_header(line: str, tz: str = "America/New_York") -> FaxHeader | None:
    """Parse one header line; None when it does not look like a fax header at all."""
    text = " ".join(line.split())
    if not text:
        return None
    sender = _sender(text)
    sent_at = _sent_at(text, ZoneInfo(tz))
    page = _PAGE.search(text)
    number = total = None
    if page:
        number, total = int(digits_of(page.group(1)) or 0), int(digits_of(page.group(2)) or 0)
    if sender is None and sent_at is None:
        return None
    if sum(x is not None for x in (sender, sent_at, page)) < 2:
        return None
    return FaxHeader(sender, sent_at, number, total, text)


def _sender(text: str) -> str | None:
    match = _FROM.search(text)
    if not match:
        return None
    rest = text[match.end():]
    stop = _TO.search(rest)
    if stop:
        rest = rest[: stop.start()]
    # The page counter and TTI job fields are not part of the number.
    rest = _PAGE.sub(" ", rest)
    for phone in _PHONE.finditer(rest):
        number = normalize_phone(phone.group(0))
        if number:
            return number
    return None


def _repair_year(year: int) -> int:
    """Header fonts often print a dotted or slashed zero that OCR reads as 6, 8 or 9
    ("2625"): an impossible year gets those digits read as zeros."""
    latest = date.today().year + 1
    if 1990 <= year <= latest:
        return year
    text = f"{year:04d}"
    for index in (1, 2):
        if text[index] in "689":
            candidate = int(text[:index] + "0" + text[index + 1:])
            if 1990 <= candidate <= latest:
                return candidate
    return year


def sent_at_texts(line: str) -> tuple[str, str] | None:
    """The date and the time as printed in a header line (for a vote across pages), or None."""
    scrubbed = _PHONE.sub(" ", " ".join(line.split()))
    match = _WORD_DATE.search(scrubbed) or _ISO_DATE.search(scrubbed) or _NUM_DATE.search(scrubbed)
    if match is None:
        return None
    clock = _TIME.search(scrubbed[match.end():] + " " + scrubbed[: match.start()])
    return match.group(0), clock.group(0) if clock else ""


def _sent_at(text: str, zone: ZoneInfo) -> datetime | None:
    # Remove phone numbers first: their digit groups look like dates and times.
    scrubbed = _PHONE.sub(" ", text)
    day = None
    match = _WORD_DATE.search(scrubbed)
    if match:
        day = (int(digits_of(match.group(3))), _MONTHS[match.group(1).lower()], int(digits_of(match.group(2))))
    else:
        match = _ISO_DATE.search(scrubbed)
        if match:
            day = (int(digits_of(match.group(1))), int(digits_of(match.group(2))), int(digits_of(match.group(3))))
        else:
            match = _NUM_DATE.search(scrubbed)
            if match:
                year = int(digits_of(match.group(3)))
                if year < 100:
                    year += 2000
                day = (year, int(digits_of(match.group(1))), int(digits_of(match.group(2))))
    if day is None or match is None:
        return None
    day = (_repair_year(day[0]), day[1], day[2])
    after = scrubbed[match.end():] + " " + scrubbed[: match.start()]
    clock = _TIME.search(after)
    hour = minute = second = 0
    if clock:
        hour, minute = int(digits_of(clock.group(1))), int(digits_of(clock.group(2)))
        second = int(digits_of(clock.group(3))) if clock.group(3) else 0
        meridiem = (clock.group(4) or "").lower()
        if meridiem == "p" and hour < 12:
            hour += 12
        elif meridiem == "a" and hour == 12:
            hour = 0
    try:
        return datetime(day[0], day[1], day[2], hour, minute, second, tzinfo=zone)
    except ValueError:
        return None
