"""Body of the operator command ``detainer-intake extract PATH... [--json]``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from core.config import CONFIG_ENV, Settings
from core.errors import ExitCode
from parsing.extract import extract_many
from parsing.models import ExtractionResult


def _summary(path: Path, result: ExtractionResult) -> dict[str, Any]:
    return {
        "file": str(path),
        "sha256": result.sha256,
        "pages": len(result.pages),
        "detainers": [d.model_dump(mode="json", exclude={"evidence"}) for d in result.detainers],
        "error": result.error_reason,
    }


def _read(paths: list[Path]) -> Any:
    for path in paths:
        try:
            yield str(path), path.read_bytes()
        except OSError:
            yield str(path), b""  # reported as an empty (unreadable) input


# The environment variable that overrides ``parsing.institutions`` without a configuration file.
INSTITUTIONS_ENV = "DETAINER_INTAKE_PARSING__INSTITUTIONS"


def department_names_chosen(config: Path | None) -> bool:
    """Whether the operator chose a department's configuration (``--config``, the environment):
    the bundled sample configuration's names are another department's, never a fallback."""
    return config is not None or bool(os.environ.get(CONFIG_ENV)) or bool(os.environ.get(INSTITUTIONS_ENV))


def extract_command(paths: list[Path], as_json: bool, settings: Settings, config: Path | None = None) -> int:
    """Extract every path; one JSON object per line with ``as_json``, else a table.
    Returns 0, or ExitCode.input_file when any input was broken (the others still run).
    Without a chosen configuration (``config`` None, nothing in the environment) the TO box
    is kept as read: no department's names to snap it to."""
    from rich.console import Console
    from rich.table import Table

    if not department_names_chosen(config):
        parsing = settings.parsing.model_copy(update={"institutions": []})
        settings = settings.model_copy(update={"parsing": parsing})
    console = Console()
    table = Table("file", "pages", "detainers", "review", "error")
    broken = False
    by_name = {str(p): p for p in paths}
    for name, result in extract_many(_read(paths), settings=settings.parsing, tz=settings.department.timezone):
        summary = _summary(by_name[name], result)
        broken = broken or result.error is not None
        if as_json:
            print(json.dumps(summary, ensure_ascii=False), flush=True)
            continue
        review = sum(d.needs_review for d in result.detainers)
        table.add_row(
            summary["file"],
            str(summary["pages"]),
            ", ".join(f"{d.form_type} p.{','.join(map(str, d.source_pages))}" for d in result.detainers) or "-",
            str(review) if result.detainers else "-",
            result.error_reason or "",
        )
    if not as_json:
        console.print(table)
    return int(ExitCode.input_file) if broken else int(ExitCode.ok)
