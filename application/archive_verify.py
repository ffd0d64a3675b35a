"""The archive checked against the ledger: every file re-hashed, every expected file looked for.

The archive (``ingest.archive``) keeps each content at ``<root>/ab/cd/<sha256>``; the ledger
knows the SHA-256 (and size) of every document and of every mail message's raw bytes. A file
is **missing** when the ledger expects it and it is not there, **corrupt** when its bytes no
longer hash to its name (or its size is not the ledger's), **unreferenced** when the archive
holds it and the ledger does not know it (a stray or misplaced file, a leftover temporary file).
Files are read in 1 MiB chunks: memory stays bounded whatever their size. Only SHA-256s and
paths relative to the archive are reported: nothing personal.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

CHUNK = 1 << 20
EXIT_DAMAGED = 8  # `detainer-intake archive verify`: something missing, corrupt or unreferenced


@dataclass
class ArchiveReport:
    root: str
    expected: int = 0
    checked: int = 0
    bytes_read: int = 0
    missing: list[str] = field(default_factory=list)  # SHA-256s
    corrupt: list[str] = field(default_factory=list)  # SHA-256s
    unreferenced: list[str] = field(default_factory=list)  # paths relative to the root

    @property
    def ok(self) -> bool:
        return not (self.missing or self.corrupt or self.unreferenced)

    def counts(self) -> dict[str, int]:
        return {
            "expected": self.expected,
            "checked": self.checked,
            "missing": len(self.missing),
            "corrupt": len(self.corrupt),
            "unreferenced": len(self.unreferenced),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "root": self.root,
            **self.counts(),
            "bytes_read": self.bytes_read,
            "missing_files": self.missing,
            "corrupt_files": self.corrupt,
            "unreferenced_files": self.unreferenced,
        }

    def summary(self) -> str:
        c = self.counts()
        state = "ok" if self.ok else "DAMAGED"
        return (
            f"archive {state}: {c['checked']} of {c['expected']} expected files present and checked; "
            f"{c['missing']} missing, {c['corrupt']} corrupt, {c['unreferenced']} unreferenced"
        )


def file_sha256(path: Path) -> tuple[str, int]:
    """The file's SHA-256 and size, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _files(root: Path) -> Iterator[Path]:
    """Every regular file under ``root`` (symlinks are not followed: a link is a file of its own)."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            else:
                yield Path(entry.path)


class _Progress:
    """A progress line on ``stream`` (stderr): rewritten in place on a terminal, a line every few seconds else."""

    def __init__(self, stream: TextIO | None, total: int) -> None:
        self.stream, self.total = stream, total
        self.tty = bool(stream is not None and stream.isatty())
        self.last = 0.0

    def update(self, done: int, bytes_read: int, final: bool = False) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        if not final and now - self.last < (0.2 if self.tty else 5.0):
            return
        self.last = now
        text = f"archive verify: {done}/{self.total} files, {bytes_read / 1e6:.1f} MB"
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def verify_archive(
    root: Path, references: Mapping[str, int | None], progress: TextIO | None = None
) -> ArchiveReport:
    """Check the archive at ``root`` against ``references`` (SHA-256 -> expected size or None)."""
    root = Path(root)
    report = ArchiveReport(root=str(root), expected=len(references))
    meter = _Progress(progress, len(references))
    for sha in sorted(references):
        path = root / sha[:2] / sha[2:4] / sha
        if not path.is_file() or path.is_symlink():
            report.missing.append(sha)
        else:
            actual, size = file_sha256(path)
            report.bytes_read += size
            expected_size = references[sha]
            if actual != sha or (expected_size is not None and size != expected_size):
                report.corrupt.append(sha)
            report.checked += 1
        meter.update(report.checked + len(report.missing), report.bytes_read)
    meter.update(report.checked + len(report.missing), report.bytes_read, final=True)
    for path in _files(root):
        relative = path.relative_to(root)
        name = path.name
        canonical = relative.parts == (name[:2], name[2:4], name) and name in references
        if not canonical:
            report.unreferenced.append(relative.as_posix())
    return report
