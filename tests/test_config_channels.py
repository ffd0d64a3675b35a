"""A channel section that names its source is read unless it says ``enabled = false``: a configured
mailbox that is skipped without a word looks exactly like one that received nothing."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from core.config import load_settings
from core.errors import ChannelUnavailable
from flows import steps
from flows.sequence import run_once

BASE = """
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


def _config(tmp_path: Path, mail: str) -> Path:
    for folder in ("dedicated", "stations"):
        (tmp_path / "corpus" / folder).mkdir(parents=True, exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(BASE.format(data=tmp_path / "data", corpus=tmp_path / "corpus") + mail)
    return path


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the probe is closed


@pytest.mark.parametrize(
    ("section", "enabled"),
    [
        ('[channels.bfs_email]\nhost = "imap.example.org"\nusername = "bfs"\n', True),
        ('[channels.bfs_email]\nmaildir = "/srv/mail-export"\n', True),
        ('[channels.bfs_email]\nhost = "imap.example.org"\nenabled = false\n', False),
        ('[channels.bfs_email]\nusername = "bfs"\n', False),  # names no mailbox
        ("", False),
    ],
    ids=["host", "maildir", "disabled", "no-source", "no-section"],
)
def test_a_mailbox_that_is_named_is_read_unless_disabled(tmp_path: Path, section: str, enabled: bool) -> None:
    assert load_settings(_config(tmp_path, section)).channels.bfs_email.enabled is enabled


def test_a_named_mailbox_that_cannot_be_reached_fails_the_run_naming_it(tmp_path: Path) -> None:
    section = (
        f'[channels.bfs_email]\nhost = "127.0.0.1"\nport = {_closed_port()}\nsecurity = "none"\n'
        'username = "bfs"\npassword_env = "DETAINER_TEST_NO_SUCH_PASSWORD"\ntimeout_seconds = 5\n'
    )
    intake = steps.Intake.open(load_settings(_config(tmp_path, section)))
    try:
        with pytest.raises(ChannelUnavailable, match="bfs_email"):
            run_once(intake)
    finally:
        intake.close()
