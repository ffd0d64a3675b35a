"""The annual report: ``requests.csv``, ``summary.json`` and a self-contained ``report.html``.

Every figure comes from ``Ledger.metrics`` (the ``metrics`` command) or from the recorded
dispositions (the ``dispositions`` command), and ``summary.json`` names, per figure, the
command and JSON key that reproduce it; so do the channels' coverage of the year (days read,
gaps, a disabled or unconfigured channel named: ``channels``, ``coverage``). Personal data
(name, date of birth, A-number, event number, disposition notes) is written only with
``include_pii``. The folder is created 0700 and each file written 0600, atomically.
``summary.json`` carries its ``provenance`` (``application.provenance``: software version, git
commit, parser version, ledger schema revision, generated at, the command that writes it again,
the settings that change counts, the channel coverage), and so does ``report.html``'s footer.
``MANIFEST.sha256`` lists every file's SHA-256 (``sha256sum -c MANIFEST.sha256``); ``summary.json``
holds those of ``report.html`` and ``requests.csv``, written before it (``manifest``).
``requests.csv`` is UTF-8 with a byte-order mark, so Excel reads accented names correctly.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from application import html
from application.data import RequestRow, cancellation_identities, disposition_totals, request_rows
from application.definitions import FIGURES, NOT_RECORDED
from application.provenance import MANIFEST_NAME, file_sha256, manifest_text, provenance
from application.reconcile import Reconciliation, read_list, reconcile
from application.report_data import ReportData, ReportPaths
from core.config import Settings
from core.files import private_dir, write_private
from ingest.configured import configured_states
from ledger.store import CHANNEL_ORDER, Ledger
from ledger.uncertainty import range_text

CSV_COLUMNS: tuple[str, ...] = (
    "request_id",
    "first_received_at",
    "first_received_date",
    "first_channel",
    "first_station",
    "channels",
    *(f"{c}_dates" for c in CHANNEL_ORDER),
    "copies",
    "form_type",
    "warrant_form",
    "cancelled",
    "disposition",
    "reimbursement",
)
PII_COLUMNS: tuple[str, ...] = ("subject_name", "date_of_birth", "a_number", "event_number", "disposition_note")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_ENCODING = "utf-8-sig"  # UTF-8 with a byte-order mark: Excel then reads accented names as written


def collect(
    ledger: Ledger,
    settings: Settings,
    year: int,
    include_pii: bool = False,
    reconcile_list: Path | None = None,
    reconcile_options: dict[str, Any] | None = None,
) -> ReportData:
    tz = settings.department.timezone
    metrics = ledger.metrics(year, tz, configured_states(settings))
    every = request_rows(ledger, tz)
    zone = ZoneInfo(tz)
    rows = [r for r in every if r.local_first(zone).year == year]
    reconciliation = None
    if reconcile_list is not None:
        reconciliation = reconcile_with_list(
            ledger, settings, year, reconcile_list, metrics=metrics, rows=every, **(reconcile_options or {})
        )
    generated_at = datetime.now(UTC).replace(microsecond=0)
    command = f"detainer-intake report --year {year} --out DIR"
    if include_pii:
        command += " --include-pii"
    if reconcile_list is not None:
        command += f" --reconcile {shlex.quote(reconcile_list.name)}"
        for option, value in sorted((reconcile_options or {}).items()):
            if value is not None:
                command += f" --{option.replace('_', '-')} {shlex.quote(str(value))}"
    return ReportData(
        department=settings.department.name,
        year=year,
        timezone=tz,
        generated_at=generated_at,
        metrics=metrics,
        dispositions=disposition_totals(rows),
        rows=rows,
        include_pii=include_pii,
        reconciliation=reconciliation,
        provenance={
            **provenance(ledger, generated_at, command, settings),
            # what the figures could see: the sentence, and whether any channel went unread some day
            # (per channel: totals.channels)
            "channel_coverage": {"coverage": metrics["coverage"], "coverage_gaps": metrics["coverage_gaps"]},
        },
    )


def reconcile_with_list(
    ledger: Ledger,
    settings: Settings,
    year: int,
    path: Path,
    *,
    col_a_number: str | None = None,
    col_event: str | None = None,
    col_date: str | None = None,
    window_days: int | None = None,
    metrics: dict[str, Any] | None = None,
    rows: list[RequestRow] | None = None,
) -> Reconciliation:
    """Read ``path`` and reconcile it with the ledger's requests (``rows``: all of them, any year)."""
    tz = settings.department.timezone
    entries, unusable, columns = read_list(path, col_a_number=col_a_number, col_event=col_event, col_date=col_date)
    metrics = metrics if metrics is not None else ledger.metrics(year, tz)
    return reconcile(
        entries,
        unusable,
        columns,
        rows if rows is not None else request_rows(ledger, tz),
        year=year,
        tz=tz,
        list_name=path.name,
        window_days=window_days if window_days is not None else settings.dedupe.issued_window_days,
        cancellations=cancellation_identities(ledger),
        context={k: metrics[k] for k in ("quarantined", "awaiting_review", "decoys", "cancellations")},
    )


# --------------------------------------------------------------------------- files


def _safe_cell(value: Any) -> str:
    """Spreadsheet-safe text: a cell starting like a formula is prefixed with an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def requests_csv(data: ReportData) -> str:
    zone = data.zone
    columns = CSV_COLUMNS + (PII_COLUMNS if data.include_pii else ())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in data.rows:
        first = row.local_first(zone)
        dates: dict[str, list[str]] = {c: [] for c in CHANNEL_ORDER}
        for arrival in row.arrivals:  # in arrival order; one entry per day (and station)
            day = arrival.received_at.astimezone(zone).date().isoformat()
            if arrival.channel == "station_fax" and arrival.station:
                day += f" ({arrival.station})"
            if day not in dates[arrival.channel]:
                dates[arrival.channel].append(day)
        disposition = row.disposition
        values: list[Any] = [
            row.id,
            first.isoformat(),
            first.date().isoformat(),
            row.first.channel,
            row.first.station if row.first.channel == "station_fax" else "",
            ";".join(row.channels),
            *("; ".join(dates[c]) for c in CHANNEL_ORDER),
            row.copies,
            row.form_type or "",
            row.warrant_form or "",
            "yes" if row.cancelled else "no",
            disposition.outcome if disposition else NOT_RECORDED,
            f"{disposition.reimbursement:.2f}" if disposition and disposition.reimbursement is not None else "",
        ]
        if data.include_pii:
            values += [
                row.person.get("subject_name"),
                row.person.get("date_of_birth"),
                row.person.get("file_number"),
                row.person.get("event_number"),
                disposition.note if disposition else "",
            ]
        writer.writerow([_safe_cell(v) for v in values])
    return buffer.getvalue()


def summary(data: ReportData, file_hashes: dict[str, str] | None = None) -> dict[str, Any]:
    """summary.json's content; ``file_hashes``: the SHA-256 of the files written before it, by name."""
    totals = {
        f.key: {
            "label": f.label,
            "value": data.value(f.key),
            "definition": f.definition,
            "reproduce": f.reproduce(data.year),
        }
        for f in FIGURES
    }
    d = data.dispositions
    recorded = d["detained"] + d["transferred"] + d["not_acted_upon"]
    out: dict[str, Any] = {
        "report": "Immigration detainer requests received",
        "department": data.department,
        "year": data.year,
        "timezone": data.timezone,
        "generated_at": data.generated_at.isoformat().replace("+00:00", "Z"),
        "personal_data_included": data.include_pii,
        "provenance": data.provenance,
        "totals": totals,
        # The count with the range the open review items leave it in, as one sentence (no personal data).
        "count_with_range": range_text(
            data.metrics["unique_requests"], data.metrics["unique_requests_range"],
            data.metrics["open_items_moving_count"],
        ),
        "checks": {
            "requests_csv_rows_equal_unique_requests": len(data.rows) == data.metrics["unique_requests"],
            "dispositions_add_up_to_unique_requests": recorded + d["not_recorded"] == data.metrics["unique_requests"],
        },
        "reconciliation": None,
        "files": {"requests_csv": "requests.csv", "summary_json": "summary.json", "report_html": "report.html"},
        # MANIFEST.sha256 lists every file (summary.json too); summary.json holds the others' hashes.
        "manifest": {
            "file": MANIFEST_NAME,
            "algorithm": "sha256",
            "check": f"sha256sum -c {MANIFEST_NAME}",
            "sha256": dict(sorted((file_hashes or {}).items())),
        },
    }
    if data.reconciliation is not None:
        r = data.reconciliation
        out["reconciliation"] = {
            "list": r.list_name,
            "window_days": r.window_days,
            "counts": r.counts(),
            "reproduce": f"detainer-intake reconcile --year {data.year} {r.list_name} --json",
        }
    return out


def write_report(data: ReportData, out: Path) -> ReportPaths:
    directory = private_dir(Path(out))
    paths = ReportPaths(
        directory=directory,
        requests_csv=directory / "requests.csv",
        summary_json=directory / "summary.json",
        report_html=directory / "report.html",
        manifest=directory / MANIFEST_NAME,
    )
    write_private(paths.requests_csv, requests_csv(data).encode(CSV_ENCODING))
    write_private(paths.report_html, html.render(data))
    hashes = {path.name: file_sha256(path) for path in (paths.report_html, paths.requests_csv)}
    write_private(paths.summary_json, json.dumps(summary(data, hashes), indent=2, ensure_ascii=False) + "\n")
    hashes[paths.summary_json.name] = file_sha256(paths.summary_json)
    write_private(paths.manifest, manifest_text(hashes))
    return paths


def build_report(
    ledger: Ledger,
    settings: Settings,
    year: int,
    out: Path,
    include_pii: bool = False,
    reconcile_list: Path | None = None,
    reconcile_options: dict[str, Any] | None = None,
) -> ReportPaths:
    """Write the year's report files into ``out`` (created 0700; files 0600) and return their paths.

    ``reconcile_options``: ``col_a_number`` / ``col_event`` / ``col_date`` / ``window_days`` for the list.
    """
    data = collect(ledger, settings, year, include_pii, reconcile_list, reconcile_options)
    return write_report(data, out)
