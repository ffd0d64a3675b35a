"""Owner-only files written atomically: the one helper every stage uses for what it writes.

Everything the pipeline writes may hold personal data (archived documents, extraction results,
reports, crops), so files are 0600 and every folder created on the way is 0700, whatever the
umask. A reader sees the old file or the new one, never half of it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def private_dir(path: Path) -> Path:
    """``path`` as a folder; created 0700 when new, with any new parent (an existing folder keeps its mode)."""
    missing = []
    folder = path
    while not folder.is_dir():  # every missing level 0700: mkdir(parents=True) gives parents the umask's mode
        missing.append(folder)
        folder = folder.parent
    for level in reversed(missing):
        level.mkdir(mode=0o700, exist_ok=True)
        level.chmod(0o700)
    return path


def write_private(path: Path, content: str | bytes, *, durable: bool = True) -> Path:
    """Write ``path`` atomically as a 0600 file, creating its folder 0700 when missing.

    ``durable`` also syncs the folder entry, so the file survives a power cut once this returns.
    """
    payload = content.encode("utf-8") if isinstance(content, str) else content
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.name}.")  # created 0600; readers skip ".tmp-"
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)
    return path


def fsync_dir(folder: Path) -> None:
    """Persist a folder's entries (a rename is only durable once its folder is synced)."""
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be opened for sync
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
