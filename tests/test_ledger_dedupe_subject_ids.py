"""Dedupe: the subject ID, an opaque identifier that only supports a match."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from ledger.dedupe import CopyFacts, assign, name_score, normalize_name, normalize_subject_id
from tests.dedupe_support import CONFIG, facts

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
