"""``detainer-intake mailbox inspect`` on a real Dovecot: what the mailbox holds and what the next run would
fetch, read through a proxy that sees every command: no body is fetched and nothing is marked or recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from core.config import load_settings
from detainer_intake.cli import app
from ingest.mailbox import MailboxSession
from ledger.db import open_ledger
from tests.test_ingest_mailbox import with_pdf
from tests.test_ingest_mailbox_capabilities import RewritingProxy
from tests.test_ingest_mailbox_incremental import CommandLog

if TYPE_CHECKING:
    from tests.imap_server import DovecotServer

pytest_plugins = ["tests.imap_server"]


@pytest.fixture
def commands(dovecot: DovecotServer) -> Iterator[CommandLog]:
    log = CommandLog(dovecot.port)
    yield log
    log.close()


def _config(tmp_path: Path, dovecot: DovecotServer, port: int, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[ledger]
url = "sqlite:///{tmp_path / 'ledger.db'}"
[archive]
path = "{tmp_path / 'archive'}"
[channels.bfs_email]
host = "127.0.0.1"
port = {port}
security = "none"
username = "{dovecot.user}"
password_env = ""
password_file = "{dovecot.password_file}"
action = "flag"
{extra}
""")
    return config


def _inspect(config: Path, *args: str, command: str = "inspect") -> tuple[int, str]:
    result = CliRunner().invoke(app, ["mailbox", command, "--config", str(config), *args])
    return result.exit_code, result.output


def test_inspect_shows_the_mailbox_and_the_next_run_and_takes_nothing(
    dovecot: DovecotServer, commands: CommandLog, tmp_path: Path
) -> None:
    first = [dovecot.append(with_pdf(f"i-{n}"), internal_date=datetime(2024, 5, 1 + n, tzinfo=UTC))
             for n in range(3)]
    config = _config(tmp_path, dovecot, commands.port)
    # Before any run (no ledger yet): everything would be fetched.
    code, output = _inspect(config)
    assert code == 0, output
    assert "mailbox: IMAP 127.0.0.1" in output and "login password" in output
    assert "AUTH LOGIN, PLAIN" in output and "MOVE yes; UIDPLUS yes" in output
    assert "folder 'INBOX': 3 message(s)" in output and "delivered 2024-05-01 .. 2024-05-03 (UTC)" in output
    assert "keeps new keywords: yes" in output
    assert "next run: 3 to fetch (3 new above UID 0, 0 older not handled)" in output
    assert "the ledger cannot be read" in output
    assert dovecot.password not in output

    # A run took the first three (recorded in the ledger); two arrive since.
    settings = load_settings(config)
    ledger = open_ledger(settings.ledger_url)
    try:
        with MailboxSession(settings.channels.bfs_email.model_copy(update={"port": dovecot.port})) as session:
            for message in session.poll(ledger, "America/New_York"):
                ledger.record_message(message)
    finally:
        ledger.close()
    later = [dovecot.append(with_pdf(f"j-{n}")) for n in range(2)]
    flags_before = dovecot.flags()
    commands.clear()
    code, output = _inspect(config, "--json")
    assert code == 0, output
    report = json.loads(output)
    (folder,) = report["folders"]
    assert folder["messages"] == 5
    assert folder["next_run"] == {"new": 2, "above_uid": max(first), "older_not_handled": 0, "actions_to_catch_up": 3,
                                  "to_read": 2, "window": []}
    assert report["auth_mechanisms"] == ["LOGIN", "PLAIN"] and report["problems"] == []
    assert later == sorted(later)
    # Nothing fetched but dates, nothing stored or expunged, no flag changed.
    sent = bytes(commands.sent)
    assert b"BODY" not in sent and b"STORE" not in sent and b"EXPUNGE" not in sent and b"CLOSE" not in sent
    assert dovecot.flags() == flags_before


def test_inspect_names_a_folder_without_keywords_and_the_window(dovecot: DovecotServer, tmp_path: Path) -> None:
    proxy = RewritingProxy(dovecot.port, b" \\*)]", b")]")
    try:
        dovecot.append(with_pdf("k-1"))
        config = _config(tmp_path, dovecot, proxy.port, extra="max_age_days = 30")
        code, output = _inspect(config)
        checked, check_output = _inspect(config, command="check")
    finally:
        proxy.close()
    assert code == 0, output
    assert "keeps new keywords: no" in output
    assert 'PROBLEM: the folder keeps no new keywords: action = "flag" leaves handled messages unmarked' in output
    assert 'set action = "move"' in output
    assert "server-side window: SINCE " in output
    assert checked == 5 and "PROBLEM: the folder keeps no new keywords" in check_output  # check: a problem fails


def test_inspect_a_mailbox_it_cannot_open_exits_5(dovecot: DovecotServer, tmp_path: Path) -> None:
    config = _config(tmp_path, dovecot, dovecot.port)
    (tmp_path / "wrong").write_text("not-the-password\n")
    config.write_text(config.read_text().replace(str(dovecot.password_file), str(tmp_path / "wrong")))
    code, output = _inspect(config)
    assert code == 5 and "cannot open folder" in output and "remedy:" in output
