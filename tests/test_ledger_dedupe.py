"""Dedupe rules as pure functions: no database. Normalisation, the rules, what is never merged."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from ledger.dedupe import (
    RULE_FIRST,
    RULE_FUZZY,
    RULE_SAME_IDENTITY,
    assign,
    name_score,
    normalize_event_number,
    normalize_file_number,
    normalize_name,
    request_id_for,
)
from tests.dedupe_support import CONFIG, facts, groups

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
