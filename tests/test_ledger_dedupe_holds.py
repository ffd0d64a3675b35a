"""Dedupe: evidence OCR cannot garble keeps a match apart (arrival window, issue-date spread, event structure)."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import date, timedelta

import pytest

from ledger.dedupe import RULE_OPERATOR, CopyFacts, DedupeConfig, assign, normalize_file_number, pair
from tests.dedupe_support import CONFIG, assert_order_independent, facts, groups

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
    assert_order_independent(_year_of_copies(seed), seed)


def test_the_year_of_copies_exercises_every_hold():
    held = {r.reason.split("+")[-1] for seed in range(5) for r in assign(_year_of_copies(seed), CONFIG).reviews}
    assert {"arrival_far", "event_structure_differs"} <= held
