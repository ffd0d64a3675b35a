"""The CLI's summary after ``detainer-intake run`` names every channel as the run found it (read,
failed with its reason, disabled), also while the ledger holds no request yet, and only this run's
polls, not an earlier run's. The run itself is the in-process sequence (``flows.sequence.run_once``)
over empty folders, in place of the Prefect flow: no OCR, no Prefect server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from core.config import Settings
from core.errors import IntakeError
from detainer_intake.cli import app
from flows import daily
from flows.sequence import run_once
from flows.steps import Intake

CONFIG = """
[department]
timezone = "America/New_York"
[ledger]
url = "sqlite:///{data}/ledger.db"
[archive]
path = "{data}/archive"
[channels.dedicated_fax]
path = "{corpus}/dedicated"
quiet_seconds = 0
[channels.station_fax]
path = "{corpus}/stations"
enabled = false
[channels.bfs_email]
maildir = "{corpus}/mailbox-not-mounted"
"""


@dataclass
class _State:
    """What ``cli.run`` reads of the flow's final state."""

    completed: bool
    message: str = ""

    def is_failed(self) -> bool:
        return not self.completed

    def is_completed(self) -> bool:
        return self.completed

    def result(self, raise_on_failure: bool = False) -> Any:
        return None

    @property
    def type(self) -> SimpleNamespace:
        return SimpleNamespace(value="COMPLETED" if self.completed else "FAILED")


def _in_process(config_path: Path | None, settings: Settings) -> _State:
    intake = Intake.open(settings)
    try:
        run_once(intake)
    except IntakeError as exc:  # the in-process run stops at the channel that fails, after recording its poll
        return _State(False, exc.message)
    finally:
        intake.close()
    return _State(True)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "corpus" / "dedicated").mkdir(parents=True)
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(data=tmp_path / "data", corpus=tmp_path / "corpus"), encoding="utf-8")
    monkeypatch.setattr(daily, "run_daily_intake", _in_process)
    return path


def _summary_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("channels this run: ")]
    assert len(lines) == 1, output
    return lines[0]


def test_an_empty_ledger_summary_names_every_channel_as_the_run_found_it(config: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 1, result.output  # the mailbox could not be read: the run failed
    line = _summary_line(result.output)
    assert "dedicated_fax read (0 new)" in line
    assert "station_fax disabled (enabled = false)" in line
    assert "bfs_email failed: " in line
    assert "The ledger holds no detainer requests yet." in result.output


def test_the_summary_shows_this_runs_polls_not_an_earlier_runs(config: Path, tmp_path: Path) -> None:
    from core.config import load_settings

    settings = load_settings(config)
    intake = Intake.open(settings)
    try:  # yesterday every channel was read
        for channel in ("dedicated_fax", "station_fax", "bfs_email"):
            intake.ledger.record_poll(channel, datetime.now(UTC) - timedelta(days=1), "read", None, 4)
    finally:
        intake.close()
    line = _summary_line(CliRunner().invoke(app, ["run", "--config", str(config)]).output)
    assert "read (4 new)" not in line
    assert "station_fax disabled (enabled = false)" in line and "bfs_email failed: " in line
