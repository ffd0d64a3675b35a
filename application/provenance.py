"""Where a published figure comes from: the software, the parser, the ledger's schema, when, and how
to produce it again (``summary.json``'s ``provenance``).

- ``software_version``: the installed ``detainer-intake`` package's version;
- ``git_commit`` / ``git_dirty``: the checkout's commit and whether tracked files differ from it
  (None when the code does not run from a git checkout or git is missing);
- ``parser_version``: a digest of the parsing code and form templates, the same as the
  extraction cache's (``flows.extraction_cache.PARSER_VERSION``): a change to either changes it;
- ``ledger_schema_revision``: the ledger's Alembic revision;
- ``generated_at`` and ``command``: when, and the command that writes the same files again.
"""

from __future__ import annotations

import hashlib
import subprocess
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import parsing
from ledger.db import current_revision
from ledger.store import Ledger

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GIT_TIMEOUT_SECONDS = 5


def software_version() -> str:
    try:
        return metadata.version("detainer-intake")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "unknown"


def parser_version() -> str:
    """A digest of the parsing code and form templates (``flows.extraction_cache.parser_version``'s)."""
    root = Path(parsing.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".toml", ".json", ".txt")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state() -> tuple[str | None, bool | None]:
    """The checkout's commit and whether its tracked files differ from it; (None, None) outside git."""
    if not (PROJECT_ROOT / ".git").exists():
        return None, None
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return None, None
    status = _git("status", "--porcelain", "--untracked-files=no")
    return commit, (bool(status) if status is not None else None)


def provenance(ledger: Ledger, generated_at: datetime, command: str) -> dict[str, Any]:
    commit, dirty = git_state()
    return {
        "software": "detainer-intake",
        "software_version": software_version(),
        "git_commit": commit,
        "git_dirty": dirty,
        "parser_version": parser_version(),
        "ledger_schema_revision": current_revision(ledger.engine),
        "generated_at": generated_at.isoformat().replace("+00:00", "Z"),
        "command": command,
    }
