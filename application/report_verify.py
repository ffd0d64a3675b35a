"""A written report checked again: its files against their manifest, its figures against the ledger.

``verify_report`` reads ``DIR/summary.json`` and

- re-hashes every file ``MANIFEST.sha256`` lists (and checks that ``summary.json``'s own list of
  hashes agrees with it): a file **changed** (its bytes no longer hash to the manifest's), **missing**,
  or the manifest itself missing or unreadable;
- recomputes the year's figures from the ledger by the code path that wrote them
  (``application.report.collect`` and ``summary``), in the report's time zone, and names each
  figure whose value **moved** (``old -> new``; a figure holding several values, such as the counts by
  channel or by month, names the part that moved: ``first_channel_counts.dedicated_fax``).

The configuration's settings that change counts (``application.provenance.counting_settings``) are
compared with the report's too: a setting that differs is named as a note (it explains a moved
figure) but does not fail the check by itself. Figures and settings carry no personal data; nothing
personal is read or shown (the figures are recomputed without ``include_pii``).

``EXIT_MOVED`` (9) is ``detainer-intake report verify``'s exit code when anything differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from application.provenance import MANIFEST_NAME, counting_settings, file_sha256, read_manifest
from application.report import collect, summary
from core.config import Settings
from core.errors import ExitCode, IntakeError
from ledger.store import Ledger

EXIT_MOVED = 9  # `detainer-intake report verify`: a figure moved or a file changed
SUMMARY_NAME = "summary.json"
_SHOWN = 160  # characters of a value shown in a line


class NotAReport(IntakeError):
    """The folder holds no readable summary.json: it is not a report folder, or summary.json is damaged."""

    exit_code = ExitCode.bad_args
    remedy = "Give the folder `detainer-intake report --year YEAR --out DIR` wrote (it holds summary.json)."


@dataclass(frozen=True)
class Moved:
    name: str  # figure key, dotted into its parts (``by_month.2025-03.total``), or a setting
    old: Any
    new: Any

    def text(self) -> str:
        return f"{self.name}: {_short(self.old)} -> {_short(self.new)}"


@dataclass(frozen=True)
class FileProblem:
    name: str
    problem: str  # changed | missing | manifest missing | manifest unreadable | summary disagrees
    expected: str | None = None
    actual: str | None = None

    def text(self) -> str:
        if self.problem == "changed":
            return f"{self.name}: changed (SHA-256 {self.expected} in the manifest, now {self.actual})"
        if self.problem == "summary disagrees":
            return f"{self.name}: summary.json says SHA-256 {self.expected}, the manifest {self.actual}"
        return f"{self.name}: {self.problem}"


@dataclass
class Verification:
    directory: str
    year: int
    timezone: str
    figures_checked: int = 0
    files_checked: int = 0
    moved: list[Moved] = field(default_factory=list)
    files: list[FileProblem] = field(default_factory=list)
    settings_changed: list[Moved] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.moved or self.files)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.ok) if self.ok else EXIT_MOVED

    def to_json(self) -> dict[str, Any]:
        return {
            "directory": self.directory,
            "year": self.year,
            "timezone": self.timezone,
            "ok": self.ok,
            "figures_checked": self.figures_checked,
            "files_checked": self.files_checked,
            "moved": [{"figure": m.name, "old": m.old, "new": m.new} for m in self.moved],
            "files": [
                {"file": f.name, "problem": f.problem, "expected": f.expected, "actual": f.actual} for f in self.files
            ],
            "settings_changed": [{"setting": m.name, "old": m.old, "new": m.new} for m in self.settings_changed],
        }

    def lines(self) -> list[str]:
        verdict = "still match" if self.ok else "DO NOT match"
        out = [
            f"report {self.year} in {self.directory}: {self.figures_checked} figure values and "
            f"{self.files_checked} files checked; they {verdict}"
        ]
        out += [f"figure moved: {m.text()}" for m in self.moved]
        out += [f"file: {f.text()}" for f in self.files]
        out += [f"note: setting differs from the report's: {m.text()}" for m in self.settings_changed]
        return out


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _leaves(value: Any, name: str) -> dict[str, Any]:
    """A figure's value by dotted path: a mapping is walked into, anything else is one value."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{name}.{key}"))
        return out
    return {name: value}


def compare(old: dict[str, Any], new: dict[str, Any]) -> list[Moved]:
    """The values of ``old`` that ``new`` no longer holds, by dotted path (``None``: absent)."""
    before, after = {}, {}
    for key, value in old.items():
        before.update(_leaves(value, key))
    for key, value in new.items():
        if key in old:  # a figure a later version added is not the report's
            after.update(_leaves(value, key))
    return [
        Moved(name, before.get(name), after.get(name))
        for name in sorted(before.keys() | after.keys())
        if json.dumps(before.get(name), default=str) != json.dumps(after.get(name), default=str)
    ]


def read_summary(directory: Path) -> dict[str, Any]:
    path = directory / SUMMARY_NAME
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotAReport(f"no {SUMMARY_NAME} in {directory}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise NotAReport(f"{SUMMARY_NAME} in {directory} cannot be read as JSON") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("year"), int) or "totals" not in loaded:
        raise NotAReport(f"{SUMMARY_NAME} in {directory} is not a report's summary (no year or totals)")
    return loaded


def check_files(directory: Path, written: dict[str, Any], result: Verification) -> None:
    """Every file of the manifest re-hashed; summary.json's hashes compared with the manifest's."""
    manifest_path = directory / MANIFEST_NAME
    try:
        listed = read_manifest(manifest_path)
    except FileNotFoundError:
        result.files.append(FileProblem(MANIFEST_NAME, "manifest missing"))
        return
    except (OSError, UnicodeDecodeError, ValueError):
        result.files.append(FileProblem(MANIFEST_NAME, "manifest unreadable"))
        return
    for name, expected in sorted(listed.items()):
        path = directory / name
        if Path(name).name != name:  # a manifest naming a file outside the folder is not this report's
            result.files.append(FileProblem(name, "not a file of the report folder"))
            continue
        if not path.is_file():
            result.files.append(FileProblem(name, "missing", expected))
            continue
        result.files_checked += 1
        actual = file_sha256(path)
        if actual != expected:
            result.files.append(FileProblem(name, "changed", expected, actual))
    recorded = (written.get("manifest") or {}).get("sha256") or {}
    for name, expected in sorted(recorded.items()):
        if listed.get(name) != expected:
            result.files.append(FileProblem(name, "summary disagrees", expected, listed.get(name)))


def verify_report(ledger: Ledger, settings: Settings, directory: Path) -> Verification:
    """Check the report in ``directory``: its files against the manifest, its figures against the ledger."""
    directory = Path(directory)
    written = read_summary(directory)
    year = written["year"]
    timezone = written.get("timezone") or settings.department.timezone
    result = Verification(directory=str(directory), year=year, timezone=timezone)
    check_files(directory, written, result)
    # The figures as the report defined them: in its time zone, whatever the configuration says now.
    department = settings.department.model_copy(update={"timezone": timezone})
    as_written = settings.model_copy(update={"department": department})
    now = summary(collect(ledger, as_written, year))
    old_totals = {key: entry.get("value") for key, entry in written["totals"].items()}
    new_totals = {key: entry["value"] for key, entry in now["totals"].items()}
    result.figures_checked = sum(len(_leaves(value, key)) for key, value in old_totals.items())
    result.moved = compare(old_totals, new_totals)
    old_settings = (written.get("provenance") or {}).get("settings")
    if isinstance(old_settings, dict):
        result.settings_changed = compare(old_settings, counting_settings(settings))
    return result
