"""A run records every configured channel's poll, so no channel is silent: a disabled or unconfigured
channel is named in the run summary and in ``metrics``; a channel that could not be read on a day
leaves a gap that ``metrics --json``, summary.json and report.html show. Empty folders and the
in-process run (``flows.sequence.run_once``) with injected poll times: no OCR."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from application import build_report
from core.config import load_settings
from core.errors import ChannelUnavailable
from core.logs import redact
from detainer_intake.commands.ledger import metrics_command
from flows import artifacts
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
quiet_seconds = 0
"""


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(data=tmp_path / "data", corpus=tmp_path / "corpus") + extra, encoding="utf-8")
    return path


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The artifacts ``flows.artifacts`` publishes, caught instead of sent to Prefect."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(artifacts, "create_markdown_artifact", lambda key, markdown, **_: seen.update({key: markdown}))
    monkeypatch.setattr(artifacts, "create_table_artifact", lambda key, table, **kw: seen.update({key: kw}))
    yield seen


def _metrics_json(settings: Any, year: int, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert metrics_command(settings, year, as_json=True) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_a_disabled_and_an_unconfigured_channel_are_named_in_the_run_summary_and_metrics(
    tmp_path: Path, captured: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "corpus" / "dedicated").mkdir(parents=True)
    (tmp_path / "corpus" / "stations").mkdir(parents=True)
    config = _config(tmp_path)
    switched_off = config.read_text().replace("[channels.station_fax]\n", "[channels.station_fax]\nenabled = false\n")
    config.write_text(switched_off)
    settings = load_settings(config)
    intake = Intake.open(settings)
    try:
        run_once(intake)
        artifacts.publish_run_artifacts(intake, [], [])
        polls = intake.ledger.poll_records()
    finally:
        intake.close()
    assert [(p.channel, p.outcome, p.reason) for p in polls] == [
        ("dedicated_fax", "read", None),
        ("station_fax", "disabled", "enabled = false"),
        ("bfs_email", "disabled", "not configured"),
    ]
    summary = captured["intake-run-summary"]
    assert "| station_fax | disabled: enabled = false | disabled (enabled = false) |" in summary
    assert "| bfs_email | disabled: not configured | not configured |" in summary
    assert "| dedicated_fax | read (0 new) | enabled |" in summary
    assert "station_fax disabled (enabled = false)" in captured["channel-usage"]["description"]

    year = datetime.now(settings.department.zone).year
    channels = _metrics_json(settings, year, capsys)["channels"]
    assert channels["station_fax"]["enabled"] is False and channels["station_fax"]["configuration"] == "disabled"
    assert channels["station_fax"]["last_poll"]["outcome"] == "disabled"
    assert channels["bfs_email"]["enabled"] is False and channels["bfs_email"]["configuration"] == "not_configured"
    assert channels["dedicated_fax"]["enabled"] is True and channels["dedicated_fax"]["last_read_ok"] is not None

    assert metrics_command(settings, year, as_json=False) == 0
    table = capsys.readouterr().out
    assert "channel station_fax" in table and "disabled (enabled = false)" in table
    assert "channel bfs_email" in table and "not configured" in table


def test_a_channel_that_could_not_be_read_on_a_day_leaves_a_gap_in_metrics_and_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "corpus" / "dedicated").mkdir(parents=True)
    settings = load_settings(_config(tmp_path))
    day_1 = datetime(2025, 12, 30, 17, tzinfo=UTC)  # noon in New York
    day_2 = datetime(2025, 12, 31, 17, tzinfo=UTC)

    intake = Intake.open(settings)
    try:  # day 1: the station share is not mounted (its folder is missing): the run fails naming it
        with pytest.raises(ChannelUnavailable, match="station_fax"):
            run_once(intake, clock=lambda: day_1)
    finally:
        intake.close()
    (tmp_path / "corpus" / "stations" / "C-6").mkdir(parents=True)
    intake = Intake.open(settings)
    try:  # day 2: it is back
        run_once(intake, clock=lambda: day_2)
        polls = [(p.channel, p.at, p.outcome, p.reason) for p in intake.ledger.poll_records()]
    finally:
        intake.close()
    assert polls == [
        ("dedicated_fax", day_1, "read", None),
        ("station_fax", day_1, "failed", "folder is not configured or does not exist"),
        ("dedicated_fax", day_2, "read", None),
        ("station_fax", day_2, "read", None),
        ("bfs_email", day_2, "disabled", "not configured"),
    ]
    gap_text = "station_fax not read 2025-12-30: folder is not configured or does not exist"

    metrics = _metrics_json(settings, 2025, capsys)
    assert metrics["coverage_gaps"] is True
    assert "station_fax not read on 1 of 2 day(s)" in metrics["coverage"]
    station = metrics["channels"]["station_fax"]
    assert station["days_read"] == 1 and station["days_in_period"] == 2 and station["days_not_read"] == 1
    assert station["gaps"] == [
        {
            "from": "2025-12-30",
            "to": "2025-12-30",
            "days": 1,
            "reason": "folder is not configured or does not exist",
            "text": gap_text,
        }
    ]
    assert metrics["channels"]["dedicated_fax"]["gaps"] == [] and metrics["channels"]["dedicated_fax"]["days_read"] == 2

    from ledger.db import open_ledger

    ledger = open_ledger(settings.ledger_url, migrate=False)
    try:
        paths = build_report(ledger, settings, 2025, tmp_path / "report")
    finally:
        ledger.close()
    summary = json.loads(paths.summary_json.read_text(encoding="utf-8"))
    totals = summary["totals"]
    assert totals["channels"]["value"] == metrics["channels"]
    assert totals["channels"]["reproduce"] == {
        "command": "detainer-intake metrics --year 2025 --json",
        "key": "channels",
    }
    assert totals["coverage_gaps"]["value"] is True and totals["coverage"]["value"] == metrics["coverage"]
    html = paths.report_html.read_text(encoding="utf-8")
    assert gap_text in html
    assert f"Coverage: {metrics['coverage']}" in html  # beside the dedicated-line rate
    assert redact(gap_text) == gap_text  # nothing in it the log filter would take for personal data
