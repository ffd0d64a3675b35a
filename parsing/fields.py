"""Field parsers: OCR text -> normalised values. Pure functions, no I/O.

Each returns None when the text does not hold a valid value; callers flag the field
for review instead of guessing.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz, process

from parsing.officer import split_officer

# Characters Tesseract commonly reads instead of digits inside numeric fields.
_DIGIT_LOOKALIKES = str.maketrans({
    "O": "0", "o": "0", "Q": "0", "D": "0", "U": "0",
    "I": "1", "l": "1", "i": "1", "|": "1", "!": "1", "L": "1", "J": "1",
    "Z": "2", "z": "2", "S": "5", "s": "5", "B": "8", "G": "6", "b": "6", "g": "9", "q": "9", "T": "7",
})


def ascii_digits(text: str) -> str:
    """Digits of any script (full-width ``３``, Arabic-Indic ``٣``...) as ASCII, so values compare as printed."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def digits_of(text: str) -> str:
    """Lookalike-corrected ASCII digits of a numeric token."""
    return re.sub(r"[^0-9]", "", ascii_digits(text).translate(_DIGIT_LOOKALIKES))


# --------------------------------------------------------------------------- A-number

_A_NUMBER = re.compile(r"^[A4]?\s*[-:#.]?\s*([0-9OoIlSBZ|][0-9OoIlSBZ|\s\-.]{5,14}[0-9OoIlSBZ|])$")


def normalize_a_number(text: str | None) -> str | None:
    """``A`` + 9 digits from any common spelling (A012345678, A 012 345 678, A012-345-678,
    012-345-678, 7-9 digits); None when the text is not an A-number."""
    if not text:
        return None
    cleaned = re.sub(r"^[^0-9A-Za-z]+", "", ascii_digits(text)).strip().strip(".,;:").upper()
    cleaned = cleaned.replace("NO.", "").replace("#", "")
    cleaned = re.sub(r"^(FILE\s*N[O0]?\s*:?)", "", cleaned).strip()
    # A leading 'A' may be read as '4' only when that leaves 7-9 digits after it.
    body = cleaned
    if body[:1] == "A":
        body = body[1:]
    body = body.strip(" -:._")
    # Q: a zero whose dot or slash (a monospace face's) OCR read as a tail; _: the rule the
    # value is typed on, read between its groups.
    if not re.fullmatch(r"[0-9OQILSBZ|\s\-._]+", body):
        return None
    digits = digits_of(body)
    if len(digits) == 10 and cleaned[:1] == "4":  # 'A' misread as '4'
        digits = digits[1:]
    if not 7 <= len(digits) <= 9:
        return None
    return "A" + digits.zfill(9)


# --------------------------------------------------------------------------- dates

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
            ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
            ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
# A slash may come back as a degree sign ("07°20/1980"): small print at 200 dpi.
_NUMERIC_DATE = re.compile(
    r"(?<![\dA-Za-z])([0-9OoIl|]{1,4})\s*[/\-.:°]\s*([0-9OoIl|]{1,2})\s*[/\-.:°]\s*([0-9OoIl|]{2,4})(?![\d])"
)
_SPECK_IN_NUMBER = re.compile(r"(?<=\d)[.,'](?=\d\s*/)")
# "0809/1991": the first separator lost.
_GLUED_DATE = re.compile(r"(?<![\d])([0-9OoIl]{2})([0-9OoIl]{2})\s*[/\-.]\s*([0-9OoIl]{4})(?![\d])")
_WORD_DATE_MDY = re.compile(rf"(?i)\b({_MONTH_RE})\.?\s+([0-9OoIl]{{1,2}})(?:st|nd|rd|th)?,?\s+([0-9OoIl]{{4}})\b")
_WORD_DATE_DMY = re.compile(rf"(?i)\b([0-9OoIl]{{1,2}})[\s\-]+({_MONTH_RE})\.?[\s\-,]+([0-9OoIl]{{2,4}})\b")


def _year(text: str, *, pivot: int = 40) -> int:
    value = int(digits_of(text))
    if len(digits_of(text)) <= 2:
        value += 2000 if value < pivot else 1900
    return value


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(text: str | None) -> date | None:
    """The first date in ``text`` (US order for numeric dates; ISO accepted)."""
    if not text:
        return None
    # A speck read inside a number of a slashed date ("1.1/18/2003"): not a separator.
    text = _SPECK_IN_NUMBER.sub("", text)
    match = _NUMERIC_DATE.search(text)
    if match:
        a, b, c = match.groups()
        da, db = digits_of(a), digits_of(b)
        if len(da) == 4:  # ISO yyyy-mm-dd
            return _make(int(da), int(db), int(digits_of(c)))
        if da and db and digits_of(c):
            return _make(_year(c), int(da), int(db))
    match = _GLUED_DATE.search(text)
    if match:
        return _make(int(digits_of(match.group(3))), int(digits_of(match.group(1))), int(digits_of(match.group(2))))
    match = _WORD_DATE_MDY.search(text)
    if match:
        return _make(_year(match.group(3)), _MONTHS[match.group(1).lower()], int(digits_of(match.group(2))))
    match = _WORD_DATE_DMY.search(text)
    if match:
        return _make(_year(match.group(3)), _MONTHS[match.group(2).lower()], int(digits_of(match.group(1))))
    return None


# --------------------------------------------------------------------------- people

_SEX = {"m": "M", "male": "M", "f": "F", "female": "F", "u": "U", "unknown": "U", "x": "X"}


# Sex printed as a word ("Male", "FEMALE", "Unknown"): a reading this close to one word, and
# clearly closer to it than to the others, is that word ("Maie", "Fernale", "Unknowm").
SEX_WORD_SCORE = 74.0
SEX_WORD_MARGIN = 10.0


def normalize_sex(text: str | None) -> str | None:
    """The sex code as the form prints it: M, F, U (unknown) or X, from the code or the word."""
    if not text or not text.strip():
        return None
    token = re.sub(r"[^a-z]", "", text.strip().lower().split()[0])
    if token in _SEX:
        return _SEX[token]
    for key in ("female", "male", "unknown"):  # OCR noise around a full word
        if key in text.lower():
            return _SEX[key]
    if len(token) >= 3:
        scores = sorted(((fuzz.ratio(token, word), word) for word in ("male", "female", "unknown")), reverse=True)
        (best, word), (second, _) = scores[0], scores[1]
        if best >= SEX_WORD_SCORE and best - second >= SEX_WORD_MARGIN:
            return _SEX[word]
    return None


def clean_text(text: str | None) -> str | None:
    """Collapse whitespace and strip stray punctuation that OCR leaves at the edges."""
    if not text:
        return None
    value = re.sub(r"\s+", " ", text).strip(" \t_:;|,.-—–=~*[]{}«»\"'")
    return value or None


# A capital I read as "!" or "|" after two capitals, inside or at the end of a word ("ADEYEM!"): no name
# holds either mark.
_BAR_FOR_CAPITAL_I = re.compile(r"(?<=[A-Z]{2})[!|](?=[A-Z]|\b|,|$)")


def normalize_name(text: str | None) -> str | None:
    value = clean_text(re.sub(r"^[^\w]+", "", text or ""))
    if not value:
        return None
    value = _BAR_FOR_CAPITAL_I.sub("I", value)
    value = re.sub(r"\s*,\s*", ", ", value)
    if sum(word in _SENTENCE_WORDS for word in re.findall(r"[a-z]+", value.lower())) >= 2:
        return None  # a line of the form's own text read where a name stands on another edition
    return value if re.search(r"[A-Za-z]{2}", value) else None


# English words of running text that are not parts of people's names (name particles such as
# "de", "del", "la", "van" are left out on purpose); two of them make a line a sentence.
_SENTENCE_WORDS = frozenset(
    "the is are was be been this that these those from to for with by named below above person alien "
    "removable united states have has which who whose and or not".split()
)


@cache
def countries() -> tuple[str, ...]:
    path = Path(__file__).with_name("templates") / "countries.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def normalize_officer(text: str | None) -> str | None:
    """The name of an officer's line, its title left out (before or after it: "DO Jennifer
    Ortiz", "R. Brennan, Deportation Officer"). A name printed "J. Nguyen" keeps (or regains)
    its initial's period when OCR dropped it or read it as a comma or dash."""
    value = normalize_name(split_officer(text)[0])
    if value is None or any(c.isdigit() for c in value):  # a fax header or a slip ("3 Nguyen")
        return None
    if len(value.split()) > 4:  # a line of form text read in the name's place
        return None
    match = re.match(r"^([A-Z])(?:\s*[.,\-]\s*|\s+)([A-Za-z].*)$", value)
    if match:
        return f"{match.group(1)}. {match.group(2)}"
    return value


def normalize_officer_title(text: str | None) -> str | None:
    """The title of an officer's line, as listed in ``templates/officer_titles.txt`` (an
    abbreviation written out), or an unlisted title after a comma as read."""
    title = split_officer(text)[1]
    return clean_text(title) if title else None


def normalize_citizenship(text: str | None) -> str | None:
    """Upper-case country name; snapped to the known list when OCR garbled a letter or two."""
    value = clean_text(text)
    if not value or not re.search(r"[A-Za-z]{3}", value):
        return None
    value = value.upper()
    words = value.split()
    # Longest leading run of words first: trailing OCR noise ("NIGERIA : ON") drops off.
    for count in range(len(words), 0, -1):
        candidate = clean_text(" ".join(words[:count])) or ""
        if candidate in countries():
            return candidate
        best = process.extractOne(candidate, countries(), scorer=fuzz.ratio, score_cutoff=85)
        if best is not None:
            return str(best[0])
    return value


def normalize_identifier(text: str | None) -> str | None:
    """Subject ID / Event #: opaque alphanumerics. Spaces and stray marks inside ("JA93\\74")
    are OCR artefacts; a vertical bar is the stroke of an I or a 1."""
    value = clean_text(text)
    if not value:
        return None
    value = re.sub(r"[^0-9A-Za-z]", "", ascii_digits(value).replace("|", "I"))
    return value or None


# Per-position shapes of identifiers ("AAA9999999999": three letters, ten digits).
_LETTER_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "2": "Z", "4": "A", "5": "S", "6": "G", "7": "T", "8": "B"})


def apply_shape(value: str, shape: str) -> str | None:
    """``value`` forced into ``shape`` (A = letter, 9 = digit, X = either), each position
    corrected through its lookalikes (8 -> B where a letter belongs, O -> 0 where a digit
    does); None when the length differs or a position cannot be corrected."""
    if len(value) != len(shape):
        return None
    out = []
    for char, kind in zip(value.upper(), shape, strict=True):
        if kind == "A":
            char = char.translate(_LETTER_LOOKALIKES)
            if not ("A" <= char <= "Z"):
                return None
        elif kind == "9":
            char = char.translate(_DIGIT_LOOKALIKES)
            if not char.isdigit():
                return None
        elif not char.isalnum():
            return None
        out.append(char)
    return "".join(out)


# --------------------------------------------------------------------------- phones

def normalize_phone(text: str | None) -> str | None:
    """A North American number as E.164 ``+1XXXXXXXXXX``; other international numbers as ``+digits``."""
    if not text:
        return None
    if re.fullmatch(r"[+\d\s().\-OoIl]+", text.strip()):
        digits = digits_of(text)
    else:
        digits = re.sub(r"[^0-9]", "", ascii_digits(text))
    if len(digits) == 10:
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    if text.strip().startswith("+") and 8 <= len(digits) <= 15:
        return "+" + digits
    return None
