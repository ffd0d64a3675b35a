"""Dedupe rules as pure functions: no database."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from ledger.dedupe import (
    RULE_CANCELS,
    RULE_FIRST,
    RULE_FUZZY,
    RULE_OPERATOR,
    RULE_SAME_IDENTITY,
    RULE_UNLINKED,
    CopyFacts,
    DedupeConfig,
    assign,
    name_score,
    normalize_event_number,
    normalize_file_number,
    normalize_name,
    normalize_subject_id,
    pair,
    request_id_for,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CONFIG = DedupeConfig(issued_window_days=3, name_similarity=90.0, review_below=95.0)


def facts(
    key: str,
    minutes: int = 0,
    *,
    file: str | None = "A012345678",
    event: str | None = "BOS2503000111",
    issued: date | None = date(2025, 3, 1),
    name: str | None = "MARIA ELENA LOPEZ",
    dob: date | None = date(1988, 4, 12),
    channel_rank: int = 0,
    cancels: bool = False,
    cancelled_date: date | None = None,
) -> CopyFacts:
    return CopyFacts(
        key=key,
        order=(T0 + timedelta(minutes=minutes), channel_rank, f"src:{key}", 0),
        file_number=normalize_file_number(file),
        event_number=normalize_event_number(event),
        issued_date=issued,
        name=normalize_name(name),
        dob=dob,
        cancels_previous=cancels,
        cancelled_detainer_date=cancelled_date,
    )


def groups(result) -> set[frozenset[str]]:
    return {frozenset(members) for members in result.members.values()}


# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    "raw",
    ["A012345678", "A 012 345 678", "A012-345-678", "012345678", "a12345678", "AO12345678", "A0l2345678"],
)
def test_file_numbers_normalise_to_a_plus_nine_digits(raw):
    assert normalize_file_number(raw) == "A012345678"


def test_event_numbers_are_opaque_but_ocr_tolerant():
    assert normalize_event_number("bos-2503 000111") == "8052503000111"
    assert normalize_event_number("BOS2503OOO111") == normalize_event_number("BOS2503000111")
    assert normalize_event_number("") is None


def test_names_normalise_accents_order_and_ocr_digits():
    assert normalize_name("López, María-Elena") == "LOPEZ MARIA ELENA"
    assert name_score(normalize_name("LOPEZ, MARIA ELENA"), normalize_name("Maria Elena Lopez")) == 100.0
    assert name_score(normalize_name("MAR1A LOPEZ"), normalize_name("MARIA LOPEZ")) == 100.0
    assert name_score(None, "X") is None


def test_request_id_is_stable_and_free_of_personal_data():
    rid = request_id_for("ab" * 32 + ":0")
    assert rid == request_id_for("ab" * 32 + ":0")
    assert rid.startswith("REQ-") and len(rid) == 16


# --------------------------------------------------------------------------- rules


def test_rule_same_identity_merges_across_channels():
    result = assign([facts("a"), facts("b", 5, name="M LOPEZ", dob=None)], CONFIG)
    assert groups(result) == {frozenset({"a", "b"})}
    assert result.links["a"].rule == RULE_FIRST
    assert result.links["b"].rule == RULE_SAME_IDENTITY and result.links["b"].score == 100.0
    assert result.reviews == []


def test_request_founded_by_earliest_copy_whatever_the_input_order():
    copies = [facts("late", 60), facts("early", 0), facts("mid", 30)]
    for perm in itertools.permutations(copies):
        result = assign(list(perm), CONFIG)
        assert list(result.requests.values()) == ["early"]
        assert result.links["early"].rule == RULE_FIRST


def test_channel_order_breaks_ties_on_the_same_instant():
    dedicated = facts("zzz", 0, channel_rank=0)
    mail = facts("aaa", 0, channel_rank=2)
    assert list(assign([mail, dedicated], CONFIG).requests.values()) == ["zzz"]


def test_fuzzy_same_a_number_with_event_missing_merges_silently_when_all_else_agrees():
    result = assign([facts("a"), facts("b", 5, event=None)], CONFIG)
    assert groups(result) == {frozenset({"a", "b"})}
    assert result.links["b"].rule == RULE_FUZZY
    assert result.links["b"].score >= CONFIG.review_below
    assert result.reviews == []


def test_fuzzy_name_and_dob_without_a_number():
    result = assign([facts("a"), facts("b", 5, file=None, event=None)], CONFIG)
    assert groups(result) == {frozenset({"a", "b"})}
    assert result.links["b"].rule == RULE_FUZZY
    assert result.reviews == []


def test_ocr_noise_one_character_in_the_name_merges_but_goes_to_review():
    noisy = facts("b", 5, file=None, event=None, name="MARIA ELENA LOPEK")
    result = assign([facts("a"), noisy], CONFIG)
    assert groups(result) == {frozenset({"a", "b"})}
    assert CONFIG.name_similarity <= result.links["b"].score < CONFIG.review_below
    [review] = result.reviews
    assert (review.kind, review.copy_key, review.other_copy_key, review.default_decision) == (
        "match",
        "b",
        "a",
        "merge",
    )
    assert "same_name_dob" in review.reason


def test_ocr_confusable_letters_in_a_short_name_merge_with_review():
    a = facts("a", file=None, event=None, name="ANA RUIZ")
    b = facts("b", 5, file=None, event=None, name="ANA RUlZ")
    result = assign([a, b], CONFIG)
    assert groups(result) == {frozenset({"a", "b"})}
    assert [r.default_decision for r in result.reviews] == ["merge"]


def test_short_name_one_letter_off_with_same_dob_is_kept_apart_for_review():
    a = facts("a", file=None, event=None, name="ANA RUIZ")
    b = facts("b", 5, file=None, event=None, name="ANA RUIS")
    result = assign([a, b], CONFIG)
    assert len(result.requests) == 2
    [review] = result.reviews
    assert (review.default_decision, review.reason) == ("separate", "same_dob+name_near")


def test_ocr_noise_in_name_with_same_identity_needs_no_review():
    result = assign([facts("a"), facts("b", 5, name="MARlA ELENA L0PEZ")], CONFIG)
    assert groups(result) == {frozenset({"a", "b"})}
    assert result.reviews == []


def test_dropped_event_and_issued_date_a_day_off_merge_silently():
    result = assign([facts("a"), facts("b", 5, event=None, issued=date(2025, 3, 2))], CONFIG)
    assert groups(result) == {frozenset({"a", "b"})}
    assert result.reviews == []


def test_dropped_event_and_issued_date_at_the_window_edge_merge_with_review():
    result = assign([facts("a"), facts("b", 5, event=None, issued=date(2025, 3, 4))], CONFIG)
    assert groups(result) == {frozenset({"a", "b"})}
    assert [r.default_decision for r in result.reviews] == ["merge"]


def test_dropped_event_and_unknown_issued_date_merge_with_review():
    result = assign([facts("a"), facts("b", 5, event=None, issued=None)], CONFIG)
    assert groups(result) == {frozenset({"a", "b"})}
    assert len(result.reviews) == 1


def test_same_a_number_but_very_different_name_is_merged_for_review():
    result = assign([facts("a"), facts("b", 5, event=None, name="JOHN SMITH")], CONFIG)
    assert groups(result) == {frozenset({"a", "b"})}
    assert result.links["b"].score < CONFIG.review_below and len(result.reviews) == 1


# --------------------------------------------------------------------------- never merged


def test_never_merge_different_event_numbers_even_for_the_same_person():
    second = facts("b", 60 * 24 * 150, event="BOS2507000999", issued=date(2025, 7, 29))
    result = assign([facts("a"), second], CONFIG)
    assert groups(result) == {frozenset({"a"}), frozenset({"b"})}
    assert result.reviews == []


def test_never_merge_different_event_numbers_even_on_the_same_day():
    result = assign([facts("a"), facts("b", 5, event="BOS2503047912")], CONFIG)
    assert len(result.requests) == 2  # the same person, so shown for review (kept apart)
    assert [r.default_decision for r in result.reviews] == ["separate"]
    other_person = facts("b", 5, event="BOS2503047912", file="A987654321", name="JOHN SMITH")
    assert assign([facts("a"), other_person], CONFIG).reviews == []


def test_never_merge_issue_dates_beyond_the_window():
    later = facts("b", 5, event=None, issued=date(2025, 3, 1) + timedelta(days=CONFIG.issued_window_days + 1))
    result = assign([facts("a"), later], CONFIG)
    assert len(result.requests) == 2


def test_never_merge_different_a_numbers():
    other = facts("b", 5, file="A987654321", event=None)
    assert len(assign([facts("a"), other], CONFIG).requests) == 2


def test_a_number_one_digit_off_with_same_name_is_merged_for_review():
    other = facts("b", 5, file="A012345679", event=None)
    result = assign([facts("a"), other], CONFIG)
    assert len(result.requests) == 1
    [review] = result.reviews
    assert review.default_decision == "merge" and review.copy_key == "b"
    assert review.reason.startswith("near_identifiers")


def test_a_number_one_digit_off_with_another_name_is_another_request():
    other = facts("b", 5, file="A012345679", event=None, name="JOHN SMITH")
    result = assign([facts("a"), other], CONFIG)
    assert len(result.requests) == 2 and result.reviews == []


def test_a_number_three_digits_off_is_another_request_whatever_the_name():
    other = facts("b", 5, file="A012399979", event=None)
    assert len(assign([facts("a"), other], CONFIG).requests) == 2


def test_never_merge_same_name_with_different_birth_dates():
    other = facts("b", 5, file=None, event=None, dob=date(1988, 4, 13))
    assert len(assign([facts("a"), other], CONFIG).requests) == 2


def test_similar_names_below_the_threshold_do_not_merge():
    other = facts("b", 5, file=None, event=None, name="MARCO ANTONIO LOPEZ")
    result = assign([facts("a"), other], CONFIG)
    assert len(result.requests) == 2


def test_a_later_copy_cannot_bridge_two_requests_with_different_events():
    """A copy without event matching two requests joins one (the best/earliest), never fuses them."""
    a = facts("a", 0, event="E1")
    b = facts("b", 10, event="E2")
    c = facts("c", 20, event=None)
    result = assign([a, b, c], CONFIG)
    assert len(result.requests) == 2
    assert result.links["c"].request_id == result.links["a"].request_id


# --------------------------------------------------------------------------- cancellations


def test_cancellation_links_to_the_request_it_cancels_and_is_not_a_request():
    request = facts("a", 0)
    cancel = facts(
        "c", 60 * 24 * 30, event=None, issued=date(2025, 4, 1), cancels=True, cancelled_date=date(2025, 3, 1)
    )
    result = assign([cancel, request], CONFIG)
    assert set(result.requests.values()) == {"a"}
    assert "c" not in result.links
    link = result.cancellations["c"]
    assert (link.request_id, link.rule) == (result.links["a"].request_id, RULE_CANCELS)
    assert result.reviews == []


def test_cancellation_picks_the_request_by_cancelled_date_among_two_for_the_same_person():
    first = facts("a", 0, event="E1", issued=date(2025, 2, 3))
    second = facts("b", 60 * 24 * 160, event="E2", issued=date(2025, 7, 14))
    cancel = facts(
        "c",
        60 * 24 * 200,
        event=None,
        issued=date(2025, 8, 25),
        cancels=True,
        cancelled_date=date(2025, 2, 3),
    )
    result = assign([first, second, cancel], CONFIG)
    assert result.cancellations["c"].request_id == result.links["a"].request_id
    assert result.reviews == []


def test_cancellation_with_the_same_event_number_links_even_without_a_date():
    cancel = facts("c", 100, issued=date(2025, 4, 1), cancels=True, cancelled_date=None)
    result = assign([facts("a"), cancel], CONFIG)
    assert result.cancellations["c"].request_id == result.links["a"].request_id


def test_cancellation_without_a_matching_request_goes_to_review():
    cancel = facts("c", 100, file="A111111111", event=None, name="NOBODY KNOWN", cancels=True)
    result = assign([facts("a"), cancel], CONFIG)
    assert result.cancellations["c"].request_id is None
    assert result.cancellations["c"].rule == RULE_UNLINKED
    assert [r.kind for r in result.reviews] == ["cancellation"]


def test_cancellation_with_a_far_off_date_links_for_review():
    cancel = facts("c", 100, event=None, cancels=True, cancelled_date=date(2024, 1, 1))
    result = assign([facts("a"), cancel], CONFIG)
    assert result.cancellations["c"].request_id == result.links["a"].request_id
    assert [r.default_decision for r in result.reviews] == ["link"]


# --------------------------------------------------------------------------- operator decisions


def test_operator_merge_overrides_a_never_merge_rule():
    a, b = facts("a"), facts("b", 5, event="OTHER1")
    assert len(assign([a, b], CONFIG).requests) == 2
    result = assign([a, b], CONFIG, {pair("a", "b"): True})
    assert groups(result) == {frozenset({"a", "b"})}
    assert result.links["b"].rule == RULE_OPERATOR


def test_operator_separation_overrides_a_fuzzy_match():
    a, b = facts("a"), facts("b", 5, file=None, event=None, name="MARIA ELENA LOPEK")
    result = assign([a, b], CONFIG, {pair("b", "a"): False})
    assert len(result.requests) == 2
    assert result.reviews == []


def test_review_threshold_is_configurable():
    noisy = facts("b", 5, file=None, event=None, name="MARIA ELENA LOPEK")
    lenient = DedupeConfig(review_below=90.0)
    result = assign([facts("a"), noisy], lenient)
    assert len(result.requests) == 1 and result.reviews == []


# --------------------------------------------------------------------------- order independence


def _population(seed: int) -> list[CopyFacts]:
    rng = random.Random(seed)
    people = [
        (f"A{rng.randint(10**8, 10**9 - 1):09d}", name, date(1970 + i, 1 + i % 12, 1 + i % 28))
        for i, name in enumerate(["ANA RUIZ", "JOSE PEREZ", "LI WEI", "OMAR HASSAN", "MARIA LOPEZ", "ANA RUIZ"])
    ]
    out = []
    n = 0
    for p, (file, name, dob) in enumerate(people):
        for d in range(rng.randint(1, 2)):
            issued = date(2025, 1, 5) + timedelta(days=60 * d + p)
            event = f"E{p}{d}"
            for c in range(rng.randint(1, 3)):
                n += 1
                out.append(
                    facts(
                        f"k{n:03d}",
                        rng.randint(0, 5000),
                        file=file if rng.random() > 0.2 else None,
                        event=event if rng.random() > 0.3 else None,
                        issued=issued,
                        name=name if c == 0 else name[:-1] + "X",
                        dob=dob,
                        channel_rank=rng.randint(0, 2),
                    )
                )
        if rng.random() > 0.5:
            n += 1
            out.append(
                facts(
                    f"k{n:03d}",
                    6000,
                    file=file,
                    event=None,
                    issued=date(2025, 9, 1),
                    name=name,
                    dob=dob,
                    cancels=True,
                    cancelled_date=date(2025, 1, 5) + timedelta(days=p),
                )
            )
    return out


def _assert_order_independent(copies, seed):
    """Ten shuffles of ``copies`` give the same requests, links, cancellations and reviews."""
    expected = assign(copies, CONFIG)
    rng = random.Random(seed)
    for _ in range(10):
        shuffled = copies[:]
        rng.shuffle(shuffled)
        got = assign(shuffled, CONFIG)
        assert got.requests == expected.requests
        assert got.links == expected.links
        assert got.cancellations == expected.cancellations
        assert sorted(got.reviews, key=lambda r: r.key) == sorted(expected.reviews, key=lambda r: r.key)


@pytest.mark.parametrize("seed", range(5))
def test_assignment_depends_only_on_the_set_of_copies(seed):
    _assert_order_independent(_population(seed), seed)


def test_assignment_keeps_hundreds_of_people_with_common_names_apart():
    """500 people drawn from a few common names, three copies each within days of each other
    (shared name words make big candidate blocks). Its speed is measured by ``bench.dedupe``."""
    from bench.dedupe import synthetic_copies

    copies, person = synthetic_copies(500)
    result = assign(copies, CONFIG)
    assert len(result.requests) == 500
    assert all(len({person[k] for k in members}) == 1 for members in result.members.values())


# --------------------------------------------------------------------------- OCR slips in identifiers


def test_same_event_with_an_a_number_one_digit_off_merges_for_review():
    result = assign([facts("a"), facts("b", 5, file="A012345679")], CONFIG)
    assert groups(result) == {frozenset({"a", "b"})}
    [review] = result.reviews
    assert review.default_decision == "merge" and "file_number_near" in review.reason


def test_same_event_with_the_a_number_unread_merges():
    result = assign([facts("a"), facts("b", 5, file=None)], CONFIG)
    assert groups(result) == {frozenset({"a", "b"})}
    assert result.links["b"].rule == RULE_FUZZY and result.reviews == []


def test_same_event_but_a_different_a_number_and_name_is_never_merged():
    other = facts("b", 5, file="A987654321", name="JOHN SMITH")
    assert len(assign([facts("a"), other], CONFIG).requests) == 2


def test_same_event_and_name_under_a_misread_a_number_merges_for_review():
    result = assign([facts("a"), facts("b", 5, file="A987654321")], CONFIG)
    assert len(result.requests) == 1
    assert [r.default_decision for r in result.reviews] == ["merge"]


def test_event_number_one_or_two_characters_off_merges_for_review():
    for misread in ("BOS2503000117", "B0S250300011", "BOS2503OO0I17X"):
        result = assign([facts("a"), facts("b", 5, event=misread)], CONFIG)
        assert len(result.requests) == 1, misread
        [review] = result.reviews
        assert review.default_decision == "merge" and "event_near" in review.reason


def test_event_number_read_with_slips_and_no_a_number_merges_on_the_name():
    """A standard-resolution fax: A-number and birth date unread, two slips in the event number."""
    bad = facts("b", 5, file=None, dob=None, issued=None, event="BOS250300011", name="MARIA ELENA LOPEK")
    result = assign([facts("a"), bad], CONFIG)
    assert len(result.requests) == 1
    assert [r.default_decision for r in result.reviews] == ["merge"]


def test_short_identifiers_must_match_exactly():
    result = assign([facts("a", event="E1"), facts("b", 5, event="E2")], CONFIG)
    assert len(result.requests) == 2


# --------------------------------------------------------------------------- identifiers read with low confidence


def test_an_unsure_event_number_cannot_veto_a_match_but_the_merge_is_reviewed():
    garbled = replace(facts("b", 5, event="HUR2900704490", file="A012345679"), unsure=frozenset({"event_number"}))
    result = assign([facts("a"), garbled], CONFIG)
    assert len(result.requests) == 1
    [review] = result.reviews
    assert review.default_decision == "merge" and "event_unsure" in review.reason


def test_differing_event_numbers_read_with_confidence_still_veto():
    sure = facts("b", 5, event="HUR2900704490", file="A012345679")
    result = assign([facts("a"), sure], CONFIG)
    assert len(result.requests) == 2 and result.reviews == []


def test_the_same_person_under_two_confident_event_numbers_is_kept_apart_but_shown():
    """A standard-resolution fax's confident misread of the event number looks like a second
    detainer for the same person: never merged, offered to a person when the A-number is the
    same, the name agrees and the copies arrived within the window."""
    second = facts("b", 5, event="HUR2900704490")
    result = assign([facts("a"), second], CONFIG)
    assert len(result.requests) == 2
    [review] = result.reviews
    assert review.default_decision == "separate" and review.reason == "same_file_number+event_differs"
    # Another name, or an arrival outside the window: no offer.
    other = replace(second, name=normalize_name("JUANA PEREZ"))
    assert assign([facts("a"), other], CONFIG).reviews == []
    later = facts("b", 60 * 24 * 30, event="HUR2900704490")
    assert assign([facts("a"), later], CONFIG).reviews == []


def test_an_unsure_event_number_alone_is_no_evidence():
    garbled = replace(facts("b", 5, event="HUR2900704490", file=None, dob=None), unsure=frozenset({"event_number"}))
    assert len(assign([facts("a"), garbled], CONFIG).requests) == 2


def test_an_unsure_a_number_cannot_veto_a_name_and_birth_date_match():
    garbled = replace(facts("b", 5, file="A999999999", event=None), unsure=frozenset({"file_number"}))
    result = assign([facts("a"), garbled], CONFIG)
    assert len(result.requests) == 1
    assert "file_number_unsure" in result.reviews[0].reason


def test_unsure_identifiers_never_override_clearly_different_issue_dates():
    later = replace(
        facts("b", 60 * 24 * 150, event="BOS2507000999", issued=date(2025, 7, 29)),
        unsure=frozenset({"event_number", "file_number"}),
    )
    assert len(assign([facts("a"), later], CONFIG).requests) == 2


def test_token_link_is_symmetric_and_needs_both_a_word_and_an_identifier():
    from ledger.dedupe import token_linked

    a = facts("a")
    slip = facts("b", file="A012345697", event=None, dob=None, name="LOPEZ JUANA")
    assert token_linked(a, slip) and token_linked(slip, a)
    assert not token_linked(a, replace(slip, name=normalize_name("JUANA PEREZ")))
    assert not token_linked(a, replace(slip, file_number="A987654321"))


def test_a_copy_whose_identifiers_ocr_lost_is_offered_beside_the_request_its_name_matches():
    """A standard-resolution fax of a request: identifiers, dates unread, the name a letter off."""
    clear = facts("clear")
    blurred = facts("blurred", 60 * 30, file=None, event=None, issued=None, dob=None, name="MARIA ELENA LOPEZ")
    result = assign([clear, blurred], CONFIG)
    assert len(result.requests) == 2  # names alone never merge
    [review] = result.reviews
    assert (review.copy_key, review.other_copy_key) == ("blurred", "clear")
    assert (review.default_decision, review.reason) == ("separate", "name_and_arrival_near")
    # A name two OCR slips off is still offered.
    slipped = facts("slipped", 60, file=None, event=None, issued=None, dob=None, name="MARIA ELENA LOPRS")
    assert [r.reason for r in assign([clear, slipped], CONFIG).reviews] == ["name_and_arrival_near"]
    # Outside the window, under another name or with another birth date: nothing to offer.
    late = facts("late", 60 * 24 * 5, file=None, event=None, issued=None, dob=None)
    other = facts("other", 60, file=None, event=None, issued=None, dob=None, name="JOSE PEREZ")
    born = facts("born", 60, file=None, event=None, issued=None, dob=date(1990, 1, 1))
    for copy in (late, other, born):
        assert assign([clear, copy], CONFIG).reviews == [], copy.key


def test_a_birth_date_read_without_confidence_does_not_rule_out_the_offer():
    """A standard-resolution fax: identifiers unsure, the birth date misread (and unsure too)."""
    clear = facts("clear")
    misread = replace(facts("misread", 60, file="A011640017", event="R052501104900", dob=date(2010, 9, 2)),
                      unsure=frozenset({"file_number", "event_number", "date_of_birth"}))
    result = assign([clear, misread], CONFIG)
    assert len(result.requests) == 2
    assert [(r.default_decision, r.reason) for r in result.reviews] == [("separate", "name_and_arrival_near")]
    # Read with confidence, the other birth date rules the offer out.
    sure_dob = replace(misread, unsure=frozenset({"file_number", "event_number"}))
    assert assign([clear, sure_dob], CONFIG).reviews == []


def test_a_copy_that_arrived_before_a_request_was_issued_is_not_its_copy():
    """The same person's February detainer, its issue date and event number lost on a poor fax,
    and a new detainer issued in July: an A-number one slip apart and the same name, but the
    February copy cannot be a copy of the July request."""
    july = facts("july", 60 * 24 * 135, issued=date(2025, 7, 14))
    february = replace(facts("february", 0, file="A012345670", event="B0S2502338067", issued=None),
                       unsure=frozenset({"event_number", "file_number"}))
    assert len(assign([february, july], CONFIG).requests) == 2
    assert len(assign([july, february], CONFIG).requests) == 2  # in either arrival order
    # Without the July date, the arrivals 135 days apart still keep them apart (offered).
    undated = facts("july", 60 * 24 * 135, issued=None)
    result = assign([february, undated], CONFIG)
    assert len(result.requests) == 2
    assert [(r.default_decision, r.reason.split("+")[-1]) for r in result.reviews] == [("separate", "arrival_far")]


# --------------------------------------------------------------------------- subject IDs


def with_subject(copy: CopyFacts, subject: str | None, unsure: set[str] = frozenset()) -> CopyFacts:
    return replace(copy, subject_id=normalize_subject_id(subject), unsure=frozenset(unsure))


def test_subject_ids_are_opaque_but_ocr_tolerant():
    assert normalize_subject_id("s3b8-t9grm") == normalize_subject_id("S3B8T9GRM") == normalize_subject_id("53B8T9GRM")
    assert normalize_subject_id(" - ") is None and normalize_subject_id(None) is None


def test_a_subject_id_two_slips_off_merges_a_standard_fax_copy_for_review():
    """A standard-resolution fax and a fine fax of one request: event number, A-number and birth date
    of the standard fax misread (unsure), its subject ID two slips off, the name one letter off."""
    fine = with_subject(facts("fine", 30, name="MESIA CASTELLANOS JOSE ANGEL", dob=date(1966, 9, 2)), "S3B8T9GRM")
    coarse = with_subject(
        facts("coarse", 0, file="A011640017", event="ROS2501104900", name="MEJIA CASTELLANOS JOSE ANGEL",
              dob=date(2010, 9, 2)),
        "S1B6T9GRM", {"file_number", "event_number", "date_of_birth"},
    )
    for order in ([coarse, fine], [fine, coarse]):
        result = assign(order, CONFIG)
        assert len(result.requests) == 1
        [review] = result.reviews
        assert review.default_decision == "merge" and review.score < CONFIG.review_below
        assert "subject_near" in review.reason
    # Without the subject IDs the two were only offered, side by side.
    bare = [replace(c, subject_id=None) for c in (coarse, fine)]
    result = assign(bare, CONFIG)
    assert len(result.requests) == 2 and [r.default_decision for r in result.reviews] == ["separate"]


def test_a_subject_id_with_a_surname_two_slips_off_is_only_offered():
    # The form prints "SURNAME, Given names": here the slips are in the surname.
    clear = with_subject(facts("clear", 0, name="LOPEZ, MARIA ELENA"), "M4R0KQDYU")
    poor = with_subject(facts("poor", 60 * 34, file=None, event=None, issued=None, dob=None,
                              name="LOPRS, MARIA ELENA"), "M4KH0KQDYU")
    assert name_score(clear.name, poor.name) < CONFIG.name_similarity
    result = assign([clear, poor], CONFIG)
    assert len(result.requests) == 2
    assert [(r.default_decision, r.reason) for r in result.reviews] == [("separate", "name_and_arrival_near")]


def test_a_subject_id_with_the_surname_exact_and_given_names_slipped_merges_for_review():
    clear = with_subject(facts("clear", 0, name="TAVARES, Arlindo"), "M4R0KQDYU")
    poor = with_subject(facts("poor", 60 * 34, file=None, event=None, issued=None, dob=None,
                              name="TAVARES, Arinde"), "M4KH0KQDYU")
    assert CONFIG.name_similarity - 5 <= name_score(clear.name, poor.name) < CONFIG.name_similarity
    for order in ([clear, poor], [poor, clear]):
        result = assign(order, CONFIG)
        assert len(result.requests) == 1
        [review] = result.reviews
        assert review.default_decision == "merge" and review.score < CONFIG.review_below
        assert "surname_same" in review.reason and "subject_near" in review.reason
    # The surname alone never merges: without a near identifier the pair is only offered.
    bare = [replace(c, subject_id=None) for c in (clear, poor)]
    result = assign(bare, CONFIG)
    assert len(result.requests) == 2 and [r.reason for r in result.reviews] == ["name_and_arrival_near"]
    # Nor does a subject ID three or more slips off.
    far = replace(poor, subject_id=normalize_subject_id("W4KHXKQDYU"))
    assert len(assign([clear, far], CONFIG).requests) == 2
    # Given names further off than the offer margin: two people of one family.
    sibling = replace(poor, name=normalize_name("TAVARES, Joana"))
    assert len(assign([clear, sibling], CONFIG).requests) == 2


def test_the_same_subject_id_stands_in_for_the_birth_date():
    a = with_subject(facts("a", 0, file=None, event=None, dob=None), "WZVTPVBWS")
    b = with_subject(facts("b", 60, file=None, event=None, dob=None), "WZVTPVBWS")
    result = assign([a, b], CONFIG)
    assert len(result.requests) == 1 and result.reviews == []  # as an A-number with the event missing
    # The name a letter off: merged, for review.
    slip = replace(b, name=normalize_name("MARIA ELENA LOPEK"))
    result = assign([a, slip], CONFIG)
    assert len(result.requests) == 1
    [review] = result.reviews
    assert review.reason.startswith("same_subject") and review.default_decision == "merge"
    # Under another name, the same subject ID is not enough.
    other = replace(b, name=normalize_name("JOSE PEREZ"))
    assert len(assign([a, other], CONFIG).requests) == 2


def test_a_differing_subject_id_never_splits_a_request():
    """Its format is not public: a confident misreading looks like another person's id."""
    a = with_subject(facts("a"), "576CY6SK6")
    b = with_subject(facts("b", 5), "ZZZZZZZZZ")
    result = assign([a, b], CONFIG)
    assert len(result.requests) == 1 and result.reviews == []


def test_a_subject_id_slip_adds_no_doubt_to_a_name_and_birth_date_match():
    a = with_subject(facts("a", 0, file=None, event=None), "S3B8T9GRM")
    b = with_subject(facts("b", 5, file=None, event=None), "S3B8T9GRN")
    result = assign([a, b], CONFIG)
    assert len(result.requests) == 1 and result.reviews == []


def test_a_subject_id_slip_and_a_word_of_the_name_link_copies():
    from ledger.dedupe import token_linked

    a = with_subject(facts("a"), "S3B8T9GRM")
    b = with_subject(facts("b", file=None, event=None, dob=None, name="LOPEZ JUANA"), "S1B6T9GRM")
    assert token_linked(a, b) and token_linked(b, a)
    assert not token_linked(a, replace(b, subject_id="ZZZZZZZZZ"))


# --------------------------------------------------------------------------- evidence OCR cannot garble

DAY = 60 * 24


def _offered(result) -> list[tuple[str, list[str]]]:
    return [(r.default_decision, r.reason.split("+")) for r in result.reviews]


def test_one_person_with_two_detainers_months_apart_stays_two_requests_and_is_offered():
    """The same name and birth date, issued ten months apart: the later copy's issue date unread,
    its A-number and event number misread without confidence, so nothing vetoes and the name and
    birth date alone would merge them. Their arrivals, ten months apart, keep them apart."""
    december = facts("december", 0, event="BOS2412733891", issued=date(2024, 12, 9))
    october = replace(
        facts("october", 300 * DAY, file="A918345070", event="BOS2510509248", issued=None),
        unsure=frozenset({"file_number", "event_number"}),
    )
    for order in ([december, october], [october, december]):
        result = assign(order, CONFIG)
        assert groups(result) == {frozenset({"december"}), frozenset({"october"})}
        [(decision, reasons)] = _offered(result)
        assert decision == "separate" and "same_name_dob" in reasons and "arrival_far" in reasons
    # With an A-number left unread, or read the same, the arrivals still keep them apart.
    for file in (None, "A012345678"):
        result = assign([december, replace(october, file_number=normalize_file_number(file))], CONFIG)
        assert len(result.requests) == 2 and [d for d, _ in _offered(result)] == ["separate"], file
    # Only an operator merges them.
    merged = assign([december, october], CONFIG, {pair("december", "october"): True})
    assert len(merged.requests) == 1 and merged.links["october"].rule == RULE_OPERATOR


def test_an_unsure_event_number_of_another_office_or_month_stops_a_name_and_birth_date_merge():
    """Copies arriving two days apart, the second's issue date unread and its event number read
    without confidence: another office code, or another year-month, is kept apart and offered."""
    first = facts("first", 0, event="BOS2503000111")
    for other_event in ("NYC2503000111", "BOS2410456789", "HAR2507431058"):
        second = replace(
            facts("second", 2 * DAY, file=None, event=other_event, issued=None),
            unsure=frozenset({"event_number"}),
        )
        for order in ([first, second], [second, first]):
            result = assign(order, CONFIG)
            assert len(result.requests) == 2, other_event
            [(decision, reasons)] = _offered(result)
            assert decision == "separate" and "event_structure_differs" in reasons, other_event
        # The same A-number names the person, not the request: still only offered.
        same_person = replace(second, file_number=first.file_number)
        assert len(assign([first, same_person], CONFIG).requests) == 2, other_event
    # Issue dates read on both sides and agreeing: merged, for review, as any unsure event number.
    dated = replace(facts("second", 2 * DAY, file=None, event="NYC2510456789"), unsure=frozenset({"event_number"}))
    result = assign([first, dated], CONFIG)
    assert len(result.requests) == 1 and [d for d, _ in _offered(result)] == ["merge"]


def test_an_unsure_event_number_with_ocr_slips_still_merges_copies_two_days_apart():
    """What the sample corpus needs: a standard-resolution fax's event number read unsurely, a
    digit off, or a slip in its office code or year-month and more in its serial."""
    first = facts("first", 0, event="BOS2503000111")
    for misread in ("BOS2503000117", "BOS2508000111", "ROS2503904190", "B0S2501104900"):
        second = replace(
            facts("second", 2 * DAY, file=None, event=misread, issued=None), unsure=frozenset({"event_number"})
        )
        result = assign([first, second], CONFIG)
        assert len(result.requests) == 1, misread
        assert [d for d, _ in _offered(result)] == ["merge"], misread


@pytest.mark.parametrize(("days", "merged"), [(20, True), (21, True), (22, False)])
def test_arrival_window_boundary_with_the_default(days, merged):
    default = DedupeConfig()
    assert default.max_arrival_gap_days == 21
    later = facts("later", days * DAY, event=None, issued=None)
    result = assign([facts("first"), later], default)
    assert (len(result.requests) == 1) is merged
    if not merged:
        [(decision, reasons)] = _offered(result)
        assert decision == "separate" and reasons[-1] == "arrival_far"
    # The event number read with confidence on both sides names the detainer itself: a copy faxed
    # again after the window is still that request. Read unsurely, it is no exception.
    twin = facts("twin", days * DAY)
    assert len(assign([facts("first"), twin], default).requests) == 1
    unsure_twin = replace(twin, unsure=frozenset({"event_number"}))
    result = assign([facts("first"), unsure_twin], default)
    assert (len(result.requests) == 1) is merged
    assert merged or result.reviews[0].default_decision == "separate"


def test_the_arrival_window_is_measured_to_the_first_copy_so_copies_cannot_chain():
    """Copies every 15 days each arrive within the window of the one before; a request never spans
    more than the window, so the third starts a request of its own (offered beside the first)."""
    copies = [facts(f"c{n}", 15 * n * DAY, event=None, issued=None) for n in range(4)]
    for order in itertools.permutations(copies):
        result = assign(list(order), CONFIG)
        assert groups(result) == {frozenset({"c0", "c1"}), frozenset({"c2", "c3"})}
    # A wider window takes them all.
    assert len(assign(copies, replace(CONFIG, max_arrival_gap_days=45)).requests) == 1


def test_issue_dates_cannot_spread_wider_than_the_window_step_by_step():
    """Each copy's issue date is within the window of the nearest one of the request's copies,
    but the third is five days from the first: kept apart, offered. (All arrive after the latest
    issue date, so no arrival rules a copy out.)"""
    a = facts("a", 6 * DAY, issued=date(2025, 3, 1))
    b = facts("b", 6 * DAY + 5, event=None, issued=date(2025, 3, 4))
    c = facts("c", 6 * DAY + 10, event=None, issued=date(2025, 3, 6))
    result = assign([a, b, c], CONFIG)
    assert groups(result) == {frozenset({"a", "b"}), frozenset({"c"})}
    assert ("separate", "issued_far") in [(d, r[-1]) for d, r in _offered(result)]


def test_max_arrival_gap_days_is_configured_and_validated(tmp_path):
    from core.config import load_settings
    from core.errors import ConfigError

    config = tmp_path / "config.toml"
    config.write_text("[dedupe]\nmax_arrival_gap_days = 10\n", encoding="utf-8")
    assert DedupeConfig.from_settings(load_settings(config).dedupe).max_arrival_gap_days == 10
    assert DedupeConfig.from_settings(load_settings(tmp_path / "config.toml", dedupe={}).dedupe) == DedupeConfig()
    config.write_text("[dedupe]\nmax_arrival_gap_days = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"dedupe\.max_arrival_gap_days"):
        load_settings(config)


def _year_of_copies(seed: int) -> list[CopyFacts]:
    """People with one or two detainers, copies trickling in over weeks, identifiers often unread
    or unsure (another office or month among them): arrivals straddle the window."""
    rng = random.Random(seed)
    out = []
    for p, name in enumerate(["ANA RUIZ", "JOSE PEREZ", "ANA RUIZ", "OMAR HASSAN"]):
        dob = date(1970 + p % 2, 3, 3)  # the two ANA RUIZ share a birth date
        for d in range(rng.randint(1, 2)):
            issued = date(2025, 1, 5) + timedelta(days=40 * d + 25 * p)
            event = f"{rng.choice(['BOS', 'NYC'])}25{issued.month:02d}{rng.randint(0, 999999):06d}"
            for c in range(rng.randint(1, 3)):
                unsure = frozenset(f for f in ("event_number", "file_number") if rng.random() < 0.4)
                out.append(replace(
                    facts(
                        f"p{p}d{d}c{c}",
                        (issued - date(2025, 1, 1)).days * DAY + rng.randint(0, 30 * DAY),
                        file=f"A0{p}234567{d}" if rng.random() > 0.3 else None,
                        event=event if rng.random() > 0.3
                        else f"HAR24{rng.randint(10, 12)}" f"{rng.randint(0, 999999):06d}",
                        issued=issued if rng.random() > 0.4 else None,
                        name=name,
                        dob=dob,
                        channel_rank=rng.randint(0, 2),
                    ),
                    unsure=unsure,
                ))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_arrival_and_structure_holds_keep_the_assignment_order_independent(seed):
    _assert_order_independent(_year_of_copies(seed), seed)


def test_the_year_of_copies_exercises_every_hold():
    held = {r.reason.split("+")[-1] for seed in range(5) for r in assign(_year_of_copies(seed), CONFIG).reviews}
    assert {"arrival_far", "event_structure_differs"} <= held
