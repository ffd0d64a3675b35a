"""Where a published figure comes from: the software, the parser, the ledger's schema, when, and how
to produce it again (``summary.json``'s ``provenance``).

- ``software_version``: the installed ``detainer-intake`` package's version;
- ``git_commit`` / ``git_dirty``: the checkout's commit and whether tracked files differ from it
  (None when the code does not run from a git checkout or git is missing);
- ``parser_version``: a digest of the parsing code and form templates, the same as the
  extraction cache's (``flows.extraction_cache.PARSER_VERSION``): a change to either changes it;
- ``ledger_schema_revision``: the ledger's Alembic revision;
- ``generated_at`` and ``command``: when, and the command that writes the same files again;
- ``settings``: the configuration's settings that change what is counted (``counting_settings``:
  the department's time zone, the dedupe windows and thresholds, the institution names, which
  channels are enabled and the station map, the parser's input limits); never a secret, a path or
  a host.

The report's files are listed with their SHA-256 in ``MANIFEST.sha256`` (``sha256sum`` format:
``sha256sum -c MANIFEST.sha256`` in the folder checks them); ``summary.json`` names the manifest and
holds the hashes of the files written before it (``report.html``, ``requests.csv``); the manifest
holds ``summary.json``'s too (a file cannot hold its own hash).
"""

from __future__ import annotations

import hashlib
import subprocess
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from core.config import Settings
from ledger.db import current_revision
from ledger.store import Ledger
from parsing.version import parser_version

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GIT_TIMEOUT_SECONDS = 5
MANIFEST_NAME = "MANIFEST.sha256"
_CHUNK = 1024 * 1024


def software_version() -> str:
    try:
        return metadata.version("detainer-intake")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "unknown"


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


def counting_settings(settings: Settings) -> dict[str, Any]:
    """The configuration's settings that change what is counted (no secret, path or host)."""
    channels = settings.channels
    dedupe = settings.dedupe
    parsing_settings = settings.parsing
    return {
        "department_timezone": settings.department.timezone,
        "dedupe": {
            "issued_window_days": dedupe.issued_window_days,
            "name_similarity": dedupe.name_similarity,
            "review_below": dedupe.review_below,
            "trusted_confidence": dedupe.trusted_confidence,
            "max_arrival_gap_days": dedupe.max_arrival_gap_days,
        },
        "institutions": list(parsing_settings.institutions),
        "channels_enabled": {
            "dedicated_fax": channels.dedicated_fax.enabled,
            "station_fax": channels.station_fax.enabled,
            "bfs_email": channels.bfs_email.enabled,
        },
        "station_map": dict(sorted(channels.station_fax.station_map.items())),
        "parsing_limits": {
            "max_input_bytes": parsing_settings.max_input_bytes,
            "max_pages": parsing_settings.max_pages,
            "max_pixels": parsing_settings.max_pixels,
            "max_parse_attempts": parsing_settings.max_parse_attempts,
            "tesseract_lang": parsing_settings.tesseract_lang,
        },
    }


def provenance(
    ledger: Ledger, generated_at: datetime, command: str, settings: Settings | None = None
) -> dict[str, Any]:
    commit, dirty = git_state()
    out: dict[str, Any] = {
        "software": "detainer-intake",
        "software_version": software_version(),
        "git_commit": commit,
        "git_dirty": dirty,
        "parser_version": parser_version(),
        "ledger_schema_revision": current_revision(ledger.engine),
        "generated_at": generated_at.isoformat().replace("+00:00", "Z"),
        "command": command,
    }
    if settings is not None:
        out["settings"] = counting_settings(settings)
    return out


# --------------------------------------------------------------------------- the files' manifest


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_text(hashes: dict[str, str]) -> str:
    """``sha256sum``'s format: ``<hash>  <name>`` per line (text mode), sorted by name."""
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(hashes.items()))


def read_manifest(path: Path) -> dict[str, str]:
    """File name -> SHA-256 from a ``sha256sum`` file (``*name``, binary mode, too); ValueError on a bad line."""
    out: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, name = line.partition(" ")
        if not sep or len(digest) != 64 or name[:1] not in (" ", "*"):
            raise ValueError(f"{path.name} line {number} is not '<sha256>  <file>'")
        out[name[1:]] = digest.lower()
    return out
