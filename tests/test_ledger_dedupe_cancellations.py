"""Dedupe: cancellation notices and the operator's decisions (same / not the same)."""

from __future__ import annotations

from datetime import date

from ledger.dedupe import RULE_CANCELS, RULE_OPERATOR, RULE_UNLINKED, DedupeConfig, assign, pair
from tests.dedupe_support import CONFIG, facts, groups

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
