"""Detainer evidence: what on a page says a detainer may be here, even when no form page was recognised.

A packet whose I-247 page 1 OCR could not read (upside down, blurred, blacked out) still
carries its warrant page, its notice-to-detainee pages, form footers and the word
"detainer" on its cover. Each page gets evidence *slugs* (never text: the page holds
personal data); a document with evidence but no recognised detainer is a possible detainer,
which the ledger queues for a person instead of counting it as an "other document".

Slugs: ``warrant_page:I-200`` / ``warrant_page:I-205`` and ``notice_page`` (page kinds the
templates recognised), ``form_footer:<form>`` (e.g. ``form_footer:I-247A``, ``form_footer:I-200``),
``title`` ("Immigration Detainer"), ``word:detainer``.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from parsing.layout import fold
from parsing.models import PageKind

WARRANT_KINDS = {PageKind.i200: "I-200", PageKind.i205: "I-205"}
# OCR slips in a form number: I read as 1, l or |; the hyphen lost or read as a dash or a dot.
_FORM = re.compile(r"\bform\s*[i1l|]\s*[-–.~]?\s*(2[0o]{2}|2[0o]5|247)\s*([adnx])?\b", re.IGNORECASE)
TITLE = "immigration detainer"
TITLE_SCORE = 85.0  # rapidfuzz partial ratio: one or two OCR slips in the 21 letters
WORD = "detainer"
WORD_SCORE = 85.0  # ratio of one word: one slip in 8 letters ("detalner", "detainer.")
# Real words one letter from "detainer": they say nothing of a detainer form (the notice pages say "detainee").
NEIGHBOURS = frozenset({"detainee", "detainees", "detained", "detaining", "detains", "retainer", "retainers"})


def page_evidence(text: str, kind: PageKind) -> list[str]:
    """Evidence slugs of one page from its OCR text and recognised kind, in a fixed order."""
    found: list[str] = []
    if kind in WARRANT_KINDS:
        found.append(f"warrant_page:{WARRANT_KINDS[kind]}")
    if kind is PageKind.detainee_notice:
        found.append("notice_page")
    folded = fold(text)
    for form in form_footers(text):
        found.append(f"form_footer:{form}")
    if _has_title(folded):
        found.append("title")
    if _has_word(folded):
        found.append(f"word:{WORD}")
    return found


def form_footers(text: str) -> list[str]:
    """Form names printed on the page ("DHS Form I-247A", "Form I-200"), OCR slips folded."""
    forms: list[str] = []
    for match in _FORM.finditer(text):
        number = match.group(1).lower().replace("o", "0")
        suffix = (match.group(2) or "").upper() if number == "247" else ""
        form = f"I-{number}{suffix}"
        if form not in forms:
            forms.append(form)
    return forms


def _has_title(folded: str) -> bool:
    if TITLE in folded:
        return True
    return len(folded) >= len(TITLE) and fuzz.partial_ratio(TITLE, folded) >= TITLE_SCORE


def _has_word(folded: str) -> bool:
    for token in re.findall(r"[a-z0-9]+", folded):
        if len(token) < len(WORD) - 1 or len(token) > len(WORD) + 2 or token in NEIGHBOURS:
            continue
        stem = token[: len(WORD)]
        if stem == WORD or fuzz.ratio(stem, WORD) >= WORD_SCORE:
            return True
    return False


def document_evidence(
    pages: list[tuple[list[str], PageKind, list[str]]], recognised: int
) -> list[str]:
    """A document's possible-detainer evidence from its pages' (evidence, kind, A-numbers).

    No recognised detainer: every page's evidence (a doubt, not a count). With ``recognised``
    detainer forms: only warrants for more distinct people than there are forms
    (``warrants_exceed_forms``), a possible second detainer whose page 1 was lost. Empty: no doubt.
    """
    if recognised == 0:
        slugs: list[str] = []
        for evidence, _, _ in pages:
            slugs += [s for s in evidence if s not in slugs]
        return slugs
    people: list[str] = []
    for _, kind, a_numbers in pages:
        if kind in WARRANT_KINDS and a_numbers:
            number = a_numbers[0]
            # Two readings an OCR slip or two apart are one A-number, not two people.
            if all(Levenshtein.distance(number, seen) > 2 for seen in people):
                people.append(number)
    return ["warrants_exceed_forms"] if len(people) > recognised else []
