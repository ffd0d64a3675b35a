"""`detainer-intake doctor`: every check passes on a good set-up (a real Dovecot mailbox among the
channels) and each one fails, with its remedy, when its piece is missing; nothing is changed and no
password is printed."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from application.doctor import Check, masked_url, run_checks
from core.config import Settings, load_settings
from core.files import private_dir
from detainer_intake.cli import app
from ledger.db import current_revision, head_revision, make_engine, upgrade

if TYPE_CHECKING:
    from tests.imap_server import DovecotServer

pytest_plugins = ["tests.imap_server"]  # dovecot

SECRET = "s3cret-pw"
LINE = re.compile(r"^(ok|FAIL) [a-z_ ]+: \S.*$")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DETAINER_INTAKE_") and name != "DETAINER_INTAKE_OCR_CACHE":
            monkeypatch.delenv(name)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def setup(tmp_path: Path, *, mail: str | None = None, ledger: str | None = None, extra: str = "") -> Path:
    """A good set-up: a migrated SQLite ledger, a private archive, both fax folders, a Maildir (or ``mail``)."""
    data = tmp_path / "data"
    private_dir(data / "archive")
    if ledger is None:
        ledger = f"sqlite:///{data / 'ledger.db'}"
        upgrade(ledger)
    for folder in ("dedicated", "stations/A-1", "stations/D-14", "mailbox/cur", "mailbox/new", "mailbox/tmp"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    mail = mail if mail is not None else f'maildir = "{tmp_path / "mailbox"}"'
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[ledger]
url = "{ledger}"
[archive]
path = "{data / "archive"}"
[channels.dedicated_fax]
path = "{tmp_path / "dedicated"}"
[channels.station_fax]
path = "{tmp_path / "stations"}"
[channels.bfs_email]
{mail}
{extra}
""",
        encoding="utf-8",
    )
    return config


def checks(config: Path | Settings) -> dict[str, Check]:
    settings = config if isinstance(config, Settings) else load_settings(config)
    return {check.name: check for check in run_checks(settings)}


def failed(found: dict[str, Check]) -> dict[str, Check]:
    return {name: check for name, check in found.items() if not check.ok}


def imap_section(server: DovecotServer, *, port: int | None = None, password_file: Path | None = None) -> str:
    return f"""host = "{server.host}"
port = {port or server.port}
security = "none"
username = "{server.user}"
password_env = "NO_SUCH_VARIABLE_FOR_DOCTOR"
password_file = "{password_file or server.password_file}"
timeout_seconds = 10"""


def doctor_cli(config: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["doctor", "--config", str(config)])
    return result.exit_code, result.output.splitlines()


@pytest.fixture
def prefect_api() -> Iterator[str]:
    """A stand-in Prefect API answering /api/health."""

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.path == "/api/health"
            self.send_response(200 if ok else 404)
            self.end_headers()
            self.wfile.write(b"true" if ok else b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- all good


def test_every_check_passes_on_a_good_setup(
    dovecot: DovecotServer, prefect_api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dovecot.append(b"From: a@example.org\r\nSubject: x\r\n\r\nbody\r\n")
    before = dovecot.flags()
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    config = setup(tmp_path, mail=imap_section(dovecot))
    found = checks(config)
    assert failed(found) == {}
    assert set(found) == {
        "tesseract", "tesseract languages", "poppler", "ledger", "archive", "extraction cache",
        "channel dedicated_fax", "channel station_fax", "channel bfs_email", "mailbox keywords", "prefect api",
    }
    assert "2 station folder(s)" in found["channel station_fax"].detail
    assert "1 message(s)" in found["channel bfs_email"].detail
    assert dovecot.flags() == before  # examined read-only: nothing marked seen

    code, lines = doctor_cli(config)
    assert code == 0, lines
    checked = [line for line in lines if LINE.match(line)]
    assert len(checked) == len(found) and all(line.startswith("ok ") for line in checked)
    assert dovecot.password not in "\n".join(lines)


def test_a_maildir_mailbox_and_no_prefect_server_pass(tmp_path: Path) -> None:
    found = checks(setup(tmp_path))
    assert failed(found) == {}
    assert "not set" in found["prefect api"].detail


# --------------------------------------------------------------------------- each missing piece


def _path_with(tmp_path: Path, *tools: str) -> str:
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for tool in tools:
        found = shutil.which(tool)
        assert found, f"{tool} is needed by this test"
        (folder / tool).symlink_to(found)
    return str(folder)


def test_tesseract_missing_from_path_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(setup(tmp_path))
    monkeypatch.setenv("PATH", _path_with(tmp_path, "pdftoppm", "pdfinfo", "pdftotext"))
    found = failed(checks(settings))
    assert set(found) == {"tesseract", "tesseract languages"}
    assert "not found on PATH" in found["tesseract"].detail
    assert "tesseract-ocr" in found["tesseract"].remedy


def test_tesseract_without_its_osd_data_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(setup(tmp_path))
    path = _path_with(tmp_path, "pdftoppm", "pdfinfo", "pdftotext")
    fake = Path(path) / "tesseract"  # a Tesseract installed without tesseract-ocr-osd
    fake.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then echo "tesseract 5.3.0"; exit 0; fi\n'
        'echo "List of available languages in \\"/usr/share/tesseract-ocr/5/tessdata/\\" (1):"\n'
        "echo eng\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", path)
    found = failed(checks(settings))
    assert set(found) == {"tesseract languages"}
    assert found["tesseract languages"].detail == "missing osd"
    assert "tesseract-ocr-osd" in found["tesseract languages"].remedy


def test_a_configured_language_not_installed_fails(tmp_path: Path) -> None:
    found = failed(checks(setup(tmp_path, extra='[parsing]\ntesseract_lang = "eng+zzz"')))
    assert set(found) == {"tesseract languages"}
    assert found["tesseract languages"].detail == "missing zzz"


def test_poppler_missing_from_path_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(setup(tmp_path))
    monkeypatch.setenv("PATH", _path_with(tmp_path, "tesseract", "pdftotext"))
    found = failed(checks(settings))
    assert set(found) == {"poppler"}
    assert found["poppler"].detail == "pdftoppm, pdfinfo not found on PATH"
    assert "poppler-utils" in found["poppler"].remedy


def test_a_missing_ledger_database_fails_and_is_not_created(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere" / "ledger.db"
    found = failed(checks(setup(tmp_path, ledger=f"sqlite:///{database}")))
    assert set(found) == {"ledger"}
    assert "no ledger database" in found["ledger"].detail and "db upgrade" in found["ledger"].remedy
    assert not database.exists() and not database.parent.exists()


def test_an_old_ledger_schema_fails_and_doctor_never_migrates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old' / 'ledger.db'}"
    upgrade(url, "0001")
    found = failed(checks(setup(tmp_path, ledger=url)))
    assert set(found) == {"ledger"}
    assert f"at schema 0001, the code at {head_revision()}" in found["ledger"].detail
    assert "db upgrade" in found["ledger"].remedy
    engine = make_engine(url)
    try:
        assert current_revision(engine) == "0001"
    finally:
        engine.dispose()


def test_an_unreachable_ledger_server_fails_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://intake:{SECRET}@127.0.0.1:{free_port()}/intake"
    config = setup(tmp_path, ledger=url)
    found = failed(checks(config))
    assert set(found) == {"ledger"}
    assert "intake:***@127.0.0.1" in found["ledger"].detail and "OperationalError" in found["ledger"].detail
    code, lines = doctor_cli(config)
    assert code == 1
    assert SECRET not in "\n".join(lines)


def test_an_archive_that_is_not_a_folder_fails(tmp_path: Path) -> None:
    config = setup(tmp_path)
    archive = tmp_path / "data" / "archive"
    archive.rmdir()
    archive.write_text("not a folder\n")
    found = failed(checks(config))
    assert set(found) == {"archive"}
    assert "is not a folder" in found["archive"].detail


def test_an_archive_open_to_others_fails(tmp_path: Path) -> None:
    config = setup(tmp_path)
    (tmp_path / "data" / "archive").chmod(0o755)
    found = failed(checks(config))
    assert set(found) == {"archive"}
    assert "mode 0755" in found["archive"].detail and "chmod 700" in found["archive"].remedy


def test_an_extraction_cache_that_cannot_be_created_fails(tmp_path: Path) -> None:
    config = setup(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache's folder should be\n")
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "[channels.dedicated_fax]", f'extraction_cache = "{blocker / "cache"}"\n[channels.dedicated_fax]'
        ),
        encoding="utf-8",
    )
    found = failed(checks(config))
    assert set(found) == {"extraction cache"}
    assert "is not a folder" in found["extraction cache"].detail


@pytest.mark.parametrize("folder", ["dedicated", "stations"])
def test_a_missing_fax_folder_fails(tmp_path: Path, folder: str) -> None:
    config = setup(tmp_path)
    shutil.rmtree(tmp_path / folder)
    found = failed(checks(config))
    channel = {"dedicated": "channel dedicated_fax", "stations": "channel station_fax"}[folder]
    assert set(found) == {channel}
    assert "does not exist" in found[channel].detail


def test_an_enabled_fax_channel_without_a_path_fails(tmp_path: Path) -> None:
    config = setup(tmp_path)
    config.write_text(
        config.read_text(encoding="utf-8").replace(f'path = "{tmp_path / "dedicated"}"', ""), encoding="utf-8"
    )
    found = failed(checks(config))
    assert set(found) == {"channel dedicated_fax"}
    assert "enabled = false" in found["channel dedicated_fax"].remedy


def test_a_disabled_channel_passes_and_says_so(tmp_path: Path) -> None:
    config = setup(tmp_path, mail=f'enabled = false\nmaildir = "{tmp_path / "nowhere"}"')
    found = checks(config)
    assert failed(found) == {}
    assert found["channel bfs_email"].detail.startswith("disabled")


def test_a_missing_maildir_fails(tmp_path: Path) -> None:
    found = failed(checks(setup(tmp_path, mail=f'maildir = "{tmp_path / "no-such-maildir"}"')))
    assert set(found) == {"channel bfs_email"}
    assert "no cur/ or new/" in found["channel bfs_email"].detail


def test_a_closed_imap_port_fails(dovecot: DovecotServer, tmp_path: Path) -> None:
    found = failed(checks(setup(tmp_path, mail=imap_section(dovecot, port=free_port()))))
    assert set(found) == {"channel bfs_email"}
    assert "cannot connect to 127.0.0.1:" in found["channel bfs_email"].detail
    assert "ConnectionRefusedError" in found["channel bfs_email"].detail


def test_a_refused_imap_login_fails_without_the_password(dovecot: DovecotServer, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong-password"
    wrong.write_text(SECRET + "\n")
    wrong.chmod(0o600)
    config = setup(tmp_path, mail=imap_section(dovecot, password_file=wrong))
    found = failed(checks(config))
    assert set(found) == {"channel bfs_email"}
    assert "cannot log in to" in found["channel bfs_email"].detail
    code, lines = doctor_cli(config)
    assert code == 1
    assert SECRET not in "\n".join(lines)


def test_a_folder_that_keeps_no_keywords_fails_the_keyword_check(dovecot: DovecotServer, tmp_path: Path) -> None:
    from tests.test_ingest_mailbox_capabilities import RewritingProxy

    proxy = RewritingProxy(dovecot.port, b" \\*)]", b")]")  # the folder keeps only the system flags
    try:
        found = failed(checks(setup(tmp_path, mail=imap_section(dovecot, port=proxy.port))))
    finally:
        proxy.close()
    assert set(found) == {"mailbox keywords"}
    assert "keeps no new keywords" in found["mailbox keywords"].detail
    assert 'action = "move"' in found["mailbox keywords"].remedy


def test_a_missing_imap_folder_fails(dovecot: DovecotServer, tmp_path: Path) -> None:
    mail = imap_section(dovecot) + '\nfolder = "NoSuchFolder"'
    found = failed(checks(setup(tmp_path, mail=mail)))
    assert set(found) == {"channel bfs_email"}
    assert "cannot select folder 'NoSuchFolder'" in found["channel bfs_email"].detail


def test_an_unset_imap_password_fails(tmp_path: Path) -> None:
    mail = 'host = "127.0.0.1"\nusername = "bfs"\npassword_env = "NO_SUCH_VARIABLE_FOR_DOCTOR"'
    found = failed(checks(setup(tmp_path, mail=mail)))
    assert set(found) == {"channel bfs_email"}
    assert "$NO_SUCH_VARIABLE_FOR_DOCTOR" in found["channel bfs_email"].detail


def test_an_unreachable_prefect_api_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    config = setup(tmp_path)
    found = failed(checks(config))
    assert set(found) == {"prefect api"}
    assert "unreachable" in found["prefect api"].detail

    code, lines = doctor_cli(config)
    assert code == 1
    checked = [line for line in lines if LINE.match(line)]
    assert [line for line in checked if line.startswith("FAIL ")] == [
        f"FAIL prefect api: {found['prefect api'].detail} — {found['prefect api'].remedy}"
    ]


def test_masked_url() -> None:
    assert masked_url(f"postgresql://u:{SECRET}@h/db") == "postgresql://u:***@h/db"
    assert masked_url(f"postgresql+psycopg://u:{SECRET}@h:5432/db?sslmode=require") == (
        "postgresql+psycopg://u:***@h:5432/db?sslmode=require"
    )
    assert masked_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert masked_url("sqlite:////srv/ledger.db") == "sqlite:////srv/ledger.db"
    assert masked_url("not a url") == "not a url"


def test_doctor_changes_nothing(tmp_path: Path) -> None:
    config = setup(tmp_path)
    archive = tmp_path / "data" / "archive"
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.rglob("*")}
    checks(config)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert {p: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.rglob("*")} == modes
    assert list(archive.iterdir()) == []
