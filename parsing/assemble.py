"""Pages -> packets -> DetainerRequest records, with validation and review flags.

A packet is one detainer form's page 1 plus the pages that travel with it: its
notice-to-detainee pages and its warrant (I-200 / I-205). Cover sheets and unrelated
pages belong to no packet. Pages may come out of order or be missing: a page joins
the packet whose A-number it prints, else the nearest page 1 before it, else the
first page 1 after it.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any, get_args

from rapidfuzz import fuzz

from parsing.consensus import consensus
from parsing.fieldvalue import FieldValue
from parsing.header import FaxHeader, parse_sent_at, sent_at_texts
from parsing.models import (
    DetainerRequest,
    FieldEvidence,
    FormType,
    PageKind,
    PageResult,
    ProbableCause,
    RequestedAction,
)
from parsing.pipeline import PageOutput
from parsing.templates import templates

ATTACHED = (PageKind.detainee_notice, PageKind.i200, PageKind.i205)
WARRANT_FORMS = {PageKind.i200: "I-200", PageKind.i205: "I-205"}
PC_ORDER: tuple[str, ...] = get_args(ProbableCause)
ACTION_ORDER: tuple[str, ...] = get_args(RequestedAction)
FORM_TYPES: tuple[str, ...] = get_args(FormType)
SCALAR_FIELDS = (
    "subject_id", "event_number", "file_number", "issued_date", "to_institution", "from_office", "subject_name",
    "date_of_birth", "citizenship", "sex", "cancelled_detainer_date", "officer_name", "officer_title",
)
# A line without a listed title ("Robert K. Lee") has none to read: not a misreading for review.
NO_VALUE_IS_NOT_INVALID = ("officer_title",)
# Read from the officer's line like the name, which is reviewed; the title alone counts nothing.
NOT_REVIEWED = ("officer_title",)
LOW_CONFIDENCE = 0.45
# Identity values read from a coarse page (a standard-resolution fax, a scan, a photo) are exact
# far less often than their agreeing readings suggest (bench/results/accuracy.md: 14-57 % per
# field on standard faxes), so their confidence stays below the ledger's trusted level
# (dedupe.trusted_confidence, 0.8): they can support a match but never veto one.
COARSE_PAGE_CONFIDENCE = 0.7
COARSE_CAPPED = ("event_number", "file_number", "date_of_birth")  # the ledger's UNSURE_FIELDS
EARLIEST_FORM_DATE = date(2011, 1, 1)  # the oldest I-247 edition still seen
# A detainer is faxed within days of being issued: a date read after the fax is corrected
# only to a date a digit away in this many days before it.
ISSUED_BEFORE_FAX_DAYS = 7
CORRECTED_DATE_CONFIDENCE = 0.4  # below LOW_CONFIDENCE: a person confirms it


def one_digit_before(read: date, sent: date) -> date | None:
    """The one date whose printed MM/DD/YYYY differs from ``read``'s in one digit and falls
    within ISSUED_BEFORE_FAX_DAYS up to (and the day after) ``sent``; None for none or several."""
    text = read.strftime("%m%d%Y")
    earliest, latest = sent - timedelta(days=ISSUED_BEFORE_FAX_DAYS), sent + timedelta(days=1)
    found = set()
    for position, printed in enumerate(text):
        for digit in "0123456789":
            if digit == printed:
                continue
            candidate = text[:position] + digit + text[position + 1:]
            try:
                day = date(int(candidate[4:]), int(candidate[:2]), int(candidate[2:4]))
            except ValueError:
                continue
            if earliest <= day <= latest:
                found.add(day)
    return found.pop() if len(found) == 1 else None


def page_result(out: PageOutput) -> PageResult:
    return PageResult(
        page=out.number,
        kind=out.kind,
        rotation=out.rotation,
        text_layer=out.text_layer,
        looked=out.looked,
        mean_confidence=out.mean_confidence,
        fax_sender_number=out.sender_number,
        fax_sent_at=out.sent_at,
    )


def group_packets(pages: list[PageOutput]) -> list[list[PageOutput]]:
    """Each packet starts with its page 1; attached pages follow in page order."""
    anchors = [p for p in pages if p.kind is PageKind.detainer_p1]
    if not anchors:
        return []
    members: dict[int, list[PageOutput]] = {a.number: [a] for a in anchors}
    numbers = {a.number: _value(a, "file_number") for a in anchors}
    for page in pages:
        if page.kind not in ATTACHED:
            continue
        owner = next((n for n, fn in numbers.items() if fn and fn in page.a_numbers), None)
        if owner is None:
            before = [a.number for a in anchors if a.number < page.number]
            owner = before[-1] if before else anchors[0].number
        members[owner].append(page)
    return [sorted(members[a.number], key=lambda p: p.number) for a in anchors]


def _value(page: PageOutput, name: str) -> Any:
    found = page.fields.get(name)
    return found.value if found is not None else None


def build_request(packet: list[PageOutput], all_pages: list[PageOutput], today: date | None = None) -> DetainerRequest:
    # The packet is in page order; its warrant may come before the form's page 1.
    p1 = next(p for p in packet if p.kind is PageKind.detainer_p1)
    fields: dict[str, FieldValue] = dict(p1.fields)
    form_type = p1.form_type if p1.form_type in FORM_TYPES else "I-247A"
    values: dict[str, Any] = {}
    evidence: dict[str, FieldEvidence] = {}
    unparsed: list[str] = []
    for name in SCALAR_FIELDS:
        found = fields.get(name)
        if found is None:
            continue
        if found.value is None:
            if name not in NO_VALUE_IS_NOT_INVALID:
                unparsed.append(name)
        else:
            values[name] = found.value
        evidence[name] = found.evidence
    _vote_across_pages(packet, p1, values, evidence, unparsed)
    _vote_officer(packet, all_pages, values, evidence)
    _officer_title_from_warrant(packet, values, evidence)
    probable: list[str] = []
    actions: list[str] = []
    for key, found in fields.items():
        if ":" not in key and key not in ("transferred_for_proceeding", "cancels_previous"):
            continue
        evidence[key] = found.evidence
        if not found.value:
            continue
        group, _, option = key.partition(":")
        if group == "probable_cause":
            probable.append(option)
        elif group == "requested_actions":
            actions.append(option)
        else:
            values[group] = True
    values["probable_cause"] = sorted(probable, key=PC_ORDER.index)
    values["requested_actions"] = sorted(actions, key=ACTION_ORDER.index)
    if not values.get("cancels_previous"):
        values.pop("cancelled_detainer_date", None)
    elif values.get("cancelled_detainer_date") is None:
        # A cancellation names the date of the detainer it cancels. A checked box without one
        # is likelier a misread mark (a photo's shadow) than a cancellation: the form counts as
        # a request, and a person looks; an uncounted request is the error this tool exists to stop.
        values["cancels_previous"] = False
        unparsed.append("cancels_previous")
    warrants = [WARRANT_FORMS[p.kind] for p in packet if p.kind in WARRANT_FORMS]
    sender, sent_at = fax_header_vote(all_pages, p1)
    issued = values.get("issued_date")
    if issued is not None and sent_at is not None and issued > sent_at.date() + timedelta(days=1):
        # Issued after it was faxed: a misread digit (2026 for 2025). The one date a digit away
        # that falls in the days before the fax is taken, doubtful (review); with none or
        # several, the date is left out, so it can neither date the request nor keep copies apart.
        corrected = one_digit_before(issued, sent_at.date())
        if corrected is None:
            values.pop("issued_date")
            unparsed.append("issued_date")
        else:
            values["issued_date"] = corrected
            evidence["issued_date"] = evidence["issued_date"].model_copy(
                update={"confidence": CORRECTED_DATE_CONFIDENCE})
    # The footer naming the revision is small print; the notice pages repeat it.
    revision = p1.form_revision or next((p.form_revision for p in packet if p.form_revision), None)
    request = DetainerRequest(
        form_type=form_type,  # type: ignore[arg-type]
        form_revision=revision,
        warrant_form=warrants[0] if warrants else None,  # type: ignore[arg-type]
        fax_sender_number=sender,
        fax_sent_at=sent_at,
        source_pages=[p.number for p in packet],
        evidence=evidence,
        **values,
    )
    if p1.coarse:
        for name in COARSE_CAPPED:
            if name in request.evidence and request.evidence[name].confidence > COARSE_PAGE_CONFIDENCE:
                request.evidence[name] = request.evidence[name].model_copy(
                    update={"confidence": COARSE_PAGE_CONFIDENCE})
    reasons = validate(request, p1, unparsed, today=today)
    request.needs_review = bool(reasons)
    request.review_reasons = reasons
    return request


def fax_header_vote(pages: list[PageOutput], first: PageOutput) -> tuple[str | None, datetime | None]:
    """Every page of one transmission carries the same sender and send time in its header
    line; OCR slips differ from page to page (a dotted zero read as 6 here, as 8 there), so
    each value is the one most pages agree on (ties: the form's page 1, then page order)."""
    ordered = [first, *[p for p in pages if p is not first]]

    def vote(values: list[Any]) -> Any:
        present = [v for v in values if v is not None]
        if not present:
            return None
        counts = Counter(present)
        best = max(counts.values())
        return next(v for v in present if counts[v] == best)

    sender = vote([p.sender_number for p in ordered])
    sent_at = vote([p.sent_at for p in ordered])
    headers = [p.header for p in ordered if p.header is not None]
    if sent_at is not None and sum(1 for h in headers if h.sent_at == sent_at) * 2 <= len(headers):
        # No majority ("2-02-2025" on page 1, "1-02-2025" on page 2, "1-82-2025" on page 4): the
        # printed date votes glyph by glyph across the pages. The time does not: a header font's
        # dotted zero is misread the same way on most pages ("16:12" for "10:12").
        day = _voted_day(headers)
        if day is not None:
            sent_at = sent_at.replace(year=day.year, month=day.month, day=day.day)
    return sender, sent_at


def _voted_day(headers: list[FaxHeader]) -> date | None:
    texts = [found[0] for h in headers if (found := sent_at_texts(h.raw)) is not None]
    voted = consensus(texts)
    if voted is None or voted.total < 2:
        return None
    parsed = parse_sent_at(voted.value)
    return parsed.date() if parsed is not None else None


def _vote_officer(
    packet: list[PageOutput], all_pages: list[PageOutput], values: dict[str, Any], evidence: dict[str, FieldEvidence]
) -> None:
    """The officer is named on page 1, on the I-200 he signs and usually on the cover sheet;
    OCR slips in a name rarely repeat, so the name most of them agree on wins (page 1 on a tie)."""
    p1 = next(p for p in packet if p.kind is PageKind.detainer_p1)
    sources = [p1]
    sources += [p for p in packet if p.kind is PageKind.i200]
    sources += [p for p in all_pages if p.kind is PageKind.fax_cover and p.number < p1.number]
    readings = [(p, p.fields["officer_name"]) for p in sources
                if "officer_name" in p.fields and p.fields["officer_name"].value]
    if not readings:
        return
    counts = Counter(found.value for _, found in readings)
    best = max(counts.values())
    if best < 2 and "officer_name" in values:
        # No agreement: keep what page 1 says, unless page 1 lost the initial another page
        # prints with the same surname ("Nguyen" beside "J. Nguyen").
        fuller = next((f for _, f in readings if f.value.endswith(" " + values["officer_name"])
                       and re.fullmatch(r"[A-Z]\. \S.*", f.value)), None)
        # ... or another page reads the same name (a letter or two apart) more surely. The
        # sender of a cover sheet or the signer of the warrant may be someone else: a
        # different name never replaces page 1's.
        ours = evidence.get("officer_name")
        surer = max((f for _, f in readings if fuzz.ratio(f.value, values["officer_name"]) >= 75
                     and ours is not None and f.evidence.confidence > ours.confidence),
                    key=lambda f: f.evidence.confidence, default=None)
        chosen = fuller or surer
        if chosen is not None:
            values["officer_name"] = chosen.value
            evidence["officer_name"] = chosen.evidence
        return
    winner = next(found for _, found in readings if counts[found.value] == best)
    values["officer_name"] = winner.value
    evidence["officer_name"] = winner.evidence


def _officer_title_from_warrant(
    packet: list[PageOutput], values: dict[str, Any], evidence: dict[str, FieldEvidence]
) -> None:
    """Page 1's officer line without a title read: the title the same officer signs the I-200
    with (the warrant's signer may be someone else: only under the same name)."""
    if values.get("officer_title") is not None or values.get("officer_name") is None:
        return
    for page in packet:
        name, title = page.fields.get("officer_name"), page.fields.get("officer_title")
        if page.kind is PageKind.i200 and name is not None and title is not None and title.value \
                and name.value and fuzz.ratio(name.value, values["officer_name"]) >= 90:
            values["officer_title"] = title.value
            evidence["officer_title"] = title.evidence
            return


# Where each value is printed in a packet besides page 1 (every page-1 field also votes
# with its own enlarged re-reads).
VOTE_PAGES: dict[str, tuple[PageKind, ...]] = {
    "subject_id": (PageKind.detainee_notice,),
    "file_number": (PageKind.detainee_notice, PageKind.i200, PageKind.i205),
    "issued_date": (PageKind.i200, PageKind.i205),
    "subject_name": (PageKind.i200, PageKind.i205),
}
DATE_FIELDS = ("issued_date", "date_of_birth", "cancelled_detainer_date")
VOTED_FIELDS = ("subject_id", "event_number", "file_number", "issued_date", "subject_name", "date_of_birth",
                "cancelled_detainer_date")


def _vote_across_pages(
    packet: list[PageOutput], p1: PageOutput, values: dict[str, Any], evidence: dict[str, FieldEvidence],
    unparsed: list[str],
) -> None:
    """Each key value becomes the character-level consensus of all its readings in the
    packet: page 1's (first, so it wins ties), its enlarged re-reads, then the other pages
    that print it."""
    for name in VOTED_FIELDS:
        kinds = VOTE_PAGES.get(name, ())
        sources = [p1, *[p for p in packet if p.kind in kinds]]
        found = [(p, p.fields[name]) for p in sources if name in p.fields and p.fields[name].readings]
        readings = [_as_text(r) for _, f in found for r in f.readings]
        result = consensus(readings)
        if result is None:
            continue
        value = _from_text(name, result.value)
        if value is None:
            continue
        agreement = 0.5 + 0.5 * result.agree / result.total
        if name in values and value == values[name]:
            if result.agree >= 2:
                evidence[name] = evidence[name].model_copy(
                    update={"confidence": round(max(evidence[name].confidence, agreement), 3)})
            continue
        # The value changed (or page 1 had none): evidence from the first page that read it.
        source = next((f for _, f in found if value in f.readings), found[0][1])
        confidence = round(agreement if result.agree >= 2 else min(source.evidence.confidence, 0.7), 3)
        values[name] = value
        evidence[name] = source.evidence.model_copy(update={"confidence": confidence})
        if name in unparsed:
            unparsed.remove(name)


def _as_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _from_text(name: str, text: str) -> Any:
    if name not in DATE_FIELDS:
        return text
    try:
        return date.fromisoformat(text)
    except ValueError:  # positions voted into an impossible date: no consensus
        return None


def required_fields(form_type: str) -> tuple[str, ...]:
    for template in templates():
        if template.form_type == form_type and template.required:
            return template.required
    return ("file_number", "issued_date", "subject_name", "date_of_birth")


def validate(
    request: DetainerRequest, p1: PageOutput, unparsed: list[str], today: date | None = None
) -> list[str]:
    """Rule slugs and field names only: review reasons are logged and must hold no values."""
    today = today or date.today()
    reasons: list[str] = []
    for name in required_fields(request.form_type):
        if getattr(request, name) is None:
            reasons.append(f"{name}:invalid" if name in unparsed else f"{name}:missing")
    for name in unparsed:
        slug = f"{name}:invalid"
        if slug not in reasons:
            reasons.append(slug)
    issued, dob = request.issued_date, request.date_of_birth
    if issued is not None and not (EARLIEST_FORM_DATE <= issued <= today + timedelta(days=1)):
        reasons.append("issued_date:impossible")
    if dob is not None and not (date(1900, 1, 1) <= dob <= today):
        reasons.append("date_of_birth:impossible")
    if dob is not None and issued is not None and dob >= issued:
        reasons.append("date_of_birth:after_issued_date")
    if not request.cancels_previous:
        if request.form_type == "I-247A" and not request.probable_cause and not request.transferred_for_proceeding:
            reasons.append("probable_cause:no_box_checked")
        if request.probable_cause and request.transferred_for_proceeding:
            reasons.append("probable_cause:box_1_and_box_2")
        if not request.requested_actions and request.form_type in ("I-247A", "I-247D"):
            reasons.append("requested_actions:none_checked")
    elif request.cancelled_detainer_date is None:
        reasons.append("cancelled_detainer_date:missing")
    for name, ev in request.evidence.items():
        if name in NOT_REVIEWED:
            continue
        if ev.confidence < LOW_CONFIDENCE and getattr(request, name.partition(":")[0], None) not in (None, [], False):
            reasons.append(f"{name}:low_confidence")
    if p1.mean_confidence is not None and p1.mean_confidence < 0.55:
        reasons.append("page:low_ocr_confidence")
    if p1.layout_only:
        reasons.append("page:recognised_by_layout")
    return reasons


def assemble(pages: list[PageOutput], today: date | None = None) -> tuple[list[PageResult], list[DetainerRequest]]:
    pages = sorted(pages, key=lambda p: p.number)
    results = [page_result(p) for p in pages]
    requests = [build_request(packet, pages, today) for packet in group_packets(pages)]
    return results, requests


