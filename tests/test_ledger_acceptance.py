"""Acceptance: the ledger reproduces sample_faxes/truth.json exactly, on SQLite and PostgreSQL.

Receipts and extractions are built straight from truth.json (read perfectly, no OCR), so
this judges storage, dedupe and metrics alone. Broken receipts are recorded as quarantined.
The ``truth`` fixture (tests/conftest.py) reads sample_faxes/truth.json.
"""

from __future__ import annotations

import random

from ledger.db import open_ledger
from tests import ledger_support as testing

TRUTH_KEYS = (
    "unique_requests",
    "first_channel_counts",
    "any_channel_counts",
    "dedicated_line_rate",
    "dedicated_line_any_rate",
    "by_station",
    "by_month",
    "copies_per_channel",
    "duplicates_merged",
    "cancellations",
    "decoys",
    "quarantined",
)


def _record_all(url: str, inputs) -> object:
    ledger = open_ledger(url)
    for receipt, extraction, quarantine in inputs:
        ledger.record(receipt, extraction, quarantine=quarantine)
    return ledger


def test_metrics_and_requests_match_the_truth(truth, ledger_url):
    inputs = testing.truth_inputs(truth)
    ledger = _record_all(ledger_url, inputs)
    try:
        tz = truth["timezone"]
        for year in ("2025", "2024"):
            got = ledger.metrics(int(year), tz)
            want = truth["totals"][year]
            assert {k: got[k] for k in TRUTH_KEYS} == {k: want[k] for k in TRUTH_KEYS}, year
            assert (got["awaiting_review"] > 0) == (want["quarantined"] > 0)  # quarantined inputs await review

        # Every truth request is exactly one ledger request with the same arrivals.
        views = ledger.requests()
        by_receipts = {frozenset(v.receipt_keys): v for v in views}
        expected = testing.truth_request_receipts(truth)
        assert len(views) == len(expected)
        assert set(by_receipts) == {frozenset(keys) for keys in expected.values()}
        by_key = {testing.truth_source_key(r): r for r in truth["receipts"]}
        for q in truth["requests"]:
            view = by_receipts[frozenset(expected[q["request_id"]])]
            assert view.first_channel == q["first_channel"]
            assert view.first_station == q["first_station"]
            assert list(view.channels) == q["channels"]
            assert by_key[view.receipt_keys[0]]["received_at"] == q["first_received_at"]
            if q["cancelled_by"]:
                cancel = next(r for r in truth["receipts"] if r["id"] == q["cancelled_by"])
                assert view.cancelled_by == tuple(f"{cancel['sha256']}:{i}" for i, _ in enumerate(cancel["detainers"]))
            else:
                assert view.cancelled_by == ()
        # Clean inputs leave nothing to review but the quarantined ones.
        assert {i.kind for i in ledger.review_items()} == {"quarantine"}
    finally:
        ledger.close()


def test_truth_in_shuffled_order_gives_the_same_ledger(truth, ledger_url, tmp_path):
    inputs = testing.truth_inputs(truth)
    shuffled = inputs[:]
    random.Random(2025).shuffle(shuffled)
    ledger = _record_all(ledger_url, shuffled)
    try:
        for year in ("2025", "2024"):
            got = ledger.metrics(int(year), truth["timezone"])
            assert {k: got[k] for k in TRUTH_KEYS} == {k: truth["totals"][year][k] for k in TRUTH_KEYS}
        expected = testing.truth_request_receipts(truth)
        assert {frozenset(v.receipt_keys) for v in ledger.requests()} == {frozenset(k) for k in expected.values()}
    finally:
        ledger.close()


def _perturb(name: str, rng: random.Random) -> str:
    """One OCR-like slip: a letter swapped for a look-alike or a neighbour."""
    positions = [i for i, ch in enumerate(name) if ch.isalpha()]
    i = rng.choice(positions)
    swaps = {"I": "l", "O": "0", "S": "5", "B": "8", "E": "F", "A": "R", "N": "M", "U": "V"}
    return name[:i] + swaps.get(name[i].upper(), "X") + name[i + 1 :]


def test_ocr_noise_on_later_copies_still_gives_the_truth(truth, ledger_url):
    """Later copies read with a slip in the name, and every other one without its event number:
    the same requests and metrics, with the uncertain merges queued for review (default: merged)."""
    rng = random.Random(7)
    firsts = {q["receipts"][0] for q in truth["requests"]}
    noisy_truth = {**truth, "receipts": []}
    dropped = 0
    for r in truth["receipts"]:
        r = {**r, "detainers": [dict(d) for d in r["detainers"]]}
        if r["id"] not in firsts:
            for d in r["detainers"]:
                if d["cancels_previous"]:
                    continue
                d["subject_name"] = _perturb(d["subject_name"], rng)
                if rng.random() < 0.5:
                    d["event_number"], dropped = None, dropped + 1
        noisy_truth["receipts"].append(r)
    assert dropped > 0
    ledger = _record_all(ledger_url, testing.truth_inputs(noisy_truth))
    try:
        for year in ("2025", "2024"):
            got = ledger.metrics(int(year), truth["timezone"])
            assert {k: got[k] for k in TRUTH_KEYS} == {k: truth["totals"][year][k] for k in TRUTH_KEYS}
        expected = testing.truth_request_receipts(truth)
        assert {frozenset(v.receipt_keys) for v in ledger.requests()} == {frozenset(k) for k in expected.values()}
        matches = ledger.review_items(kind="match")
        assert matches and all(i.default_decision == "merge" for i in matches)
        assert {"same_identity", "fuzzy"} <= {rule for v in ledger.requests() for rule in v.receipt_rules}
    finally:
        ledger.close()
