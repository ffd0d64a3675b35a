"""OCR results on disk, keyed by content hash, parser version and the parsing settings that shape them.

Extraction is the expensive step (seconds a page). Its result holds personal data,
so it never travels through Prefect task results: the parse task writes it here
(owner-only, next to the archive) and returns only the content hash; the commit
task reads it back. A rerun after a crash or a kill reuses what was already read.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from core.config import ParsingSettings
from core.files import write_private
from parsing.models import ExtractionResult
from parsing.version import parser_version

PARSER_VERSION = parser_version()


def settings_version(parsing: ParsingSettings | None) -> str:
    """A digest of the parsing settings that shape a result (OCR language, known names)."""
    if parsing is None:
        return ""
    shaping = {"lang": parsing.tesseract_lang, "institutions": parsing.institutions}
    return "-" + hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:8]


class ExtractionCache:
    def __init__(self, root: Path, parsing: ParsingSettings | None = None) -> None:
        self.root = root
        self.version = f"v{PARSER_VERSION}{settings_version(parsing)}"

    def path_for(self, sha256: str) -> Path:
        return self.root / self.version / sha256[:2] / f"{sha256}.json"

    def get(self, sha256: str) -> ExtractionResult | None:
        path = self.path_for(sha256)
        try:
            return ExtractionResult.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except ValueError:
            return None  # a torn or stale file: read the document again

    def put(self, result: ExtractionResult) -> Path:
        # Not synced to disk: a result lost to a power cut is only read again.
        return write_private(self.path_for(result.sha256), result.model_dump_json(), durable=False)

    def failures_path_for(self, sha256: str) -> Path:
        return self.root / self.version / sha256[:2] / f"{sha256}.failures.json"

    def record_failure(self, sha256: str, error_class: str) -> int:
        """Count one failed reading of ``sha256`` by this parser version; returns the count so far.

        Kept beside the results so every worker of a run, and every later run, sees it; a new
        parser version starts again from zero (a fix gets its chance).
        """
        return _count(self.failures_path_for(sha256), error_class)

    def commit_failures_path_for(self, source_key: str) -> Path:
        # The file is named by a digest of the key: a source key holds the file's name.
        digest = hashlib.sha256(source_key.encode("utf-8", "surrogateescape")).hexdigest()
        return self.root / COMMIT_FAILURES / digest[:2] / f"{digest}.json"

    def record_commit_failure(self, source_key: str, error_class: str) -> int:
        """Count one failed commit of the arrival ``source_key``; returns the count so far.

        Not per parser version: the commit is the ledger's, and the arrival is the same one.
        """
        return _count(self.commit_failures_path_for(source_key), error_class)


COMMIT_FAILURES = "commit-failures"


def _count(path: Path, error_class: str) -> int:
    """Append ``error_class`` to the JSON list at ``path`` (a torn or missing one starts again); its length."""
    try:
        failures = list(json.loads(path.read_bytes()))
    except (FileNotFoundError, ValueError, TypeError):
        failures = []
    failures.append(error_class)
    write_private(path, json.dumps(failures))
    return len(failures)
