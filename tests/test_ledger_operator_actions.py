"""What operators record in the ledger: corrections, rulings on matches, the review queue, dispositions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.errors import LedgerError
from ledger import schema
from tests.ledger_support import NY, T0, count, detainer, extraction, receipt, sha

# --------------------------------------------------------------------------- corrections


def test_correction_takes_precedence_and_survives_reprocessing(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    misread = detainer(event_number="BOS2503000777")  # OCR misread: looks like a second detainer
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=2), "bfs_email"), extraction("d2", misread))
    assert len(ledger.requests()) == 2
    [copy] = ledger.copies(sha("d2"))
    ledger.correct(copy["id"], "event_number", "BOS2503000111", who="clerk1")
    [req] = ledger.requests()
    assert req.receipt_keys == ("r1", "r2")
    assert count(ledger, schema.Correction) == 1
    # The parser runs again over the same bytes and misreads again: the correction still wins.
    ledger.reprocess(extraction("d2", misread))
    assert len(ledger.requests()) == 1
    assert ledger.copies(sha("d2"))[0]["fields"]["event_number"] == "BOS2503000111"
    # The stored OCR values are untouched: the correction is kept apart.
    assert ledger.extraction_for(sha("d2")).detainers[0].event_number == "BOS2503000777"


def test_correction_can_split_and_cancel(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=2)), extraction("d2", detainer()))
    assert len(ledger.requests()) == 1
    key = f"{sha('d2')}:0"
    ledger.correct(key, "cancels_previous", True, who="clerk1")
    ledger.correct(key, "cancelled_detainer_date", date(2025, 3, 1), who="clerk1")
    [req] = ledger.requests()
    assert req.receipt_keys == ("r1",) and req.cancelled_by == (key,)
    with pytest.raises(LedgerError):
        ledger.correct(key, "issued_date", "not a date", who="clerk1")
    with pytest.raises(LedgerError):
        ledger.correct(key, "no_such_field", 1, who="clerk1")


def test_an_event_number_read_with_low_confidence_cannot_split_a_request(ledger):
    from parsing.models import FieldEvidence

    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    garbled = detainer(
        event_number="HUR2900704490",
        file_number="A012345679",
        evidence={"event_number": FieldEvidence(page=1, confidence=0.44)},
    )
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=1), "station_fax", "C-6"), extraction("d2", garbled))
    [req] = ledger.requests()
    assert req.receipt_rules == ("first", "fuzzy")
    [item] = ledger.review_items(kind="match")
    assert "event_unsure" in item.reason
    # An operator who reads the page and types a different event number is sure: now it vetoes.
    ledger.correct(f"{sha('d2')}:0", "event_number", "NYC2504000001", who="clerk1")
    assert len(ledger.requests()) == 2
    assert ledger.review_items(kind="match") == []


# --------------------------------------------------------------------------- review queue and rulings


def test_a_birth_date_read_with_low_confidence_cannot_hide_a_near_miss(ledger):
    from parsing.models import FieldEvidence

    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    poor = detainer(file_number=None, event_number=None, date_of_birth=date(2010, 4, 12),
                    evidence={"date_of_birth": FieldEvidence(page=1, confidence=0.6)})
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=1), "station_fax", "C-6"), extraction("d2", poor))
    assert len(ledger.requests()) == 2  # a name alone never merges
    [item] = ledger.review_items(kind="match")
    assert item.reason == "name_and_arrival_near"


def test_low_confidence_match_goes_to_review_and_the_decision_sticks(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer(file_number=None, event_number=None)))
    noisy = detainer(file_number=None, event_number=None, subject_name="MARIA ELENA LOPEK")
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=1), "bfs_email"), extraction("d2", noisy))
    assert len(ledger.requests()) == 1  # default decision: merged
    [item] = ledger.review_items(kind="match")
    assert item.default_decision == "merge" and item.score < 95
    assert ledger.metrics(2025, NY)["awaiting_review"] == 1
    ledger.resolve_review(item.id, "separate", who="supervisor")
    assert len(ledger.requests()) == 2
    assert ledger.review_items(kind="match") == []
    ledger.rebuild()
    ledger.reprocess(extraction("d2", noisy))
    assert len(ledger.requests()) == 2
    assert ledger.metrics(2025, NY)["awaiting_review"] == 0


def test_operator_merge_of_two_requests(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=1)), extraction("d2", detainer(event_number="OTHER")))
    assert len(ledger.requests()) == 2
    ledger.merge(f"{sha('d2')}:0", f"{sha('d1')}:0", who="supervisor")
    [req] = ledger.requests()
    assert req.receipt_keys == ("r1", "r2") and req.receipt_rules == ("first", "operator_merge")
    assert ledger.copies(sha("d2"))[0]["rule"] == "operator_merge"


def test_copy_flagged_by_the_parser_is_queued_for_review(ledger):
    flagged = detainer(needs_review=True, review_reasons=["file_number", "low_confidence"])
    ledger.record(receipt("r1", "d1", T0), extraction("d1", flagged))
    [item] = ledger.review_items(kind="copy")
    assert item.reason == "file_number,low_confidence" and item.copy_key == f"{sha('d1')}:0"
    ledger.resolve_review(item.id, "confirmed", who="clerk1")
    assert ledger.review_items() == []
    assert ledger.review_items(status="resolved")[0].resolution == "confirmed"


@pytest.mark.parametrize("blurred_first", [False, True])
def test_a_copy_whose_identifiers_ocr_lost_is_offered_beside_its_request_in_either_order(ledger, blurred_first):
    clear = (receipt("r1", "d1", T0), extraction("d1", detainer()))
    blurred = (
        receipt("r2", "d2", T0 + timedelta(hours=30), "station_fax", "E-13"),
        extraction("d2", detainer(file_number=None, event_number=None, issued_date=None, date_of_birth=None)),
    )
    for record in ([blurred, clear] if blurred_first else [clear, blurred]):
        ledger.record(*record)
    assert len(ledger.requests()) == 2  # a name alone never merges
    [item] = ledger.review_items(kind="match")
    assert (item.default_decision, item.reason) == ("separate", "name_and_arrival_near")
    # The operator's ruling merges them, and it sticks.
    ledger.resolve_review(item.id, "merge", who="supervisor")
    assert len(ledger.requests()) == 1


# --------------------------------------------------------------------------- dispositions


def test_disposition_follows_its_request_when_an_earlier_copy_arrives_late(ledger):
    ledger.record(receipt("late", "d1", T0 + timedelta(hours=5), "bfs_email"), extraction("d1", detainer()))
    [before] = ledger.requests()
    ledger.set_disposition(before.id, "detained", who="lt1", reimbursement="125.50", note="held 48h")
    ledger.record(receipt("early", "d2", T0, "station_fax", "C-6"), extraction("d2", detainer()))
    [after] = ledger.requests()
    assert after.receipt_keys == ("early", "late") and after.first_channel == "station_fax"
    disposition = ledger.disposition(after.id)
    assert disposition is not None and disposition["outcome"] == "detained"
    assert str(disposition["reimbursement"]) == "125.50"
    with pytest.raises(LedgerError):
        ledger.set_disposition(after.id, "deported", who="lt1")
    with pytest.raises(LedgerError):
        ledger.set_disposition("REQ-NOPE", "detained", who="lt1")
