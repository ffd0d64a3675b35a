"""Helpers for the reliability tests: `detainer-intake run` as a subprocess, and checks on what it left.

- ``intake_config`` writes a configuration whose fax folders move committed files to
  ``processed/`` and whose Maildir moves handled messages to ``.Processed``.
- ``run_cli`` runs the real command line in its own session, optionally killed at a crash
  point (``flows.crashpoints``) or after a delay, and reaps whatever it left behind.
- ``placement`` / ``mail_placement`` say where every original file and message ended up;
  ``mail_rows`` / ``quarantine_rows`` / ``archive_damage`` read the stores directly.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.config import load_settings
from flows.crashpoints import ENV as CRASH_ENV
from flows.steps import Intake
from ledger import schema
from tests.conftest import OCR_CACHE_ENV, SAMPLE_ROOT, copy_corpus, write_config

CLI = Path(sys.executable).with_name("detainer-intake")
CLI_ENV_SKIP = ("PREFECT_", "DETAINER_INTAKE_")
FAX_FOLDERS = ("dedicated", "stations")
MAIL_SUBDIRS = ("new", "cur")


def intake_config(
    path: Path,
    *,
    corpus: Path,
    data: Path,
    cache: Path | None = None,
    ledger_url: str | None = None,
    mail_action: str = "move",
    move_processed: bool = True,
    extra: str = "",
) -> Path:
    """A configuration over ``corpus`` (laid out like sample_faxes/) with its own data folder."""
    return write_config(
        path, data_dir=data, sample_root=corpus, ledger_url=ledger_url, extraction_cache=cache,
        mail_action=mail_action, move_processed=move_processed, workers=1, extra=extra,
    )


def cli_env(prefect_api_url: str, prefect_home: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: the test's Prefect server, single-threaded Tesseract."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(CLI_ENV_SKIP)}
    env.update(
        PREFECT_API_URL=prefect_api_url,
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        OMP_THREAD_LIMIT="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


@dataclass
class CliRun:
    returncode: int
    seconds: float
    stdout: str
    stderr: str
    leftovers: int  # processes of the run's session still alive after it ended (killed by run_cli)

    @property
    def killed(self) -> bool:
        return self.returncode == -signal.SIGKILL

    def describe(self) -> str:
        head = f"exit {self.returncode} after {self.seconds:.1f}s"
        return f"{head}\n--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"


def run_cli(
    config: Path,
    env: dict[str, str],
    logs: Path,
    *,
    crash_at: str | None = None,
    kill_after: float | None = None,
    timeout: float = 180.0,
    args: tuple[str, ...] = ("run",),
    umask: int | None = None,
) -> CliRun:
    """``detainer-intake run --config CONFIG`` in a new session; SIGKILLed at ``crash_at`` or after ``kill_after`` s.

    The run shares the test session's OCR cache (``cli_env`` leaves out every other ``DETAINER_INTAKE_``
    variable). Output goes to files (an orphaned child holding a pipe open must not block the test).
    """
    env = dict(env)
    if os.environ.get(OCR_CACHE_ENV):  # the session's OCR cache (a real_tesseract test has none)
        env.setdefault(OCR_CACHE_ENV, os.environ[OCR_CACHE_ENV])
    if crash_at:
        env[CRASH_ENV] = crash_at
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / "stdout.txt", logs / "stderr.txt"
    start = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [str(CLI), *args, "--config", str(config)],
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
        )
        try:
            proc.wait(timeout=kill_after if kill_after is not None else timeout)
        except subprocess.TimeoutExpired:
            if kill_after is None:
                _kill_session(proc.pid)
                proc.wait()
                raise AssertionError(f"detainer-intake did not finish within {timeout}s") from None
            _kill_session(proc.pid)  # a power cut: the whole process tree at once
            proc.wait()
    seconds = time.monotonic() - start
    leftovers = _kill_session(proc.pid)
    return CliRun(
        proc.returncode,
        seconds,
        out_path.read_text(errors="replace"),
        err_path.read_text(errors="replace"),
        leftovers,
    )


def session_members(sid: int) -> list[int]:
    """Live processes whose session id is ``sid`` (the run and everything it started)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == sid:  # state, ppid, pgrp, session
            members.append(int(entry.name))
    return members


def _kill_session(sid: int) -> int:
    """SIGKILL every live process of the session ``sid`` (processes this test started); how many there were."""
    members = session_members(sid)
    for pid in members:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while session_members(sid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(members)


# --------------------------------------------------------------------------- where things ended up


def build_corpus(
    destination: Path, truth: dict[str, Any], receipt_ids: set[str], *, no_document_messages: bool = False
) -> Path:
    """A private copy of part of the sample corpus, every file with its receive-time mtime."""
    from samplegen.mtimes import file_mtimes

    copy_corpus(destination, truth, receipt_ids)
    if no_document_messages:
        for message in truth["messages"]:
            if message["no_document"]:
                target = destination / message["path"]
                target.write_bytes((SAMPLE_ROOT / message["path"]).read_bytes())
    (destination / "mailbox" / "tmp").mkdir(parents=True, exist_ok=True)
    for relative, when in file_mtimes(truth).items():
        for path in (destination / relative, destination / (relative + ".info")):
            if path.is_file():
                os.utime(path, (when, when))
    return destination


def originals(corpus: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every fax file (sidecars included) and mail message of a fresh corpus."""
    found = {}
    for folder in (*FAX_FOLDERS, *(f"mailbox/{sub}" for sub in MAIL_SUBDIRS)):
        for path in sorted((corpus / folder).rglob("*")):
            if path.is_file():
                found[path.relative_to(corpus).as_posix()] = sha256_file(path)
    return found


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def placement(corpus: Path, before: dict[str, str]) -> dict[str, list[str]]:
    """For each original fax file: every place it is now (in place, or ``processed/`` beside it).

    A file found nowhere maps to ``[]``; a copy under another name in processed/ counts too
    (matched by content), so a second move would show as two places.
    """
    where: dict[str, list[str]] = {}
    for relative, digest in before.items():
        if not relative.startswith(FAX_FOLDERS):
            continue
        path = corpus / relative
        places = []
        if path.is_file() and sha256_file(path) == digest:
            places.append("in_place")
        processed = path.parent / "processed"
        if processed.is_dir():
            places += [f"processed/{p.name}" for p in sorted(processed.iterdir()) if sha256_file(p) == digest]
        where[relative] = places
    return where


def mail_placement(corpus: Path, before: dict[str, str]) -> dict[str, list[str]]:
    """For each original message (by content): every Maildir folder it is in now."""
    root = corpus / "mailbox"
    by_digest: dict[str, list[str]] = {d: [] for r, d in before.items() if r.startswith("mailbox/")}
    for folder in (root, root / ".Processed"):
        for sub in MAIL_SUBDIRS:
            for path in sorted((folder / sub).glob("*")) if (folder / sub).is_dir() else []:
                digest = sha256_file(path)
                if digest in by_digest:
                    by_digest[digest].append(path.relative_to(root).as_posix())
    return {r: by_digest[d] for r, d in before.items() if r.startswith("mailbox/")}


def stray_files(corpus: Path, before: dict[str, str]) -> list[str]:
    """Files in the channel folders that are neither an original nor a moved original."""
    known = set(before.values())
    stray = []
    for folder in (*FAX_FOLDERS, "mailbox"):
        for path in sorted((corpus / folder).rglob("*")):
            if path.is_file() and sha256_file(path) not in known:
                stray.append(path.relative_to(corpus).as_posix())
    return stray


# --------------------------------------------------------------------------- ledger and archive


def run_in_process(config: Path) -> list[Any]:
    """One in-process run (``flows.sequence.run_once``) over ``config``; its commit summaries."""
    from flows.sequence import run_once

    intake = Intake.open(load_settings(config))
    try:
        return run_once(intake)
    finally:
        intake.close()


def event_header(number: str) -> Any:
    """A drawing for ``tests.born_digital.i247a_page``: the form's header with this event number."""

    def draw(page: Any) -> None:
        page.text(40, 100, f"Event #: {number}", 9)

    return draw


def open_intake(config: Path) -> Intake:
    return Intake.open(load_settings(config))


def _rows(config: Path, *columns: Any) -> list[tuple[str, str]]:
    intake = open_intake(config)
    try:
        with intake.ledger.engine.connect() as connection:
            rows = connection.execute(select(*columns)).all()
        return sorted((str(a), str(b)) for a, b in rows)
    finally:
        intake.close()


def mail_rows(config: Path) -> list[tuple[str, str]]:
    """(message key, status) of every mail message record."""
    return _rows(config, schema.MailMessage.message_key, schema.MailMessage.status)


def quarantine_rows(config: Path) -> list[tuple[str, str]]:
    """(input_ref, reason) of every quarantine record."""
    return _rows(config, schema.Quarantine.input_ref, schema.Quarantine.reason)


def table_counts(config: Path) -> dict[str, int]:
    """Row counts of the ledger tables an arrival writes to."""
    intake = open_intake(config)
    tables: list[Any] = [
        schema.Document,
        schema.Receipt,
        schema.MailMessage,
        schema.DetainerCopy,
        schema.Request,
        schema.RequestLink,
        schema.Quarantine,
        schema.ReviewItem,
    ]
    try:
        with intake.ledger.engine.connect() as connection:
            return {t.__tablename__: len(connection.execute(select(t.id)).all()) for t in tables}
    finally:
        intake.close()


def archive_damage(archive: Path) -> list[str]:
    """Archived files whose content does not match their name (a torn write would show here)."""
    damaged = []
    for path in archive.rglob("*"):
        if path.is_file() and not path.name.startswith(".tmp-") and sha256_file(path) != path.name:
            damaged.append(path.name[:12])
    return damaged
