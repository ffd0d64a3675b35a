"""No silent configuration: a command without --config or $DETAINER_INTAKE_CONFIG stops (exit 4) naming
`config init`, rather than read the bundled sample's configuration."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.config import CONFIG_ENV, SAMPLE_CONFIG, load_settings
from core.errors import ConfigError, ExitCode
from detainer_intake.cli import app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_configuration_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither a configuration file nor an override from the shell running the tests."""
    for name in list(os.environ):
        if name.startswith("DETAINER_INTAKE_") and name != "DETAINER_INTAKE_OCR_CACHE":
            monkeypatch.delenv(name)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


# --------------------------------------------------------------------------- no fallback to the sample


def test_load_settings_without_a_file_stops_naming_config_init() -> None:
    with pytest.raises(ConfigError, match=CONFIG_ENV) as raised:
        load_settings(None)
    assert raised.value.exit_code == ExitCode.config == 4
    assert "config init" in raised.value.remedy


@pytest.mark.parametrize("command", [["metrics", "--year", "2025"], ["review", "list"], ["db", "upgrade"], ["doctor"]])
def test_a_command_without_a_configuration_exits_4(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = invoke(*command)
    assert code == 4, output
    assert "no configuration given" in output and "detainer-intake config init" in output
    assert list(tmp_path.iterdir()) == []  # nothing created, no ledger opened


def test_the_environment_still_names_the_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[department]\nname = "Env Department"\n', encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(config))
    assert load_settings(None).department.name == "Env Department"


def test_flows_without_a_config_path_fail_rather_than_read_the_sample(tmp_path: Path) -> None:
    """A deployment stored with ``config_path: ''`` (an unset variable at `prefect deploy`) on a worker
    without $DETAINER_INTAKE_CONFIG: the run fails naming the missing configuration."""
    from flows.daily import backfill, daily_intake
    from flows.report import annual_report

    for config_path in (None, ""):
        with pytest.raises(ConfigError, match="no configuration given"):
            daily_intake.fn(config_path)
        with pytest.raises(ConfigError, match="no configuration given"):
            backfill.fn(config_path)
        with pytest.raises(ConfigError, match="no configuration given"):
            annual_report.fn(2025, str(tmp_path / "report"), config_path)
    assert not (tmp_path / "report").exists()


def test_the_sample_run_names_the_sample_configuration() -> None:
    script = (ROOT / "bin" / "run-sample").read_text(encoding="utf-8")
    assert re.search(r"detainer-intake run --config config/sample\.toml", script)
    assert (ROOT / "config" / "sample.toml") == SAMPLE_CONFIG
    assert load_settings(SAMPLE_CONFIG).channels.bfs_email.maildir == ROOT / "sample_faxes" / "mailbox"


def test_extract_needs_no_configuration(tmp_path: Path) -> None:
    """`extract` reads files only (no ledger, archive or channel): without a configuration it uses the
    built-in defaults, never the sample's department names."""
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    code, output = invoke("extract", "--json", str(empty))
    assert code == ExitCode.input_file, output  # read (and found broken), not stopped for a configuration
    assert json.loads(output.splitlines()[-1])["error"] == "empty"
