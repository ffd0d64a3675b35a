"""Dedupe: identifiers an OCR slip or two apart, and identifiers read with low confidence."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from ledger.dedupe import RULE_FUZZY, assign, normalize_name
from tests.dedupe_support import CONFIG, facts, groups

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
