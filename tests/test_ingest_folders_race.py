"""Files that change under the poll (hypothesis): between the listing and the reading a file grows,
shrinks, is replaced, removed, or becomes a directory, a FIFO or a symlink. The poll never fails or
hangs; it takes a file only as it was listed (its bytes match its source key), leaves a changed one
for the next run, and the next run takes whatever regular file is there then."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.channels import Channel
from core.config import FolderChannelSettings
from ingest.folders import FolderArrival, poll_fax_folder
from ingest.state import MemoryState

TZ = "America/New_York"
NOW = datetime(2025, 3, 4, 15, 0, 0, tzinfo=UTC)
LATER = datetime.now(UTC) + timedelta(days=1)  # every file, whenever written, looks quiet by then
PDF = b"%PDF-1.4\n%%EOF\n"
CHANGES = ("none", "grow", "truncate", "replace_same_size", "replace_other", "remove", "directory", "fifo",
           "symlink_file", "symlink_fifo", "touch")


class Hung(Exception):
    pass


@contextmanager
def bounded(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise Hung(f"the poll did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _put(path: Path, content: bytes, mtime: datetime) -> Path:
    path.write_bytes(content)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def _change(path: Path, how: str, outside: Path) -> None:
    listed = path.stat()
    if how == "grow":
        with path.open("ab") as handle:
            handle.write(b"more scanlines")
        os.utime(path, ns=(listed.st_atime_ns, listed.st_mtime_ns))  # a writer with a slow clock
    elif how == "truncate":
        os.truncate(path, 3)
    elif how in ("replace_same_size", "replace_other"):
        content = bytes(listed.st_size) if how == "replace_same_size" else b"another fax"
        fresh = path.with_name(path.name + ".new")
        fresh.write_bytes(content)
        os.utime(fresh, ns=(listed.st_atime_ns, listed.st_mtime_ns))
        os.replace(fresh, path)  # a new inode, the same size and mtime
    elif how == "remove":
        path.unlink()
    elif how == "directory":
        path.unlink()
        path.mkdir()
    elif how == "fifo":
        path.unlink()
        os.mkfifo(path)
    elif how == "symlink_file":
        path.unlink()
        path.symlink_to(outside / "elsewhere.pdf")
    elif how == "symlink_fifo":
        path.unlink()
        path.symlink_to(outside / "pipe")
    elif how == "touch":
        os.utime(path)


def _poll(folder: Path, quiet: float, now: datetime, sleep: Any = None,
          between: Any = None) -> list[FolderArrival]:
    arrivals = []
    settings = FolderChannelSettings(path=folder, quiet_seconds=quiet)
    with bounded(5):
        for arrival in poll_fax_folder(settings, Channel.dedicated_fax, MemoryState(), tz=TZ, now=now,
                                       sleep=sleep or (lambda _: None)):
            arrivals.append(arrival)
            if between is not None and len(arrivals) == 1:
                between()
    return arrivals


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.lists(st.sampled_from(CHANGES), min_size=1, max_size=5),
    quiet=st.sampled_from([0.0, 30.0]),
    during_settle=st.booleans(),
)
def test_files_changing_under_the_poll(
    tmp_path_factory: pytest.TempPathFactory, changes: list[str], quiet: float, during_settle: bool
) -> None:
    folder = tmp_path_factory.mktemp("poll")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "elsewhere.pdf").write_bytes(PDF + b"not this folder's")
    os.mkfifo(outside / "pipe")
    first = _put(folder / "000-first.pdf", PDF + b"first", NOW - timedelta(hours=2))  # read before any change
    original = {first: first.read_bytes()}
    for number in range(len(changes)):
        path = _put(folder / f"fax{number:02}.pdf", PDF + f"fax {number}".encode(), NOW - timedelta(hours=1))
        original[path] = path.read_bytes()

    def change_all(*_: object) -> None:
        for number, how in enumerate(changes):
            _change(folder / f"fax{number:02}.pdf", how, outside)

    # The changes come in the quiet period's settle pause, or (any quiet period) between the reading of
    # the first file and the others: the poll reads one file at a time, as its consumer asks.
    in_settle = quiet > 0 and during_settle
    arrivals = _poll(folder, quiet, NOW, sleep=change_all if in_settle else None,
                     between=None if in_settle else change_all)

    taken = {arrival.path: arrival.document.content for arrival in arrivals}
    for path, content in taken.items():
        assert content == original[path], path.name  # a file is taken only as it was listed
    for number, how in enumerate(changes):
        if how == "none":
            assert folder / f"fax{number:02}.pdf" in taken  # an unchanged neighbour is taken

    # The next run takes whatever regular file lies there now, as it is then.
    again = {arrival.path: arrival.document.content for arrival in _poll(folder, quiet, LATER)}
    for number in range(len(changes)):
        path = folder / f"fax{number:02}.pdf"
        if path.is_file() and not path.is_symlink():
            assert again[path] == path.read_bytes()
        else:
            assert path not in again
