"""Personal data at rest is owner-only; credentials never come from the config file nor reach a log.

- After a real `detainer-intake run` and `detainer-intake report` under a permissive umask
  (002), every folder the intake created for its data (database, archive, extraction cache,
  report) is 0700 and every file in them 0600; the fax folders' ``processed/`` folders it
  created are 0700 too (an existing one keeps the mode its owner gave it).
- A configuration holding a mailbox password (or any key the program does not know) is
  refused, without echoing the value.
- A failing IMAP login (a real Dovecot) leaves the password in no log line, exception or
  flow-task error, whether it came from the environment or from a file.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from core.channels import Channel
from core.config import FolderChannelSettings, StationChannelSettings, load_settings
from core.errors import ChannelUnavailable, ConfigError
from core.logs import install_redaction
from flows.steps import Intake
from flows.tasks import poll_task
from ingest.configured import channel_for
from ingest.folders import complete_arrival, poll_fax_folder
from ingest.mailbox import MailboxSession
from ingest.state import MemoryState
from tests import run_support as rs
from tests.flow_support import snapshot_of

if TYPE_CHECKING:
    from tests.imap_server import DovecotServer

pytest_plugins = ["tests.server_support", "tests.imap_server"]

SUBSET = {"R007", "R029", "R031"}  # a fax, a mailed detainer packet, a truncated TIFF (quarantined)
SECRET = "Zq7-not-in-any-log-4711"


def modes(root: Path) -> dict[str, str]:
    """Relative path -> octal permission bits of ``root`` and everything below it."""
    found = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for path in sorted(root.rglob("*")):
        found[path.relative_to(root).as_posix()] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


@pytest.mark.slow
def test_database_archive_cache_and_report_are_owner_only(
    tmp_path: Path, truth: dict[str, Any], prefect_server: dict[str, str]
) -> None:
    corpus = rs.build_corpus(tmp_path / "corpus", truth, SUBSET)
    data = tmp_path / "data"  # does not exist yet: the intake creates it
    config = rs.intake_config(
        tmp_path / "config.toml",
        corpus=corpus,
        data=data,
        cache=data / "extractions",
        move_processed=True,
        mail_action="none",
    )
    run = rs.run_cli(config, prefect_server, tmp_path / "logs-run", umask=0o002)
    assert run.returncode == 0, run.describe()
    report = rs.run_cli(
        config,
        prefect_server,
        tmp_path / "logs-report",
        umask=0o002,
        args=("report", "--year", "2025", "--out", str(data / "reports" / "2025")),
    )
    assert report.returncode == 0, report.describe()

    assert snapshot_of(config)["receipts"], "the run recorded nothing: the test would prove nothing"
    found = modes(data)
    wanted = {"archive", "extractions", "reports/2025", "ledger.db"}
    assert wanted <= set(found), sorted(found)
    assert any(p.startswith("archive/") for p in found) and any(p.startswith("extractions/") for p in found)
    assert any(p.startswith("reports/2025/") for p in found)
    too_open = {path: mode for path, mode in found.items() if mode != ("0o700" if (data / path).is_dir() else "0o600")}
    assert too_open == {}, "group/other can read personal data"
    processed = {p.relative_to(corpus).as_posix(): modes(p)["."] for p in corpus.rglob("processed") if p.is_dir()}
    assert processed and set(processed.values()) == {"0o700"}, processed


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def test_new_sqlite_ledger_folders_are_owner_only_at_every_level(tmp_path: Path) -> None:
    """A ledger path whose folders do not exist yet gets every new level 0700 (mkdir(parents=True) would
    give the upper ones the umask's mode) and the database file 0600; an existing folder keeps its mode."""
    from ledger.db import open_ledger

    tmp_path.chmod(0o755)
    with umask(0o002):
        ledger = open_ledger(f"sqlite:///{tmp_path}/state/ledgers/2026/ledger.db")
        ledger.close()
    assert modes(tmp_path / "state") == {
        ".": "0o700",
        "ledgers": "0o700",
        "ledgers/2026": "0o700",
        "ledgers/2026/ledger.db": "0o600",
    } | {k: "0o600" for k in modes(tmp_path / "state") if k.startswith("ledgers/2026/ledger.db-")}
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_processed_folders_are_created_owner_only(tmp_path: Path) -> None:
    """processed/ holds the same faxes as the archive: 0700 when the post-commit move creates it, or the
    next poll's redone move (the process died after the commit); an existing one keeps its mode."""
    line, stations = tmp_path / "dedicated", tmp_path / "stations"
    for path in (line / "fax1.pdf", stations / "C-6" / "fax2.pdf", stations / "D-4" / "fax3.pdf"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4 " + path.name.encode())
    (stations / "D-4" / "processed").mkdir(mode=0o750)
    (stations / "D-4" / "processed").chmod(0o750)  # made by the fax server, say
    state = MemoryState()
    line_settings = FolderChannelSettings(path=line, quiet_seconds=0, move_processed=True)
    station_settings = StationChannelSettings(path=stations, quiet_seconds=0, move_processed=True)
    with umask(0o002):
        for arrival in poll_fax_folder(line_settings, Channel.dedicated_fax, state, tz="America/New_York"):
            state.commit_document(arrival.document)
            complete_arrival(line_settings, arrival)
        for arrival in poll_fax_folder(station_settings, Channel.station_fax, state, tz="America/New_York"):
            state.commit_document(arrival.document)  # not moved: the process dies here
        assert list(poll_fax_folder(station_settings, Channel.station_fax, state, tz="America/New_York")) == []
    assert modes(line / "processed")["."] == "0o700"
    assert modes(stations / "C-6" / "processed")["."] == "0o700"
    assert modes(stations / "D-4" / "processed")["."] == "0o750"
    assert (line / "processed" / "fax1.pdf").exists() and (stations / "C-6" / "processed" / "fax2.pdf").exists()
    assert (stations / "D-4" / "processed" / "fax3.pdf").exists()


# --------------------------------------------------------------------------- credentials


def config_with(tmp_path: Path, section: str, line: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[channels.bfs_email]\nenabled = true\nhost = "imap.dept.example"\nusername = "bfs"\n'
        f"{line if section == 'channels.bfs_email' else ''}\n"
        + (f"[{section}]\n{line}\n" if section != "channels.bfs_email" else ""),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("section", "line"),
    [
        ("channels.bfs_email", f'password = "{SECRET}"'),
        ("channels.bfs_email", f'imap_password = "{SECRET}"'),
        ("ledger", f'password = "{SECRET}"'),
        ("channels.dedicated_fax", f'move_procesed = "{SECRET}"'),  # a typo is refused too, not ignored
    ],
)
def test_config_holding_a_password_or_unknown_key_is_refused(tmp_path: Path, section: str, line: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(config_with(tmp_path, section, line))
    assert line.split(" =")[0] in refused.value.message  # says which key
    assert SECRET not in refused.value.message  # never echoes the value


def test_password_in_the_environment_under_a_config_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DETAINER_INTAKE_CHANNELS__BFS_EMAIL__PASSWORD", SECRET)
    with pytest.raises(ConfigError) as refused:
        load_settings(config_with(tmp_path, "channels.bfs_email", ""))
    assert SECRET not in refused.value.message


def test_password_comes_from_the_named_variable_or_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(config_with(tmp_path, "channels.bfs_email", 'password_env = "MY_BFS_PASSWORD"'))
    monkeypatch.setenv("MY_BFS_PASSWORD", SECRET)
    assert settings.channels.bfs_email.password() == SECRET
    secret_file = tmp_path / "bfs.pass"
    secret_file.write_text(SECRET + "\n")
    settings = load_settings(config_with(tmp_path, "channels.bfs_email", f'password_file = "{secret_file}"'))
    assert settings.channels.bfs_email.password() == SECRET


class Everything(logging.Handler):
    """Every record of every logger, formatted with its traceback, as the console would print it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def chain(exc: BaseException | None) -> str:
    texts = []
    while exc is not None:
        texts.append(f"{type(exc).__name__}: {exc} {exc.args!r}")
        exc = exc.__cause__ or exc.__context__
    return "\n".join(texts)


def refused_login(mail: Any, tmp_path: Path, *, through_flow: bool) -> list[str]:
    """Open the mailbox directly and (``through_flow``) through the pipeline step and the flow task.

    Every attempt must fail (Dovecot delays each failed login ~2 s); returns the errors' texts with causes.
    """
    with pytest.raises(ChannelUnavailable) as direct, MailboxSession(mail):
        pass
    assert "cannot open folder" in str(direct.value)  # the failure itself is reported
    texts = [chain(direct.value)]
    if not through_flow:
        return texts
    config = rs.intake_config(tmp_path / "config.toml", corpus=tmp_path, data=tmp_path / "data")
    settings = load_settings(config)
    settings = settings.model_copy(update={"channels": settings.channels.model_copy(update={"bfs_email": mail})})
    intake = Intake.open(settings)
    try:
        with pytest.raises(ChannelUnavailable) as task:
            poll_task.fn(intake, channel_for(Channel.bfs_email, settings))  # the poll in the task's scrubbing wrapper
    finally:
        intake.close()
    return [*texts, chain(task.value)]


@pytest.mark.imap
def test_imap_password_is_in_no_log_or_error_when_login_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dovecot: DovecotServer
) -> None:
    handler = Everything()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    install_redaction()
    try:
        with MailboxSession(dovecot.settings()) as session:  # the control: the right password opens it
            assert session is not None
        monkeypatch.setenv("BFS_TEST_PASSWORD", SECRET)
        from_env = dovecot.settings(password_env="BFS_TEST_PASSWORD", password_file=None)
        (tmp_path / "pass").write_text(SECRET + "\n")
        from_file = dovecot.settings(password_file=tmp_path / "pass")
        assert from_env.password() == from_file.password() == SECRET
        texts = refused_login(from_env, tmp_path, through_flow=True) + refused_login(
            from_file, tmp_path, through_flow=False
        )
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    assert handler.lines, "nothing was logged: the test would prove nothing"
    leaked = [t for t in [*handler.lines, *texts] if SECRET in t or dovecot.password in t]
    assert leaked == [], "an IMAP password leaked"
