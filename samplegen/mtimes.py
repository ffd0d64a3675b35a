"""Restores the corpus files' modification times from ``truth.json``.

Git does not keep mtimes, and station exports carry their receive time only in
the file's mtime, so ``bin/run-sample`` and ``bin/test`` call
``python -m samplegen restore-mtimes`` before anything reads the corpus. Only the
standard library is imported here: it runs in well under a second and is
idempotent (it sets, it never shifts). It also recreates the Maildir's empty
``tmp/`` folder, which git cannot store.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def file_mtimes(truth: dict) -> dict[str, float]:
    """Relative path -> mtime (epoch seconds) for every corpus file truth.json knows."""
    out: dict[str, float] = {}
    for rc in truth.get("receipts", []):
        if rc.get("channel") != "bfs_email":
            out[rc["path"]] = _epoch(rc["received_at"])
    for m in truth.get("messages", []):
        out[m["path"]] = _epoch(m["received_at"])
    return out


def restore_mtimes(root: Path) -> int:
    """Set each file's mtime (and its ``.info`` sidecar's) to its receive time; return files touched."""
    truth = json.loads((root / "truth.json").read_text(encoding="utf-8"))
    n = 0
    for rel, t in file_mtimes(truth).items():
        for p in (root / rel, root / (rel + ".info")):
            if p.is_file():
                if p.stat().st_mtime != t:
                    os.utime(p, (t, t))
                n += 1
    mailbox = root / "mailbox"
    if mailbox.is_dir():
        for d in ("cur", "new", "tmp"):
            (mailbox / d).mkdir(exist_ok=True)
    return n
