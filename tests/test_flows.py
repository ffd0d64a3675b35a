"""The Prefect flows over the sample corpus, with real OCR, on Prefect's test harness."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from prefect.testing.utilities import prefect_test_harness

from flows import steps
from flows.daily import daily_intake, task_runner_for
from flows.sequence import run_once
from flows.steps import Intake
from ingest.channel import Arrival, IntakeChannel
from tests.conftest import copy_corpus
from tests.flow_support import corpus_config, settings_of, snapshot, snapshot_of
from tests.test_ledger_acceptance import TRUTH_KEYS

pytestmark = pytest.mark.slow

METRIC_KEYS = TRUTH_KEYS  # every figure truth.json defines


@pytest.fixture(scope="session")
def prefect_harness() -> Any:
    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def ocr_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One OCR cache for the session: the first run reads every page, later runs reuse it."""
    return tmp_path_factory.mktemp("extractions")


class CapturedLogs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="session")
def captured_logs() -> Any:
    handler = CapturedLogs()
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    watched = [logging.getLogger(), logging.getLogger("prefect")]
    for logger in watched:
        logger.addHandler(handler)
    yield handler
    for logger in watched:
        logger.removeHandler(handler)


@pytest.fixture(scope="session")
def clean_run(
    prefect_harness: Any, tmp_path_factory: pytest.TempPathFactory, ocr_cache: Path, captured_logs: CapturedLogs
) -> Path:
    logging.getLogger().setLevel(logging.DEBUG)
    config = corpus_config(tmp_path_factory.mktemp("clean"), ocr_cache)
    state = daily_intake(str(config), return_state=True)
    assert state.is_completed(), state.message
    return config


def personal_values(truth: dict[str, Any]) -> set[str]:
    """Every personal value of the corpus, in the forms it could be printed in."""
    values: set[str] = set()
    for receipt in truth["receipts"]:
        for detainer in receipt["detainers"]:
            name = detainer.get("subject_name")
            if name:
                values.add(name)
                values.update(part for part in name.replace(",", " ").split() if len(part) >= 5)
            dob = detainer.get("date_of_birth")
            if dob:
                y, m, d = dob.split("-")
                values.update({dob, f"{m}/{d}/{y}"})
            a_number = detainer.get("file_number")
            if a_number:
                digits = a_number[1:]
                values.update({a_number, digits, f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"})
            for key in ("event_number", "subject_id"):
                if detainer.get(key):
                    values.add(detainer[key])
    return values


async def _prefect_texts() -> list[str]:
    from prefect.client.orchestration import get_client

    async def every(read: Any) -> list[Any]:
        items: list[Any] = []
        while True:
            page = await read(limit=200, offset=len(items))
            items += page
            if len(page) < 200:
                return items

    texts: list[str] = []
    async with get_client() as client:
        texts += [log.message for log in await every(client.read_logs)]
        texts += [str(a.data) + str(a.description or "") for a in await every(client.read_artifacts)]
        for run in await every(client.read_flow_runs):
            texts.append(f"{run.state.message if run.state else ''} {run.parameters}")
        texts += [run.state.message or "" for run in await every(client.read_task_runs) if run.state]
    return texts


def test_no_personal_data_in_logs_artifacts_or_states(
    clean_run: Path, captured_logs: CapturedLogs, truth: dict[str, Any]
) -> None:
    import asyncio

    texts = captured_logs.lines + asyncio.run(_prefect_texts())
    assert len(texts) > 20, "nothing was captured: the test would prove nothing"
    values = personal_values(truth)
    assert len(values) > 50
    haystack = "\n".join(texts)
    # whole words only: a name part inside another word ("Angel" in "angelic") is no leak
    leaked = sorted(v for v in values if re.search(rf"(?<![\w]){re.escape(v)}(?![\w])", haystack, re.IGNORECASE))
    assert not leaked, f"{len(leaked)} personal value(s) leaked into logs/artifacts/states"


def test_run_summary_counts_the_review_items_of_every_year(clean_run: Path) -> None:
    """The sample corpus's years are past: a summary that counted only this year's open items would say 0."""
    import asyncio

    intake = Intake.open(settings_of(clean_run))
    try:
        open_items = len(intake.ledger.review_items("open"))
    finally:
        intake.close()
    assert open_items > 0
    texts = asyncio.run(_prefect_texts())
    assert any(f"| review items open, every year | {open_items} |" in text for text in texts)


# Real OCR does not read every sample exactly (photos, grey scans, some standard faxes:
# bench/results/accuracy.md); the dedupe still joins every request's copies (some pending
# review), so the day's figures are the truth's without an operator's decision.
def test_daily_flow_metrics_equal_truth(clean_run: Path, truth: dict[str, Any]) -> None:
    intake = Intake.open(settings_of(clean_run))
    try:
        for year, expected in truth["totals"].items():
            got = intake.ledger.metrics(int(year), truth["timezone"])
            for key in METRIC_KEYS:
                assert got[key] == expected[key], f"{year} {key}"
    finally:
        intake.close()


def test_daily_flow_figures_carry_their_range(clean_run: Path, truth: dict[str, Any]) -> None:
    """The exact figures sit inside their ranges; every quarantined input widens the upper end, the
    match items pending review are merges (a split would add a request), and each component adds up."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(truth["timezone"])
    intake = Intake.open(settings_of(clean_run))
    try:
        for year, expected in truth["totals"].items():
            got = intake.ledger.metrics(int(year), truth["timezone"])
            n = expected["unique_requests"]
            low, high = got["unique_requests_range"]
            components = got["range_components"]
            assert low <= n <= high, year
            assert low == n + sum(c[0] for c in components.values()), year
            assert high == n + sum(c[1] for c in components.values()), year
            assert components["unreadable_input"] == [0, expected["quarantined"]], year
            assert got["unreadable_inputs"] == expected["quarantined"], year
            assert components["match_kept_apart"] == [0, 0], year  # the sample's match items are all merges
            in_year = [
                i for i in intake.ledger.review_items()
                if i.received_at is not None and i.received_at.astimezone(zone).year == int(year)
            ]
            merges = [i for i in in_year if i.kind == "match"]
            assert components["merge_pending_review"][1] <= len(merges), year
            # A copy counted although its cancel box read checked (no cancelled date) could be a cancellation.
            doubts = [i for i in in_year if i.kind == "copy" and "cancels_previous:invalid" in i.reason.split(",")]
            assert -len(doubts) <= components["cancel_doubt"][0] and components["cancel_doubt"][1] == 0, year
            assert 0 <= got["possible_requests_awaiting_review"] <= expected["decoys"], year
            rate_low, rate_high = got["dedicated_line_rate_range"]
            assert rate_low <= expected["dedicated_line_rate"] <= rate_high, year
            if high > n:
                assert got["open_items_moving_count"] > 0, year
    finally:
        intake.close()


def test_daily_flow_requests_group_the_truth_receipts(clean_run: Path, truth: dict[str, Any]) -> None:
    """Each truth request's arrivals form exactly one ledger request (same number of arrivals)."""
    intake = Intake.open(settings_of(clean_run))
    try:
        sizes = sorted(len(view.receipt_keys) for view in intake.ledger.requests())
    finally:
        intake.close()
    assert sizes == sorted(len(request["receipts"]) for request in truth["requests"])


def test_the_review_queue_offers_every_split_and_nothing_else(
    clean_run: Path, tmp_path: Path, ocr_cache: Path, truth: dict[str, Any]
) -> None:
    """Where OCR misreads one copy of a request on a poor fax, the pair is in the review queue,
    merged pending review or (were it read worse) kept apart and offered. An operator who
    accepts every match item gets exactly the truth's figures: no item joins two different
    requests, no split is missing from the queue. (Run on a copy of the clean run's ledger.)"""
    import shutil

    config = corpus_config(tmp_path, ocr_cache)
    (tmp_path / "data").mkdir(exist_ok=True)
    for ledger_file in (clean_run.parent / "data").glob("ledger.db*"):
        shutil.copy2(ledger_file, tmp_path / "data" / ledger_file.name)
    intake = Intake.open(settings_of(config))
    try:
        for item in intake.ledger.review_items(kind="match"):
            intake.ledger.resolve_review(item.id, "merge", who="operator")
        for year, expected in truth["totals"].items():
            got = intake.ledger.metrics(int(year), truth["timezone"])
            for key in METRIC_KEYS:
                assert got[key] == expected[key], f"{year} {key}"
        sizes = sorted(len(view.receipt_keys) for view in intake.ledger.requests())
        assert sizes == sorted(len(request["receipts"]) for request in truth["requests"])
    finally:
        intake.close()


def test_second_run_of_the_same_day_adds_nothing(clean_run: Path) -> None:
    before = snapshot_of(clean_run)
    state = daily_intake(str(clean_run), return_state=True)
    assert state.is_completed(), state.message
    assert snapshot_of(clean_run) == before


def test_failed_run_then_rerun_equals_clean_run(
    clean_run: Path, tmp_path: Path, ocr_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = corpus_config(tmp_path, ocr_cache)
    real_commit = steps.commit_arrival
    calls = {"n": 0}

    def failing_commit(intake: Intake, channel: IntakeChannel, arrival: Arrival) -> steps.CommitSummary:
        calls["n"] += 1
        if calls["n"] > 6:  # the first files commit, the rest fail: a run that dies halfway
            raise RuntimeError("injected fault")
        return real_commit(intake, channel, arrival)

    monkeypatch.setattr(steps, "commit_arrival", failing_commit)
    failed = daily_intake(str(config), return_state=True)
    assert failed.is_failed()
    assert "commit" in (failed.message or "")
    partial = snapshot_of(config)
    assert 0 < len(partial["receipts"]) < len(snapshot_of(clean_run)["receipts"])

    monkeypatch.setattr(steps, "commit_arrival", real_commit)
    rerun = daily_intake(str(config), return_state=True)
    assert rerun.is_completed(), rerun.message
    assert snapshot_of(config) == snapshot_of(clean_run)


def test_unreadable_channel_fails_the_run_but_not_the_others(
    prefect_harness: Any, tmp_path: Path, ocr_cache: Path, truth: dict[str, Any]
) -> None:
    corpus = copy_corpus(tmp_path / "corpus", truth, {r["id"] for r in truth["receipts"][:4]})
    config = corpus_config(tmp_path, ocr_cache, sample_root=corpus)
    (corpus / "stations").rename(corpus / "stations-gone")  # the share is not mounted
    state = daily_intake(str(config), return_state=True)
    assert state.is_failed()
    assert "station_fax" in (state.message or "")
    expected = {r["path"] for r in truth["receipts"][:4] if not r["path"].startswith("stations/")}
    assert len(snapshot_of(config)["receipts"]) >= len(expected) > 0


def test_dask_task_runner_gives_the_sequential_ledger(
    prefect_harness: Any, tmp_path: Path, ocr_cache: Path, truth: dict[str, Any]
) -> None:
    """Scale-out: parsing on a 2-worker Dask LocalCluster commits the same ledger as run_once."""
    fax_ids = {r["id"] for r in truth["receipts"] if r["channel"] != "bfs_email"}
    subset = {r for r in sorted(fax_ids)[:6]}
    corpus = copy_corpus(tmp_path / "corpus", truth, subset)

    sequential = corpus_config(tmp_path / "seq", tmp_path / "seq-cache", sample_root=corpus)
    intake = Intake.open(settings_of(sequential))
    try:
        run_once(intake)
        expected = snapshot(intake.ledger)
    finally:
        intake.close()

    scaled = corpus_config(
        tmp_path / "dask",
        tmp_path / "dask-cache",
        sample_root=corpus,
        extra='[flows]\ntask_runner = "dask"\ndask_workers = 2\n[parsing]\nworkers = 1\n',
    )
    settings = settings_of(scaled)
    assert type(task_runner_for(settings)).__name__ == "DaskTaskRunner"
    state = daily_intake.with_options(task_runner=task_runner_for(settings))(str(scaled), return_state=True)
    assert state.is_completed(), state.message
    assert snapshot_of(scaled) == expected
    assert any((tmp_path / "dask-cache").rglob("*.json")), "parsing did not run through the Dask workers' cache"


def test_report_flow_publishes_the_report(clean_run: Path, tmp_path: Path, truth: dict[str, Any]) -> None:
    import asyncio
    import json

    from flows.report import annual_report

    html = Path(annual_report(2025, str(tmp_path / "report"), str(clean_run)))
    summary = json.loads((html.parent / "summary.json").read_text())
    assert "<img" in html.read_text() or "<svg" in html.read_text()
    assert json.dumps(truth["totals"]["2025"]["unique_requests"]) in json.dumps(summary)

    links = [text for text in asyncio.run(_prefect_texts()) if html.resolve().as_uri() in text]
    assert links, "the report flow published no link artifact to the report"


def test_runs_have_readable_names(clean_run: Path) -> None:
    """An operator finds a run by what it did: flow runs by date, task runs by channel and hash."""
    import asyncio

    from prefect.client.orchestration import get_client

    async def names() -> tuple[list[str], list[str]]:
        async with get_client() as client:
            flows = [run.name for run in await client.read_flow_runs(limit=200)]
            tasks = [run.name for run in await client.read_task_runs(limit=200)]
        return flows, tasks

    flow_names, task_names = asyncio.run(names())
    assert flow_names and all(re.fullmatch(r"intake-\d{4}-\d\d-\d\d-\d{4}", n) for n in flow_names if "intake" in n)
    assert any(re.fullmatch(r"intake-\d{4}-\d\d-\d\d-\d{4}", n) for n in flow_names)
    assert any(re.fullmatch(r"commit-dedicated_fax-[0-9a-f]{12}", n) for n in task_names)
    assert any(re.fullmatch(r"parse-[0-9a-f]{12}", n) for n in task_names)
    assert {"poll-dedicated_fax", "poll-station_fax", "poll-bfs_email", "complete-bfs_email"} <= set(task_names)
