"""Test support for the reports: a ledger filled from truth.json without OCR, settings around it,
and the personal values of truth.json that no default output may contain."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from core.config import ArchiveSettings, DepartmentSettings, LedgerSettings, Settings
from ledger.db import open_ledger
from ledger.store import Ledger
from tests import ledger_support as testing

_DATA_URI = re.compile(r"data:[a-z/+.-]+;base64,[A-Za-z0-9+/=]+")


def settings_for(url: str, root: Path, timezone: str = "America/New_York") -> Settings:
    return Settings(
        department=DepartmentSettings(name="Test Police Department", timezone=timezone),
        ledger=LedgerSettings(url=url),
        archive=ArchiveSettings(path=root / "archive"),
    )


def fill_from_truth(ledger: Ledger, truth: dict[str, Any]) -> Ledger:
    for receipt, extraction, quarantine in testing.truth_inputs(truth):
        ledger.record(receipt, extraction, quarantine=quarantine)
    return ledger


def truth_ledger_file(folder: Path, truth: dict[str, Any]) -> Path:
    """A SQLite ledger of every truth receipt, read perfectly (built once, then copied per test)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ledger.db"
    ledger = open_ledger(f"sqlite:///{path}")
    try:
        fill_from_truth(ledger, truth)
    finally:  # closing the last connection checkpoints the WAL into the file
        ledger.close()
    return path


def copy_ledger(source: Path, folder: Path) -> str:
    """Copy a closed SQLite ledger into ``folder``; returns its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "ledger.db"
    shutil.copy2(source, target)
    for suffix in ("-wal", "-shm"):
        extra = source.with_name(source.name + suffix)
        if extra.exists():
            shutil.copy2(extra, target.with_name(target.name + suffix))
    return f"sqlite:///{target}"


def truth_copy_requests(truth: dict[str, Any]) -> dict[str, str]:
    """Copy key (``<sha256>:<index>``) -> truth request id, for every copy that is not a cancellation."""
    return {
        f"{r['sha256']}:{i}": d["request_id"]
        for r in truth["receipts"]
        for i, d in enumerate(r["detainers"])
        if d.get("request_id") and not d.get("cancels_previous")
    }


def ledger_ids_of_truth(ledger: Ledger, truth: dict[str, Any]) -> dict[str, str]:
    """Truth request id -> ledger request id (each ledger request holds the copies of one truth request)."""
    of_copy = truth_copy_requests(truth)
    out = {}
    for view in ledger.requests():
        (truth_id,) = {of_copy[k] for k in view.copy_keys}
        out[truth_id] = view.id
    return out


def truth_personal_values(truth: dict[str, Any]) -> set[str]:
    """Every personal value of truth.json in the forms it could be printed in (lower-case)."""
    values: set[str] = set()
    for receipt in truth["receipts"]:
        for d in receipt.get("detainers", []):
            name = d.get("subject_name")
            if name:
                values.add(name.lower())
                values |= {part.lower() for part in re.split(r"[\s,]+", name) if len(part) >= 4}
            if d.get("file_number"):
                digits = re.sub(r"\D", "", d["file_number"])
                values |= {d["file_number"].lower(), digits, f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"}
            if d.get("event_number"):
                values.add(d["event_number"].lower())
            if d.get("subject_id"):
                values.add(d["subject_id"].lower())
            if d.get("date_of_birth"):
                dob = date.fromisoformat(d["date_of_birth"])
                values |= {dob.isoformat(), f"{dob:%m/%d/%Y}", f"{dob.month}/{dob.day}/{dob.year}"}
    return values


def leaked(text: str, values: set[str]) -> set[str]:
    """The personal values found in ``text`` (embedded images, which hold no text, are skipped)."""
    visible = _DATA_URI.sub("", text).lower()
    return {v for v in values if v in visible}
