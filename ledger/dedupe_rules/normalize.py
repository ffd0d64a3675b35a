"""Identifiers and names in the one form copies are compared in: OCR look-alikes folded."""

from __future__ import annotations

import re
import unicodedata

_OCR_DIGITS = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "|": "1", "S": "5", "B": "8", "Z": "2"})
_OCR_LETTERS = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "6": "G", "4": "A", "3": "E", "7": "T"})


def normalize_file_number(value: str | None) -> str | None:
    """A-numbers as ``A`` + 9 digits; OCR look-alikes (O/I/S/B) read as digits."""
    if not value:
        return None
    text = re.sub(r"[^0-9A-Za-z|]", "", value).upper()
    if text.startswith("A"):
        text = text[1:]
    digits = text.translate(_OCR_DIGITS)
    if digits.isdigit() and 7 <= len(digits) <= 9:
        return "A" + digits.zfill(9)
    return ("A" + text) if text else None


def normalize_event_number(value: str | None) -> str | None:
    """Event numbers are opaque: upper-case alphanumerics, OCR look-alikes folded to digits."""
    if not value:
        return None
    text = re.sub(r"[^0-9A-Za-z]", "", value).upper().translate(_OCR_DIGITS)
    return text or None


def normalize_subject_id(value: str | None) -> str | None:
    """Subject IDs are opaque like event numbers: compared in the same OCR-folded form."""
    return normalize_event_number(value)


def normalize_name(value: str | None) -> str | None:
    """Upper-case letters and single spaces; accents dropped; OCR digits read as letters."""
    if not value:
        return None
    text = unicodedata.normalize("NFKD", value)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper().translate(_OCR_LETTERS)
    text = re.sub(r"[^A-Z]+", " ", text).strip()
    return text or None
