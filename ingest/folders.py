"""The fax folders: the dedicated detainer line and the booking stations.

- Dedicated line: the files directly in ``channels.dedicated_fax.path``.
- Stations: one subfolder per station under ``channels.station_fax.path``; the folder name
  maps to a station code through ``station_map`` (default: the folder name itself).
- Never taken: ``processed/`` folders, names matching ``ignore`` (dotfiles, ``*.tmp``,
  ``~$*``, ``*.part``...), sidecar ``*.info`` files (metadata, read with their fax), anything
  that is not a regular file.
- A file is taken once complete: its mtime is older than ``now - quiet_seconds`` and a second
  stat a moment later (``min(quiet_seconds, SETTLE_SECONDS)``) shows the same size, mtime and
  inode; it is read, and a stat after the read must still match (else next run). What is read is
  the listed file or nothing: opened without following a symlink or waiting on a FIFO, checked to
  be the listed regular file, read to at most its listed size (``_read_as_listed``).
  ``quiet_seconds = 0`` takes files at once.
- ``received_at``: the sidecar's ``Received`` time, else the TIFF DateTime tag, else the
  mtime. The first two are local times in the department's zone, stored as UTC.
- Sources are never deleted. Arrivals whose source key is known are skipped unread. The
  post-commit action (``MoveToProcessed`` with ``move_processed``, else ``LeaveInPlace``; run by
  the orchestrator through ``ingest.fax_channel``) files a fax and its sidecar under
  ``<folder>/processed/`` (created owner-only, 0700: the faxes hold personal data).
  A known file still in place (the process died between the commit and the move) is filed
  by the next poll, as the mailbox redoes a missed action: it is committed, so moving it is safe.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TypeVar

from core.channels import Channel
from core.config import FolderChannelSettings
from core.errors import ChannelUnavailable
from core.files import private_dir
from core.formats import Format, sniff_document
from ingest.archive import Archive
from ingest.channel import Committed, Reached, Reading, Recorder, nowhere
from ingest.faxmeta import SIDECAR_SUFFIX, FaxMeta, sidecar_for, sidecar_meta, tiff_meta
from ingest.models import Receipt, ReceivedDocument, ReceivedFrom
from ingest.names import sanitize_filename
from ingest.state import IntakeState

log = logging.getLogger(__name__)

PROCESSED_DIR = "processed"
SETTLE_SECONDS = 1.0  # gap between the two stats of a file that already looks quiet
NAME_MAX_BYTES = 255  # longest file name (bytes) of common file systems
ExtractionT = TypeVar("ExtractionT")
OutcomeT = TypeVar("OutcomeT")


@dataclass(frozen=True)
class FolderArrival:
    """A received fax file and where it lies (for the post-commit move)."""

    document: ReceivedDocument
    path: Path
    sidecar: Path | None = None

    @property
    def receipt(self) -> Receipt:
        return self.document.receipt

    # the Arrival protocol (ingest.channel)
    @property
    def channel(self) -> Channel:
        return self.receipt.channel

    @property
    def documents(self) -> Sequence[ReceivedDocument]:
        return [self.document]

    @property
    def received_at(self) -> datetime:
        return self.receipt.received_at

    def store(self, archive: Archive, reached: Reached = nowhere) -> None:
        archive.store(self.document.content)
        reached("poll.stored")

    def commit(
        self,
        recorder: Recorder[ExtractionT, OutcomeT],
        readings: Sequence[Reading[ExtractionT]],
        reached: Reached = nowhere,
    ) -> Committed[OutcomeT]:
        (reading,) = readings
        reached("commit.before")
        outcome = recorder.record(reading.receipt, reading.extraction, quarantine=reading.quarantine)
        reached("commit.after")
        return Committed([outcome])


@dataclass(frozen=True)
class UnreadableFile:
    """A file the poll listed but could not read (no permission, an I/O error). Nothing was
    received, so nothing is stored; its commit is a quarantine record keyed by the file's source
    key (never a silent skip), and the file is tried again by every poll until it can be read."""

    channel: Channel
    source_key: str
    reason: str  # the error's class (or the size): no path, no personal data
    received_at: datetime
    slug: str = "unreadable_file"  # the quarantine reason: unreadable_file | too_large

    @property
    def documents(self) -> Sequence[ReceivedDocument]:
        return []

    def store(self, archive: Archive, reached: Reached = nowhere) -> None:
        pass

    def commit(
        self,
        recorder: Recorder[ExtractionT, OutcomeT],
        readings: Sequence[Reading[ExtractionT]],
        reached: Reached = nowhere,
    ) -> Committed[OutcomeT]:
        recorder.record_unreadable(self.source_key, self.channel.value, self.reason, self.received_at, self.slug)
        return Committed([])


@dataclass(frozen=True)
class _Candidate:
    path: Path
    relative: str  # relative to the channel folder, "/"-separated
    station: str | None
    stat: os.stat_result


def source_key(channel: Channel, relative: str, st: os.stat_result) -> str:
    return f"file:{channel.value}:{relative}:{st.st_size}:{st.st_mtime_ns}"


def poll_fax_folder(
    settings: FolderChannelSettings,
    channel: Channel,
    state: IntakeState,
    *,
    tz: str,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_bytes: int | None = None,
) -> Iterator[FolderArrival | UnreadableFile]:
    """New complete files of one fax channel, oldest first.

    ``now`` and ``sleep`` are injectable for tests. Raises ``ChannelUnavailable`` when the
    folder cannot be read at all.
    """
    known = state.known_source_keys(f"file:{channel.value}:")
    action = folder_action(settings)
    now = now or datetime.now(UTC)
    quiet = max(0.0, settings.quiet_seconds)
    cutoff_ns = int((now.timestamp() - quiet) * 1e9)
    pending = []
    for candidate in sorted(_candidates(settings, channel), key=lambda c: (c.stat.st_mtime_ns, c.relative)):
        if source_key(channel, candidate.relative, candidate.stat) in known:
            action.catch_up(candidate.path, candidate.relative, channel)
            continue
        if quiet and candidate.stat.st_mtime_ns > cutoff_ns:
            log.debug("%s: %s not quiet yet", channel.value, candidate.relative)
            continue
        pending.append(candidate)
    if quiet and pending:
        sleep(min(quiet, SETTLE_SECONDS))
    for candidate in pending:
        if max_bytes is not None and candidate.stat.st_size > max_bytes:
            # Never read into memory: a file over the input limit costs its listing only.
            log.warning("%s: %s is over [archive] max_file_bytes (%d bytes); not read", channel.value,
                        candidate.relative, candidate.stat.st_size)
            yield UnreadableFile(channel, source_key(channel, candidate.relative, candidate.stat),
                                 f"{candidate.stat.st_size} bytes, over the limit of {max_bytes}",
                                 mtime_utc(candidate.stat.st_mtime_ns), slug="too_large")
            continue
        arrival = _read(candidate, channel, tz, recheck=bool(quiet))
        if arrival is not None:
            yield arrival


def move_to_processed(arrival: FolderArrival) -> Path | None:
    """Move the fax (and its sidecar) to ``<its folder>/processed/``; None when it is gone.

    Post-commit only: call after the ledger committed the receipt.
    """
    if not arrival.path.exists():
        log.warning("post-commit move: file already gone (%s)", arrival.receipt.source_key)
        return None
    return _move(arrival.path, arrival.sidecar)


class LeaveInPlace:
    """Post-commit action of a folder without ``move_processed``: the file stays; the ledger knows it was taken."""

    def complete(self, arrival: FolderArrival) -> Path | None:
        return None

    def catch_up(self, path: Path, relative: str, channel: Channel) -> None:
        pass


class MoveToProcessed:
    """Post-commit action ``move_processed``: the fax and its sidecar go to ``processed/`` beside it."""

    def complete(self, arrival: FolderArrival) -> Path | None:
        return move_to_processed(arrival)

    def catch_up(self, path: Path, relative: str, channel: Channel) -> None:
        """File a committed fax whose post-commit move did not happen; a failure waits for the next poll."""
        try:
            _move(path, sidecar_for(path))
        except OSError as exc:
            log.warning("%s: missed move of %s failed (%s); retried next poll", channel.value, relative,
                        type(exc).__name__)
            return
        log.info("%s: %s was committed earlier; moved to %s/ now", channel.value, relative, PROCESSED_DIR)


FolderAction = LeaveInPlace | MoveToProcessed


def folder_action(settings: FolderChannelSettings) -> FolderAction:
    return MoveToProcessed() if settings.move_processed else LeaveInPlace()


def _move(path: Path, sidecar: Path | None) -> Path:
    target_dir = _processed_dir(path.parent)
    target = _free_name(target_dir, path.name)
    os.rename(path, target)
    if sidecar is not None and sidecar.exists():
        if sidecar.name == path.name + SIDECAR_SUFFIX:
            sidecar_name = target.name + SIDECAR_SUFFIX
        else:
            sidecar_name = target.stem + SIDECAR_SUFFIX
        os.rename(sidecar, _free_name(target_dir, sidecar_name))
    return target


def _processed_dir(folder: Path) -> Path:
    """``<folder>/processed/``; created owner-only (the faxes are personal data), an existing one keeps its mode."""
    return private_dir(folder / PROCESSED_DIR)


def complete_arrival(settings: FolderChannelSettings, arrival: FolderArrival) -> Path | None:
    """The channel's post-commit action: move when ``move_processed`` is set."""
    return folder_action(settings).complete(arrival)


def _free_name(folder: Path, name: str) -> Path:
    stem, suffix = Path(name).stem, Path(name).suffix
    target = folder / _fitting(stem, suffix)
    n = 1
    while target.exists():
        target = folder / _fitting(stem, f"-{n}{suffix}")
        n += 1
    return target


def _fitting(stem: str, tail: str, limit: int = NAME_MAX_BYTES) -> str:
    """``stem + tail``, the stem shortened so that the name fits the file system's limit (in bytes)."""
    room = limit - len(tail.encode("utf-8", "surrogateescape"))
    encoded = stem.encode("utf-8", "surrogateescape")
    if len(encoded) > room:
        stem = encoded[:room].decode("utf-8", "ignore")
    return stem + tail


def _candidates(settings: FolderChannelSettings, channel: Channel) -> Iterator[_Candidate]:
    root = settings.path
    if root is None or not root.is_dir():
        raise ChannelUnavailable(f"{channel.value}: folder is not configured or does not exist")
    try:
        entries = sorted(root.iterdir())
    except OSError as exc:
        raise ChannelUnavailable(f"{channel.value}: folder cannot be listed ({type(exc).__name__})") from exc
    if channel is not Channel.station_fax:
        yield from _files(entries, "", None, settings)
        return
    station_map: dict[str, str] = getattr(settings, "station_map", {}) or {}
    for entry in entries:
        if _ignored(entry.name, settings) or entry.name == PROCESSED_DIR:
            continue
        if entry.is_dir() and not entry.is_symlink():
            try:
                files = sorted(entry.iterdir())
            except OSError as exc:
                log.warning("%s: station folder %s cannot be listed (%s)", channel.value, entry.name,
                            type(exc).__name__)
                continue
            yield from _files(files, entry.name + "/", station_map.get(entry.name, entry.name), settings)
        elif entry.is_file():
            log.warning("%s: file outside a station folder not taken: %s", channel.value, entry.name)


def _files(
    entries: list[Path], prefix: str, station: str | None, settings: FolderChannelSettings
) -> Iterator[_Candidate]:
    for path in entries:
        if _ignored(path.name, settings) or path.name.lower().endswith(SIDECAR_SUFFIX):
            continue
        try:
            st = path.lstat()
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            yield _Candidate(path, prefix + path.name, station, st)


def _ignored(name: str, settings: FolderChannelSettings) -> bool:
    lowered = name.lower()
    return any(fnmatchcase(lowered, pattern.lower()) for pattern in settings.ignore)


def _signature(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _read(
    candidate: _Candidate, channel: Channel, tz: str, *, recheck: bool
) -> FolderArrival | UnreadableFile | None:
    path, before = candidate.path, _signature(candidate.stat)
    try:
        if recheck and _signature(path.lstat()) != before:
            log.debug("%s: %s still changing", channel.value, candidate.relative)
            return None
        content = _read_as_listed(path, candidate.stat)
        if content is None or _signature(path.lstat()) != before:
            log.debug("%s: %s changed while read", channel.value, candidate.relative)
            return None
    except FileNotFoundError:
        log.debug("%s: %s is gone", channel.value, candidate.relative)
        return None
    except OSError as exc:
        if not _still_listed(path, candidate.stat):  # replaced or removed meanwhile: the next poll sees it
            log.debug("%s: %s changed while read", channel.value, candidate.relative)
            return None
        # still the listed file, and not readable: quarantined by its source key, tried again next poll
        log.warning("%s: %s cannot be read (%s)", channel.value, candidate.relative, type(exc).__name__)
        return UnreadableFile(channel, source_key(channel, candidate.relative, candidate.stat), type(exc).__name__,
                              mtime_utc(candidate.stat.st_mtime_ns))
    sidecar = sidecar_for(path)
    try:
        received_at, received_from, sender = _receive_time(candidate, content, sidecar, tz)
    except Exception as exc:  # the fax server's metadata only dates the arrival: it never stops one
        log.warning("%s: %s has unreadable fax metadata (%s); dated by its mtime", channel.value, candidate.relative,
                    type(exc).__name__)
        received_at, received_from, sender = mtime_utc(candidate.stat.st_mtime_ns), "mtime", None
    document = ReceivedDocument.build(
        content,
        channel=channel,
        station=candidate.station,
        source_key=source_key(channel, candidate.relative, candidate.stat),
        received_at=received_at,
        received_from=received_from,
        file_name=sanitize_filename(path.name),
        sender=sender,
    )
    return FolderArrival(document=document, path=path, sidecar=sidecar)


def _still_listed(path: Path, listed: os.stat_result) -> bool:
    try:
        now = path.lstat()
    except OSError:
        return False
    return stat.S_ISREG(now.st_mode) and _signature(now) == _signature(listed)


def _read_as_listed(path: Path, listed: os.stat_result) -> bytes | None:
    """The bytes of ``path`` if it is still the regular file that was listed; None when it changed.

    Whatever lies at ``path`` by now is opened without following a symlink and without waiting
    for a writer (a FIFO would block the poll for ever), and is read only if it is the listed file
    (same inode, size and mtime), at most one byte past the listed size (a file still growing
    costs no more than it was).
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with open(descriptor, "rb", closefd=True) as handle:
        opened = os.fstat(descriptor)
        if not stat.S_ISREG(opened.st_mode) or _signature(opened) != _signature(listed):
            return None
        content = handle.read(listed.st_size + 1)
        if len(content) != listed.st_size or _signature(os.fstat(descriptor)) != _signature(listed):
            return None
    return content


def _receive_time(
    candidate: _Candidate, content: bytes, sidecar: Path | None, tz: str
) -> tuple[datetime, ReceivedFrom, str | None]:
    from_sidecar = FaxMeta()
    if sidecar is not None:
        try:
            from_sidecar = sidecar_meta(sidecar, tz)
        except OSError as exc:
            log.warning("sidecar of %s cannot be read (%s)", candidate.relative, type(exc).__name__)
    from_tiff = tiff_meta(content, tz) if sniff_document(content) is Format.tiff else FaxMeta()
    sender = from_sidecar.sender or from_tiff.sender
    if from_sidecar.received_at is not None:
        return from_sidecar.received_at, "sidecar", sender
    if from_tiff.received_at is not None:
        return from_tiff.received_at, "tiff_datetime", sender
    return mtime_utc(candidate.stat.st_mtime_ns), "mtime", sender


def mtime_utc(mtime_ns: int) -> datetime:
    """A file mtime as an aware UTC datetime, exact to the microsecond."""
    seconds, nanos = divmod(mtime_ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=nanos // 1000)
