"""`detainer-intake report verify DIR`: a fresh report still matches its ledger and its files; a new
decision that changes a figure (a disposition, a merge ruled in review) names each figure that moved,
old -> new, and an edited or missing file is named; exit 9 then (0 when everything matches)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from application.report_verify import EXIT_MOVED, verify_report
from detainer_intake.cli import app
from detainer_intake.commands.reports import disposition_command, report_command, report_verify_command
from detainer_intake.commands.review import review_merge_command
from tests.ledger_support import T0, detainer, extraction, receipt
from tests.report_support import settings_for

YEAR = 2025


@pytest.fixture
def env(ledger, tmp_path):
    """(settings, ledger, report folder): two requests of 2025, their report written."""
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    ledger.record(
        receipt("r2", "d2", T0 + timedelta(days=9), channel="station_fax", station="C-6"),
        extraction("d2", detainer(file_number="A098765432", event_number="BOS2503000999", subject_name="ANA RUIZ")),
    )
    settings = settings_for(ledger.engine.url.render_as_string(hide_password=False), tmp_path)
    out = tmp_path / "report"
    assert report_command(settings, YEAR, out) == 0
    return settings, ledger, out


def _request_ids(ledger) -> list[str]:
    return [view.id for view in ledger.requests()]


def test_a_fresh_report_still_matches(env, capsys):
    settings, ledger, out = env
    result = verify_report(ledger, settings, out)
    assert result.ok and not result.moved and not result.files and not result.settings_changed
    assert result.files_checked == 3 and result.figures_checked > 20
    capsys.readouterr()
    assert report_verify_command(settings, out) == 0
    printed = capsys.readouterr().out
    assert "still match" in printed and "moved" not in printed


def test_a_disposition_recorded_afterwards_moves_its_figures(env, capsys):
    settings, ledger, out = env
    first = _request_ids(ledger)[0]
    assert disposition_command(settings, first, "detained", "Sgt. Example", reimbursement="100.00") == 0
    capsys.readouterr()
    assert report_verify_command(settings, out) == EXIT_MOVED
    printed = capsys.readouterr().out
    assert "DO NOT match" in printed
    assert "figure moved: detained: 0 -> 1" in printed
    assert "figure moved: not_recorded: 2 -> 1" in printed
    assert 'figure moved: reimbursement_total: "0.00" -> "100.00"' in printed
    assert "unique_requests" not in printed and "file:" not in printed  # the files are as written


def test_a_merge_ruled_in_review_moves_the_count(env, capsys):
    settings, ledger, out = env
    a, b = _request_ids(ledger)
    assert review_merge_command(settings, a, b, "Officer Review", "same person, same event") == 0
    result = verify_report(ledger, settings, out)
    moved = {m.name: (m.old, m.new) for m in result.moved}
    assert moved["unique_requests"] == (2, 1)
    assert moved["first_channel_counts.station_fax"] == (1, 0)
    assert not result.ok and result.exit_code == EXIT_MOVED and not result.files
    capsys.readouterr()
    assert report_verify_command(settings, out, as_json=True) == EXIT_MOVED
    payload = json.loads(capsys.readouterr().out)
    assert {"figure": "unique_requests", "old": 2, "new": 1} in payload["moved"] and payload["ok"] is False


def test_an_edited_or_missing_file_is_named(env, capsys):
    settings, _, out = env
    html = out / "report.html"
    html.write_text(html.read_text(encoding="utf-8").replace("Requests received", "Requests recieved"), "utf-8")
    (out / "requests.csv").unlink()
    capsys.readouterr()
    assert report_verify_command(settings, out) == EXIT_MOVED
    printed = capsys.readouterr().out
    assert "file: report.html: changed (SHA-256" in printed
    assert "file: requests.csv: missing" in printed
    assert "figure moved" not in printed  # the ledger has not changed


def test_an_edited_figure_in_summary_json_is_both_a_changed_file_and_a_moved_figure(env):
    settings, ledger, out = env
    path = out / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    summary["totals"]["unique_requests"]["value"] = 15
    path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    result = verify_report(ledger, settings, out)
    assert [(m.name, m.old, m.new) for m in result.moved] == [("unique_requests", 15, 2)]
    assert [(f.name, f.problem) for f in result.files] == [("summary.json", "changed")]


def test_a_missing_manifest_fails_and_a_changed_setting_is_a_note(env):
    settings, ledger, out = env
    settings.dedupe.issued_window_days = 7
    result = verify_report(ledger, settings, out)
    assert result.ok
    assert [(m.name, m.old, m.new) for m in result.settings_changed] == [("dedupe.issued_window_days", 3, 7)]
    assert any("setting differs" in line and "issued_window_days: 3 -> 7" in line for line in result.lines())
    (out / "MANIFEST.sha256").unlink()
    result = verify_report(ledger, settings, out)
    assert not result.ok and [(f.name, f.problem) for f in result.files] == [("MANIFEST.sha256", "manifest missing")]


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[department]\nname = "Test Police Department"\n[ledger]\nurl = "{url}"\n'
        f'[archive]\npath = "{tmp_path / "archive"}"\n',
        encoding="utf-8",
    )
    return path


def test_the_cli_writes_a_report_and_verifies_it(ledger, tmp_path):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    config = _config(tmp_path, ledger.engine.url.render_as_string(hide_password=False))
    out = tmp_path / "cli-report"
    runner = CliRunner()
    written = runner.invoke(app, ["report", "--year", str(YEAR), "--out", str(out), "--config", str(config)])
    assert written.exit_code == 0, written.output
    assert (out / "MANIFEST.sha256").is_file()
    checked = runner.invoke(app, ["report", "verify", str(out), "--config", str(config)])
    assert checked.exit_code == 0, checked.output
    assert "still match" in checked.output
    ledger.set_disposition(_request_ids(ledger)[0], "not_acted_upon", "Sgt. Example")
    checked = runner.invoke(app, ["report", "verify", str(out), "--config", str(config)])
    assert checked.exit_code == EXIT_MOVED == 9
    assert "not_acted_upon: 0 -> 1" in checked.output
    not_a_report = runner.invoke(app, ["report", "verify", str(tmp_path), "--config", str(config)])
    assert not_a_report.exit_code == 2 and "no summary.json" in not_a_report.output
    assert runner.invoke(app, ["report", "--out", str(out)]).exit_code == 2  # --year is still required
