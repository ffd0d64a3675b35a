"""No silent configuration: a command without --config or $DETAINER_INTAKE_CONFIG stops (exit 4) naming
`config init`; `config init` writes a commented template that loads as the defaults; `config show` prints
the effective settings with every secret masked."""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from core.config import CONFIG_ENV, SAMPLE_CONFIG, Settings, load_settings
from core.errors import ConfigError, ExitCode
from detainer_intake.cli import app
from detainer_intake.commands.config import TEMPLATE

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cret-pw"


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
    # Were a fallback back, it would write here rather than into the checkout's data/.
    monkeypatch.setenv("DETAINER_INTAKE_LEDGER__URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    monkeypatch.setenv("DETAINER_INTAKE_ARCHIVE__PATH", str(tmp_path / "archive"))
    code, output = invoke(*command)
    assert code == 4, output
    assert "no configuration given" in output and "detainer-intake config init" in output
    assert list(tmp_path.iterdir()) == []  # nothing created, no ledger opened


def test_the_environment_still_names_the_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[department]\nname = "Env Department"\n', encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(config))
    assert load_settings(None).department.name == "Env Department"


def test_flows_without_a_config_path_fail_rather_than_read_the_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployment stored with ``config_path: ''`` (an unset variable at `prefect deploy`) on a worker
    without $DETAINER_INTAKE_CONFIG: the run fails naming the missing configuration."""
    from flows.daily import backfill, daily_intake
    from flows.report import annual_report

    # Were a fallback back, it would write here rather than into the checkout's data/.
    monkeypatch.setenv("DETAINER_INTAKE_LEDGER__URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    monkeypatch.setenv("DETAINER_INTAKE_ARCHIVE__PATH", str(tmp_path / "archive"))

    for config_path in (None, ""):
        with pytest.raises(ConfigError, match="no configuration given"):
            daily_intake.fn(config_path)
        with pytest.raises(ConfigError, match="no configuration given"):
            backfill.fn(config_path)
        with pytest.raises(ConfigError, match="no configuration given"):
            annual_report.fn(2025, str(tmp_path / "report"), config_path)
    assert sorted(tmp_path.iterdir()) == []


def test_the_sample_run_names_the_sample_configuration() -> None:
    script = (ROOT / "bin" / "run-sample").read_text(encoding="utf-8")
    assert re.search(r"detainer-intake run --config config/sample\.toml", script)
    assert (ROOT / "config" / "sample.toml") == SAMPLE_CONFIG
    assert load_settings(SAMPLE_CONFIG).channels.bfs_email.maildir == ROOT / "sample_faxes" / "mailbox"


# --------------------------------------------------------------------------- config init


def _fields(model: type[BaseModel], where: str = "") -> list[tuple[str, str]]:
    """(section, key) of every leaf setting."""
    out: list[tuple[str, str]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.extend(_fields(annotation, f"{where}.{name}" if where else name))
        elif where:
            out.append((where, name))
    return out


def _sections(text: str) -> dict[str, str]:
    """The template's text under each [section] header."""
    parts = re.split(r"^\[([\w.]+)\]\s*$", text, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_config_init_writes_a_private_template_that_loads_as_the_defaults(tmp_path: Path) -> None:
    target = tmp_path / "etc" / "config.toml"
    code, output = invoke("config", "init", str(target))
    assert code == 0, output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text(encoding="utf-8")
    assert text == TEMPLATE.read_text(encoding="utf-8")

    settings = load_settings(target)  # loads and validates
    assert settings.config_path == target.resolve()
    # Every key written is its default: the file parsed is the model's defaults, nothing more.
    assert Settings(**tomllib.loads(text)).model_dump() == Settings().model_dump()

    # Every section and every key is there (a key without a default commented), each with a comment.
    sections = _sections(text)
    for section, key in _fields(Settings):
        assert section in sections, f"[{section}] missing from the template"
        match = re.search(rf"^#? ?{key} = .*#.+$", sections[section], flags=re.MULTILINE)
        assert match, f"{section}.{key} missing from the template, or without its comment"
    # Secrets only as references.
    assert not re.search(r"^#?\s*password\s*=", text, flags=re.MULTILINE)
    assert 'password_env = "BFS_IMAP_PASSWORD"' in text


def test_config_init_never_overwrites_without_force(tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    target.write_text("# the department's own\n", encoding="utf-8")
    code, output = invoke("config", "init", str(target))
    assert code == 4 and "already exists" in output and "--force" in output
    assert target.read_text(encoding="utf-8") == "# the department's own\n"
    code, output = invoke("config", "init", str(target), "--force")
    assert code == 0, output
    assert target.read_text(encoding="utf-8") == TEMPLATE.read_text(encoding="utf-8")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


# --------------------------------------------------------------------------- config show


def _config_with_secrets(tmp_path: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[ledger]
url = "postgresql+psycopg://intake:{SECRET}@db.example.org/intake"
[archive]
path = "archive"
[channels.bfs_email]
host = "imap.example.org"
username = "bfs-intake"
password_file = "secrets/bfs"
[channels.station_fax]
path = "stations"
station_map = {{ "d14" = "D-14" }}
[flows]
task_runner = "dask"
dask_address = "tcp://user:{SECRET}@scheduler:8786"
""",
        encoding="utf-8",
    )
    return config


def test_config_show_prints_the_effective_settings_with_secrets_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config_with_secrets(tmp_path)
    monkeypatch.setenv("DETAINER_INTAKE_DEDUPE__ISSUED_WINDOW_DAYS", "5")  # an override wins over the file
    code, output = invoke("config", "show", "--config", str(config))
    assert code == 0, output
    assert SECRET not in output
    shown = tomllib.loads(output)
    assert shown["ledger"]["url"] == "postgresql+psycopg://intake:***@db.example.org/intake"
    assert shown["flows"]["dask_address"] == "tcp://user:***@scheduler:8786"
    assert shown["dedupe"]["issued_window_days"] == 5
    assert shown["archive"]["path"] == str(tmp_path / "archive")  # resolved as a command uses it
    assert shown["channels"]["bfs_email"]["password_file"] == str(tmp_path / "secrets" / "bfs")
    assert shown["channels"]["bfs_email"]["enabled"] is True
    assert shown["channels"]["station_fax"]["station_map"] == {"d14": "D-14"}
    # What it prints is a configuration: it loads back, the same but for the masked password.
    shown["ledger"]["url"] = shown["ledger"]["url"].replace("***", SECRET)
    shown["flows"]["dask_address"] = shown["flows"]["dask_address"].replace("***", SECRET)
    assert Settings(**shown).model_dump() == load_settings(config).model_dump(exclude={"config_path"}) | {
        "config_path": None
    }

    code, output = invoke("config", "show", "--json", "--config", str(config))
    assert code == 0, output
    assert SECRET not in output
    data = json.loads(output)
    assert data["config_path"] == str(config.resolve())
    assert data["ledger"]["url"] == "postgresql+psycopg://intake:***@db.example.org/intake"
    assert data["dedupe"]["issued_window_days"] == 5


def test_config_show_masks_a_password_given_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DETAINER_INTAKE_LEDGER__URL", f"postgresql://u:{SECRET}@h/db")
    code, output = invoke("config", "show", "--json", "--config", str(_config_with_secrets(tmp_path)))
    assert code == 0, output
    assert SECRET not in output
    assert json.loads(output)["ledger"]["url"] == "postgresql://u:***@h/db"


def test_extract_needs_no_configuration(tmp_path: Path) -> None:
    """`extract` reads files only (no ledger, archive or channel): without a configuration it uses the
    built-in defaults, never the sample's department names."""
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    code, output = invoke("extract", "--json", str(empty))
    assert code == ExitCode.input_file, output  # read (and found broken), not stopped for a configuration
    assert json.loads(output.splitlines()[-1])["error"] == "empty"
