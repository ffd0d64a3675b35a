"""A backfill and the daily run started together queue behind one another on the ledger's run lock
([flows] lock_wait_minutes) instead of one ending Failed because the other holds it; an operator's
in-process ``detainer-intake run`` is still refused at once (tests/test_concurrency.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from core.config import load_settings
from flows.steps import Intake
from tests.conftest import write_config

pytest_plugins = ["tests.server_support"]  # prefect_server: the session's Prefect server


def _empty_corpus(root: Path) -> Path:
    for folder in ("dedicated", "stations/A-1", "mailbox/cur", "mailbox/new", "mailbox/tmp"):
        (root / folder).mkdir(parents=True)
    return root


def test_backfill_and_daily_started_together_both_complete(tmp_path: Path, prefect_server: dict[str, str]) -> None:
    from flows.daily import backfill, daily_intake

    config = write_config(
        tmp_path / "config.toml", data_dir=tmp_path / "data", sample_root=_empty_corpus(tmp_path / "c")
    )
    states: dict[str, Any] = {}
    runs = {
        "daily": lambda: daily_intake(str(config), return_state=True),
        "backfill": lambda: backfill(str(config), since=date(2025, 1, 1), return_state=True),
    }
    threads = [threading.Thread(target=lambda n=name, f=fn: states.__setitem__(n, f())) for name, fn in runs.items()]
    intake = Intake.open(load_settings(config))
    try:
        # a third holder (another daily run, as far as these two can tell) keeps the lock a while, so
        # both meet it held, and then each other
        with intake.ledger.run_lock("daily_intake"):
            for thread in threads:
                thread.start()
            time.sleep(8)
            assert not states, {name: state.message for name, state in states.items()}  # waiting, not failed
    finally:
        intake.close()
    for thread in threads:
        thread.join(240)
    assert set(states) == {"daily", "backfill"}
    for name, state in states.items():
        assert state.is_completed(), f"{name}: {state.type.value} {state.message}"
    said = asyncio.run(_log_lines(states["daily"].state_details.flow_run_id))
    assert any("is held by pid" in line and "waiting up to 240 minute(s)" in line for line in said), said


async def _log_lines(flow_run_id: Any) -> list[str]:
    """The run's log lines in the Prefect API (what the UI shows)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    async with get_client() as client:
        logs = await client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return [log.message for log in logs]


def test_a_daily_run_past_its_timeout_ends_timed_out(tmp_path: Path, prefect_server: dict[str, str]) -> None:
    """[flows] timeout_minutes: here a run waiting for a held run lock longer than its timeout."""
    from flows.daily import daily_intake

    config = write_config(
        tmp_path / "config.toml",
        data_dir=tmp_path / "data",
        sample_root=_empty_corpus(tmp_path / "c"),
        extra="[flows]\ntimeout_minutes = 0.05\nlock_wait_minutes = 0.5\n",
    )
    intake = Intake.open(load_settings(config))
    try:
        with intake.ledger.run_lock("daily_intake"):
            started = time.monotonic()
            state = daily_intake(str(config), return_state=True)
            waited = time.monotonic() - started
    finally:
        intake.close()
    assert state.is_failed() and state.name == "TimedOut", (state.name, state.message)
    assert 3 <= waited < 60, waited
