"""Reconciliation with an external list: exactly the added and removed entries are reported,
columns are found by header or by option, and no personal value is printed unless asked."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from application.data import RequestRow
from application.reconcile import Columns, ListEntry, ReconcileError, read_list, reconcile
from application.report import build_report, reconcile_with_list
from detainer_intake.commands.reports import reconcile_command
from ledger.db import open_ledger
from ledger.read_model import ArrivalRecord as Arrival
from ledger.read_model import CopyIdentity as Identity
from tests.report_support import (
    copy_ledger,
    leaked,
    ledger_ids_of_truth,
    settings_for,
    truth_ledger_file,
    truth_personal_values,
)

YEAR = 2025
NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def truth_db(truth, tmp_path_factory) -> Path:
    return truth_ledger_file(tmp_path_factory.mktemp("truth-ledger"), truth)


@pytest.fixture
def env(truth_db, tmp_path):
    url = copy_ledger(truth_db, tmp_path / "db")
    ledger = open_ledger(url)
    yield settings_for(url, tmp_path), ledger
    ledger.close()


def _first_local(q: dict) -> datetime:
    return datetime.fromisoformat(q["first_received_at"].replace("Z", "+00:00")).astimezone(NY)


def write_list(path: Path, rows: list[list[str]], header=("A-Number", "Event No.", "Date Issued", "Name")) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def truth_list(truth, tmp_path: Path):
    """A list made from truth.json's 2025 requests with two removed, variants of spelling, a duplicate,
    a 2024 request, and four entries the ledger never received. Returns the file and what to expect."""
    names = {d["request_id"]: d["subject_name"] for r in truth["receipts"] for d in r["detainers"]}
    requests = sorted(truth["requests"], key=lambda q: q["first_received_at"])
    this_year = [q for q in requests if _first_local(q).year == YEAR]
    last_year = [q for q in requests if _first_local(q).year == YEAR - 1]
    per_file: dict[str, int] = {}
    for q in requests:
        per_file[q["file_number"]] = per_file.get(q["file_number"], 0) + 1
    removed = [this_year[3], this_year[-2]]
    kept = [q for q in this_year if q not in removed]
    rows: list[list[str]] = []
    expect_matched: dict[int, str] = {}  # list row -> truth request id
    expect_rule: dict[int, str] = {}
    for i, q in enumerate(kept):
        issued = date.fromisoformat(q["issued_date"])
        a_number, event, day = q["file_number"], q["event_number"], issued.isoformat()
        rule = "event_number"
        if i == 0:
            a_number = ""  # event number only
        elif i == 1 and per_file[q["file_number"]] == 1:
            event, day, rule = "", f"{issued:%m/%d/%Y}", "a_number_date"  # A-number and a US date
        elif i == 2 and per_file[q["file_number"]] == 1:
            event, day, rule = "", (issued + timedelta(days=2)).isoformat(), "a_number_date"
        elif i == 3:
            event = " ".join([event[:3].lower(), event[3:7], event[7:]])  # spaced, lower case
            a_number = f"{a_number[1:4]}-{a_number[4:7]}-{a_number[7:]}"
        rows.append([a_number, event, day, names[q["request_id"]]])
        expect_matched[len(rows) + 1] = q["request_id"]
        expect_rule[len(rows) + 1] = rule
    duplicate_of = 2 + len(rows) - 1  # the last kept request, listed twice
    rows.append(list(rows[-1]))
    expect_matched[len(rows) + 1] = kept[-1]["request_id"]
    expect_rule[len(rows) + 1] = "event_number"
    if last_year:
        q = last_year[0]
        rows.append([q["file_number"], q["event_number"], q["issued_date"], names[q["request_id"]]])
        expect_matched[len(rows) + 1] = q["request_id"]
        expect_rule[len(rows) + 1] = "event_number"
    single = next(q for q in this_year if per_file[q["file_number"]] == 1 and q not in removed)
    far = (date.fromisoformat(single["issued_date"]) + timedelta(days=60)).isoformat()
    added = {
        "not_in_ledger": ["A999000111", "XYZ2501000001", "2025-05-05", "NOBODY, Known"],
        "a_number_date_outside_window": [single["file_number"], "", far, "SOMEONE, Else"],
        "event_number_differs": [single["file_number"], "XYZ2509999999", single["issued_date"], "SOMEONE, Else"],
    }
    expect_missing: dict[int, str] = {}
    for reason, row in added.items():
        rows.append(row)
        expect_missing[len(rows) + 1] = reason
    rows.append(["", "", "2025-06-01", "NO IDENTIFIER"])
    unusable_row = len(rows) + 1
    path = write_list(tmp_path / "ice-list.csv", rows)
    return path, {
        "matched": expect_matched,
        "rules": expect_rule,
        "duplicate": (len(kept) + 2, duplicate_of),
        "missing": expect_missing,
        "unusable": [unusable_row],
        "removed": [q["request_id"] for q in removed],
        "last_year": [q["request_id"] for q in last_year[:1]],
        "single": single["request_id"],
    }


def test_reconciliation_reports_exactly_the_added_and_removed_entries(env, truth, tmp_path):
    settings, ledger = env
    path, expect = truth_list(truth, tmp_path)
    result = reconcile_with_list(ledger, settings, YEAR, path)
    ids = ledger_ids_of_truth(ledger, truth)
    assert result.columns == Columns("A-Number", "Event No.", "Date Issued")
    assert {m.row: m.request_id for m in result.matched} == {row: ids[q] for row, q in expect["matched"].items()}
    assert {m.row: m.rule for m in result.matched} == expect["rules"]
    duplicate_row, first_row = expect["duplicate"]
    assert [(m.row, m.duplicate_of_row) for m in result.matched if m.duplicate_of_row] == [(duplicate_row, first_row)]
    assert {m.request_id for m in result.matched if not m.in_year} == {ids[q] for q in expect["last_year"]}
    assert {o.row: o.reason for o in result.list_only} == expect["missing"]
    outside = next(o for o in result.list_only if o.reason == "a_number_date_outside_window")
    assert outside.candidates == (ids[expect["single"]],)
    assert result.unusable == expect["unusable"]
    assert sorted(r.id for r in result.ledger_only) == sorted(ids[q] for q in expect["removed"])
    counts = result.counts()
    assert counts["ledger_only"] == 2 and counts["list_only"] == 3 and counts["unusable_rows"] == 1
    assert counts["ledger_requests"] == truth["totals"][str(YEAR)]["unique_requests"]
    assert counts["matched_requests"] + counts["ledger_only"] == counts["ledger_requests"] + len(expect["last_year"])


def test_reconcile_json_names_rows_and_requests_only_unless_pii_is_asked(env, truth, tmp_path, capsys):
    settings, _ = env
    path, expect = truth_list(truth, tmp_path)
    values = truth_personal_values(truth)
    assert reconcile_command(settings, YEAR, path, as_json=True) == 0
    out = capsys.readouterr().out
    payload = json.loads(out)
    assert not leaked(out, values)
    assert "A999000111" not in out and "NOBODY" not in out
    assert {o["row"] for o in payload["list_only"]} == set(expect["missing"])
    assert set(payload["matched"][0]) == {
        "row", "request_id", "rule", "days_apart", "first_received_in_year", "duplicate_of_row",
    }  # fmt: skip
    assert reconcile_command(settings, YEAR, path, as_json=False) == 0
    table = capsys.readouterr().out
    assert not leaked(table, values) and "A999000111" not in table
    assert "On the list, not found in the ledger" in table and "In the ledger, not on the list" in table
    assert reconcile_command(settings, YEAR, path, as_json=True, include_pii=True) == 0
    with_pii = json.loads(capsys.readouterr().out)
    assert {o["a_number"] for o in with_pii["list_only"]} >= {"A999000111"}


def test_report_carries_the_reconciliation_section(env, truth, tmp_path):
    settings, ledger = env
    path, expect = truth_list(truth, tmp_path)
    paths = build_report(ledger, settings, YEAR, tmp_path / "out", reconcile_list=path)
    summary = json.loads(paths.summary_json.read_text(encoding="utf-8"))
    assert summary["reconciliation"]["counts"]["list_only"] == len(expect["missing"])
    assert summary["reconciliation"]["reproduce"] == f"detainer-intake reconcile --year {YEAR} ice-list.csv --json"
    html = paths.report_html.read_text(encoding="utf-8")
    assert "Reconciliation with ice-list.csv" in html
    ids = ledger_ids_of_truth(ledger, truth)
    for q in expect["removed"]:
        assert ids[q] in html
    values = truth_personal_values(truth) | {"a999000111", "nobody, known", "xyz2501000001"}
    for file in (paths.report_html, paths.summary_json, paths.requests_csv):
        assert not leaked(file.read_text(encoding="utf-8"), values), file.name


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        (["Alien File Number", "Event Number", "Detainer Date", "DOB"], ","),
        (["a_number", "event_id", "date_sent", "date_of_birth"], ";"),
        (["A#", "Event", "Date", "Birth Date"], "\t"),
    ],
)
def test_headers_are_recognised_and_birth_dates_are_never_taken_for_the_date(tmp_path, header, delimiter):
    path = tmp_path / "list.csv"
    lines = [delimiter.join(header), delimiter.join(["A012345678", "BOS2503000111", "2025-03-01", "1988-04-12"])]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    if header[0] == "A#":  # not a recognisable spelling: named by option (header or 1-based number)
        with pytest.raises(ReconcileError):
            read_list(path, col_event="9")
        entries, _, columns = read_list(path, col_a_number="1")
    else:
        entries, _, columns = read_list(path)
    assert columns.date == header[2]
    assert entries == [
        ListEntry(2, "A012345678", "8052503000111", date(2025, 3, 1), "2025-03-01", "A012345678", "BOS2503000111")
    ]  # event numbers are compared as the ledger stores them: OCR look-alikes folded (B->8, O->0, S->5)


def test_a_list_without_identifier_columns_is_refused_with_a_remedy(tmp_path):
    path = write_list(tmp_path / "x.csv", [["x", "y"]], header=("Name", "Date"))
    with pytest.raises(ReconcileError) as info:
        read_list(path)
    assert "--col-a-number" in info.value.remedy


# --------------------------------------------------------------------------- matching rules, by hand


def _row(rid: str, when: datetime, *identities: Identity) -> RequestRow:
    return RequestRow(
        id=rid,
        arrivals=(Arrival("dedicated_fax", None, when, "f.tif"),),
        copies=len(identities),
        form_type="I-247A",
        warrant_form=None,
        cancelled=False,
        disposition=None,
        person={},
        identities=identities,
    )


def test_matching_rules_by_hand():
    t = datetime(2025, 3, 1, 15, tzinfo=UTC)
    rows = [
        _row("REQ-A", t, Identity("A000000001", "E1", date(2025, 3, 1))),
        _row("REQ-B", t + timedelta(days=40), Identity("A000000001", "E2", date(2025, 4, 10))),
        _row("REQ-C", t, Identity("A000000003", None, date(2025, 3, 1))),
        _row("REQ-D", datetime(2024, 12, 31, 12, tzinfo=UTC), Identity("A000000004", "E4", date(2024, 12, 30))),
    ]
    entries = [
        ListEntry(2, "A000000001", None, date(2025, 4, 12), None),  # A-number, date 2 days from REQ-B
        ListEntry(3, "A000000001", None, None, None),  # no date, two requests of that A-number
        ListEntry(4, "A000000003", None, None, None),  # no date, one request: matched on A-number only
        ListEntry(5, "A000000004", "E4", date(2025, 1, 2), None),  # a 2024 request
        ListEntry(6, "A000000009", None, date(2025, 3, 1), None),  # only a cancellation was received
        ListEntry(7, "A000000001", "E9", date(2025, 3, 1), None),  # same person, another event
    ]
    cancellations = [Identity("A000000009", None, date(2025, 2, 20))]
    result = reconcile(entries, [], Columns("a", None, "d"), rows, year=YEAR, tz=NY, list_name="l.csv",
                       cancellations=cancellations)  # fmt: skip
    matched = {m.row: (m.request_id, m.rule, m.days_apart, m.in_year) for m in result.matched}
    assert matched == {
        2: ("REQ-B", "a_number_date", 2, True),
        4: ("REQ-C", "a_number_only", None, True),
        5: ("REQ-D", "event_number", 2, False),
    }
    missing = {o.row: (o.reason, o.candidates) for o in result.list_only}
    assert missing == {
        3: ("a_number_ambiguous_without_date", ("REQ-A", "REQ-B")),
        6: ("cancellation_only", ()),
        7: ("event_number_differs", ("REQ-A", "REQ-B")),
    }
    assert [r.id for r in result.ledger_only] == ["REQ-A"]
