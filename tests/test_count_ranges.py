"""The count shows its own uncertainty: every open review item that could move a figure widens its range.

Ledger inputs are built from the sample truth without OCR (``tests.ledger_support.truth_inputs``); one copy
is degraded per test so that the ledger holds exactly one open item of the class under test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest.models import Receipt
from ledger.db import open_ledger
from ledger.store import Ledger
from ledger.uncertainty import CLASSES, Effect, range_text, ranges
from parsing.models import DetainerRequest, ExtractionResult
from tests import ledger_support as testing

ROOT = Path(__file__).resolve().parent.parent
YEAR = 2025


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    return json.loads((ROOT / "sample_faxes" / "truth.json").read_text())


def _readable(truth: dict[str, Any]) -> list[testing.LedgerInput]:
    return [item for item in testing.truth_inputs(truth) if item[2] is None]


def _second_copy(truth: dict[str, Any], channel: str) -> dict[str, Any]:
    """A later receipt of a two-receipt 2025 request, on ``channel``, whose request's first copy is elsewhere."""
    for request in truth["requests"]:
        receipts = [r for r in truth["receipts"] if r["id"] in request["receipts"]]
        receipts.sort(key=lambda r: r["received_at"])
        if len(receipts) == 2 and receipts[1]["channel"] == channel and receipts[0]["received_at"].startswith("2025"):
            return receipts[1]
    raise AssertionError("no such request in the sample truth")


def _record(
    ledger: Ledger, inputs: list[testing.LedgerInput], sha: str, change: Callable[[DetainerRequest], None]
) -> None:
    for receipt, extraction, quarantine in inputs:
        if extraction is not None and receipt.sha256 == sha:
            extraction = extraction.model_copy(deep=True)
            change(extraction.detainers[0])
        ledger.record(receipt, extraction, quarantine=quarantine)


def _exact(truth: dict[str, Any]) -> tuple[int, int]:
    totals = truth["totals"][str(YEAR)]
    return totals["unique_requests"], totals["first_channel_counts"]["dedicated_fax"]


def test_a_ledger_without_open_items_has_point_ranges(ledger: Ledger, truth: dict[str, Any]) -> None:
    for receipt, extraction, quarantine in _readable(truth):
        ledger.record(receipt, extraction, quarantine=quarantine)
    m = ledger.metrics(YEAR)
    n, _ = _exact(truth)
    assert m["unique_requests"] == n
    assert m["unique_requests_range"] == [n, n]
    assert m["dedicated_line_rate_range"] == [m["dedicated_line_rate"]] * 2
    assert m["open_items_moving_count"] == 0
    assert m["possible_requests_awaiting_review"] == 0 and m["unreadable_inputs"] == 0


def test_quarantined_inputs_raise_only_the_upper_bound(ledger: Ledger, truth: dict[str, Any]) -> None:
    for receipt, extraction, quarantine in testing.truth_inputs(truth):
        ledger.record(receipt, extraction, quarantine=quarantine)
    broken = [r for r in truth["receipts"] if r["kind"] == "broken" and r["received_at"].startswith(str(YEAR))]
    on_line = sum(1 for r in broken if r["channel"] == "dedicated_fax")
    n, d = _exact(truth)
    m = ledger.metrics(YEAR)
    assert broken and m["unreadable_inputs"] == len(broken)
    assert m["unique_requests_range"] == [n, n + len(broken)]
    assert m["range_components"]["unreadable_input"] == [0, len(broken)]
    low, high = round(d / (n + len(broken) - on_line), 4), round((d + on_line) / (n + on_line), 4)
    assert m["dedicated_line_rate_range"] == [low, high]


def test_a_merge_pending_review_could_add_a_request(ledger: Ledger, truth: dict[str, Any]) -> None:
    later = _second_copy(truth, "station_fax")

    def near(detainer: DetainerRequest) -> None:  # the A-number an OCR slip off: merged, pending review
        assert detainer.file_number
        detainer.file_number = detainer.file_number[:-1] + str((int(detainer.file_number[-1]) + 1) % 10)

    _record(ledger, _readable(truth), later["sha256"], near)
    items = ledger.review_items(kind="match")
    assert [i.default_decision for i in items] == ["merge"]
    n, d = _exact(truth)
    m = ledger.metrics(YEAR)
    assert m["unique_requests"] == n
    assert m["unique_requests_range"] == [n, n + 1]
    assert m["range_components"]["merge_pending_review"] == [0, 1]
    assert m["dedicated_line_rate_range"] == [round(d / (n + 1), 4), round(d / n, 4)]  # a station copy split off
    ledger.resolve_review(items[0].id, "merge", "Sgt. Test")
    assert ledger.metrics(YEAR)["unique_requests_range"] == [n, n]


def test_a_match_kept_apart_could_remove_a_request(ledger: Ledger, truth: dict[str, Any]) -> None:
    later = _second_copy(truth, "station_fax")

    def unread(detainer: DetainerRequest) -> None:  # identifiers lost: only the name and the arrival tie it
        detainer.file_number = detainer.event_number = detainer.subject_id = None
        detainer.date_of_birth = None

    _record(ledger, _readable(truth), later["sha256"], unread)
    items = ledger.review_items(kind="match")
    assert [i.default_decision for i in items] == ["separate"]
    n, d = _exact(truth)
    m = ledger.metrics(YEAR)
    assert m["unique_requests"] == n + 1
    assert m["unique_requests_range"] == [n, n + 1]
    assert m["range_components"]["match_kept_apart"] == [-1, 0]
    assert m["dedicated_line_rate_range"] == [round(d / (n + 1), 4), round(d / n, 4)]
    ledger.resolve_review(items[0].id, "merge", "Sgt. Test")
    m = ledger.metrics(YEAR)
    assert m["unique_requests"] == n and m["unique_requests_range"] == [n, n]


def test_a_doubtful_cancel_box_could_remove_its_request(ledger: Ledger, truth: dict[str, Any]) -> None:
    for receipt, extraction, quarantine in _readable(truth):
        ledger.record(receipt, extraction, quarantine=quarantine)
    sha = "c" * 64
    doubtful = DetainerRequest(
        form_type="I-247A", file_number="A099999999", subject_name="DOUBT, CANCEL", needs_review=True,
        review_reasons=["cancels_previous:invalid", "cancelled_detainer_date:missing"],
    )
    when = datetime(YEAR, 6, 2, 15, tzinfo=UTC)
    ledger.record(
        Receipt(channel="dedicated_fax", source_key="test:cancel", received_at=when, file_name="c.tif", sha256=sha,
                size=1),
        ExtractionResult(sha256=sha, detainers=[doubtful]),
    )
    n, d = _exact(truth)
    m = ledger.metrics(YEAR)
    assert m["unique_requests"] == n + 1
    assert m["unique_requests_range"] == [n, n + 1]
    assert m["range_components"]["cancel_doubt"] == [-1, 0]
    assert m["dedicated_line_rate_range"] == [round(d / n, 4), round((d + 1) / (n + 1), 4)]


def test_an_item_of_another_year_leaves_this_years_range(ledger: Ledger, truth: dict[str, Any]) -> None:
    for receipt, extraction, quarantine in _readable(truth):
        ledger.record(receipt, extraction, quarantine=quarantine)
    sha = "d" * 64
    when = datetime(YEAR - 1, 12, 30, 15, tzinfo=UTC)
    ledger.record(
        Receipt(channel="station_fax", station="A-1", source_key="test:old", received_at=when, file_name="o.tif",
                sha256=sha, size=1),
        ExtractionResult(sha256=sha, possible_detainer_evidence=["word:detainer"]),
    )
    assert ledger.metrics(YEAR)["unique_requests_range"][1] == _exact(truth)[0]
    assert ledger.metrics(YEAR - 1)["possible_requests_awaiting_review"] == 1


def test_rate_extremes_follow_the_item_classes() -> None:
    """max = (d+a+f)/(n+a-c), min = (d-b-g)/(n+e-b) with a=(+1,+1) e=(0,+1) b=(-1,-1) c=(0,-1)."""
    found = [
        Effect(1, "possible_detainer", {YEAR: (1, 1)}),
        Effect(2, "unreadable_input", {YEAR: (0, 1)}),
        Effect(3, "unreadable_input", {YEAR: (0, 1)}),
        Effect(4, "match_kept_apart", {YEAR: (-1, -1)}),
        Effect(5, "match_kept_apart", {YEAR: (0, -1)}),
        Effect(6, "merge_pending_review", {YEAR - 1: (1, 1)}),  # another year: no effect
    ]
    out = ranges(20, 5, YEAR, found)
    assert out["unique_requests_range"] == [18, 23]
    assert out["dedicated_line_rate_range"] == [round((5 - 1) / (20 + 2 - 1), 4), round((5 + 1) / (20 + 1 - 1), 4)]
    assert out["open_items_moving_count"] == 5
    assert set(out["range_components"]) == set(CLASSES)
    assert out["range_components"]["unreadable_input"] == [0, 2]
    assert range_text(20, out["unique_requests_range"], 5) == "20 requests (18–23 depending on 5 open review items)"
    assert range_text(20, [20, 20], 0) == "20 requests"


def test_metrics_json_carries_the_ranges(
    truth: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from detainer_intake.commands.ledger import metrics_command
    from tests.report_support import settings_for

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    opened = open_ledger(url)
    try:
        for receipt, extraction, quarantine in testing.truth_inputs(truth):
            opened.record(receipt, extraction, quarantine=quarantine)
    finally:
        opened.close()
    settings = settings_for(url, tmp_path)
    capsys.readouterr()
    assert metrics_command(settings, YEAR, as_json=True) == 0
    payload = json.loads(capsys.readouterr().out)
    n = truth["totals"][str(YEAR)]["unique_requests"]
    for key in ("unique_requests_range", "dedicated_line_rate_range", "possible_requests_awaiting_review",
                "unreadable_inputs", "open_items_moving_count", "range_components"):
        assert key in payload, key
    low, high = payload["unique_requests_range"]
    assert low == n < high and payload["unreadable_inputs"] == high - n
    rate_low, rate_high = payload["dedicated_line_rate_range"]
    assert rate_low <= payload["dedicated_line_rate"] <= rate_high
    assert metrics_command(settings, YEAR, as_json=False) == 0
    table = capsys.readouterr().out
    assert f"{n} requests ({low}–{high} depending on" in table
