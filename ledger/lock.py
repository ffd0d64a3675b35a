"""The run lock: at most one intake run per ledger at a time.

PostgreSQL: a session advisory lock held on a dedicated connection (released by the
server if the process dies). SQLite: an exclusive ``flock`` on ``<database>.lock``
next to the database file (released by the kernel if the process dies). Either way a
``run_locks`` row records the holder (pid, host, heartbeat) so that the refusal can say
who holds it.
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from core.errors import RunLocked
from ledger import schema

_POLL_SECONDS = 0.2
_memory_locks: dict[tuple[int, str], threading.Lock] = {}
_memory_guard = threading.Lock()


@dataclass
class LockHandle:
    engine: Engine
    name: str

    def heartbeat(self) -> None:
        """Mark the holder alive (long runs call this now and then; shown when a run is refused)."""
        with Session(self.engine) as session, session.begin():
            row = session.get(schema.RunLock, self.name)
            if row is not None:
                row.heartbeat_at = schema.utcnow()


def _holder(engine: Engine, name: str) -> str:
    try:
        with Session(engine) as session:
            row = session.get(schema.RunLock, name)
    except Exception:  # the refusal must not fail for want of details
        row = None
    if row is None or row.owner_pid is None:
        return ""
    since = row.acquired_at.isoformat(timespec="seconds") if row.acquired_at else "?"
    beat = row.heartbeat_at.isoformat(timespec="seconds") if row.heartbeat_at else "?"
    return f" by pid {row.owner_pid} on {row.owner_host} since {since} (last heartbeat {beat})"


def _mark(engine: Engine, name: str, held: bool) -> None:
    with Session(engine) as session, session.begin():
        row = session.get(schema.RunLock, name)
        if row is None:
            row = schema.RunLock(name=name)
            session.add(row)
        now = schema.utcnow()
        if held:
            row.owner_pid, row.owner_host = os.getpid(), socket.gethostname()
            row.acquired_at, row.heartbeat_at, row.released_at = now, now, None
        else:
            row.released_at, row.owner_pid = now, None


def _refuse(engine: Engine, name: str, waited: float) -> RunLocked:
    waited_text = f" after waiting {waited:g}s" if waited else ""
    return RunLocked(f"the run lock {name!r} is held{_holder(engine, name)}{waited_text}")


@contextmanager
def _pg_lock(engine: Engine, name: str, wait_seconds: float) -> Iterator[None]:
    key = {"name": f"detainer-intake:run:{name}"}
    connection: Connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        deadline = time.monotonic() + wait_seconds
        while not connection.execute(
            text("SELECT pg_try_advisory_lock(hashtext(current_schema()), hashtext(:name))"), key
        ).scalar():
            if time.monotonic() >= deadline:
                raise _refuse(engine, name, wait_seconds)
            time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(hashtext(current_schema()), hashtext(:name))"), key)
    finally:
        connection.close()


@contextmanager
def _file_lock(engine: Engine, name: str, wait_seconds: float) -> Iterator[None]:
    database = engine.url.database
    if not database or database == ":memory:":
        with _memory_lock(engine, name, wait_seconds):
            yield
        return
    path = Path(f"{database}.{name}.lock")
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _refuse(engine, name, wait_seconds) from None
                time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _memory_lock(engine: Engine, name: str, wait_seconds: float) -> Iterator[None]:
    with _memory_guard:
        lock = _memory_locks.setdefault((id(engine), name), threading.Lock())
    if not lock.acquire(timeout=wait_seconds) if wait_seconds > 0 else not lock.acquire(blocking=False):
        raise _refuse(engine, name, wait_seconds)
    try:
        yield
    finally:
        lock.release()


@contextmanager
def run_lock(engine: Engine, name: str = "daily_intake", wait_seconds: float = 0) -> Iterator[LockHandle]:
    """Hold the named run lock; ``RunLocked`` when another holder keeps it past ``wait_seconds``."""
    acquire = _pg_lock if engine.dialect.name == "postgresql" else _file_lock
    with acquire(engine, name, wait_seconds):
        _mark(engine, name, held=True)
        try:
            yield LockHandle(engine, name)
        finally:
            _mark(engine, name, held=False)
