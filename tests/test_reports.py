"""The annual report from a ledger built from truth.json (no OCR): totals, one CSV row per request,
no personal data by default, reproducible figures, dispositions and corrections."""

from __future__ import annotations

import csv
import io
import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from application import build_report
from application.definitions import DISPOSITION_KEYS, FIGURES, METRIC_KEYS
from application.report import CSV_COLUMNS, PII_COLUMNS
from core.keys import CopyKey
from detainer_intake.commands.ledger import metrics_command
from detainer_intake.commands.reports import disposition_command, dispositions_command, report_command
from detainer_intake.commands.review import review_correct_command
from ledger import schema
from ledger.db import open_ledger
from tests import ledger_support as testing
from tests.report_support import (
    copy_ledger,
    leaked,
    settings_for,
    truth_copy_requests,
    truth_ledger_file,
    truth_personal_values,
)

YEAR = 2025


@pytest.fixture(scope="module")
def truth_db(truth, tmp_path_factory) -> Path:
    return truth_ledger_file(tmp_path_factory.mktemp("truth-ledger"), truth)


@pytest.fixture
def env(truth_db, tmp_path):
    """(settings, ledger) over a private copy of the truth ledger."""
    url = copy_ledger(truth_db, tmp_path / "db")
    settings = settings_for(url, tmp_path)
    ledger = open_ledger(url)
    yield settings, ledger
    ledger.close()


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def truth_requests_of(truth, year: int) -> list[dict]:
    zone = ZoneInfo(truth["timezone"])
    return [
        q
        for q in truth["requests"]
        if datetime.fromisoformat(q["first_received_at"].replace("Z", "+00:00")).astimezone(zone).year == year
    ]


def test_totals_equal_truth_and_every_figure_is_documented(env, truth, tmp_path):
    settings, ledger = env
    paths = build_report(ledger, settings, YEAR, tmp_path / "out")
    summary = json.loads(paths.summary_json.read_text(encoding="utf-8"))
    expected = truth["totals"][str(YEAR)]
    totals = summary["totals"]
    for key, value in expected.items():
        assert totals[key]["value"] == value, key
    assert set(totals) == {f.key for f in FIGURES}
    for figure in totals.values():
        assert figure["definition"] and figure["label"]
        assert figure["reproduce"]["command"].startswith("detainer-intake ")
        assert f"--year {YEAR} --json" in figure["reproduce"]["command"]
    assert all(summary["checks"].values())
    assert summary["personal_data_included"] is False


def test_every_figure_equals_its_documented_command(env, tmp_path, capsys):
    settings, ledger = env
    requests = ledger.requests()
    ledger.set_disposition(requests[-1].id, "transferred", "Sgt. Example", reimbursement="512.25")
    paths = build_report(ledger, settings, YEAR, tmp_path / "out")
    totals = json.loads(paths.summary_json.read_text(encoding="utf-8"))["totals"]
    capsys.readouterr()
    metrics_command(settings, YEAR, as_json=True)
    metrics_out = json.loads(capsys.readouterr().out)
    dispositions_command(settings, YEAR, as_json=True)
    dispositions_out = json.loads(capsys.readouterr().out)
    outputs = {
        f"detainer-intake metrics --year {YEAR} --json": metrics_out,
        f"detainer-intake dispositions --year {YEAR} --json": dispositions_out,
    }
    for key, figure in totals.items():
        produced = outputs[figure["reproduce"]["command"]]
        assert produced[figure["reproduce"]["key"]] == figure["value"], key
    assert set(METRIC_KEYS) | set(DISPOSITION_KEYS) == set(totals)


def test_requests_csv_has_one_row_per_truth_request_and_no_personal_columns(env, truth, tmp_path):
    settings, ledger = env
    paths = build_report(ledger, settings, YEAR, tmp_path / "out")
    rows = read_csv(paths.requests_csv)
    wanted = truth_requests_of(truth, YEAR)
    assert len(rows) == len(wanted)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert not set(PII_COLUMNS) & set(rows[0])
    # Each CSV row is exactly one truth request (its copies are that request's copies).
    truth_of_copy = truth_copy_requests(truth)
    views = {v.id: v for v in ledger.requests()}
    truth_by_id = {q["request_id"]: q for q in truth["requests"]}
    zone = ZoneInfo(settings.department.timezone)
    seen = set()
    for row in rows:
        (truth_id,) = {truth_of_copy[k] for k in views[row["request_id"]].copy_keys}
        q = truth_by_id[truth_id]
        assert set(views[row["request_id"]].receipt_keys) == testing.truth_request_receipts(truth)[truth_id]
        seen.add(truth_id)
        first = datetime.fromisoformat(q["first_received_at"].replace("Z", "+00:00"))
        assert datetime.fromisoformat(row["first_received_at"]) == first
        assert row["first_received_date"] == first.astimezone(zone).date().isoformat()
        assert row["first_channel"] == q["first_channel"]
        assert (row["first_station"] or None) == q["first_station"]
        assert row["channels"].split(";") == q["channels"]
        for channel in q["channels"]:
            assert row[f"{channel}_dates"], channel
        assert row["disposition"] == "not recorded"
        assert row["cancelled"] == ("yes" if q["cancelled_by"] else "no")
    assert seen == {q["request_id"] for q in wanted}


def test_default_outputs_carry_no_personal_data(env, truth, tmp_path):
    settings, ledger = env
    paths = build_report(ledger, settings, YEAR, tmp_path / "out")
    values = truth_personal_values(truth)
    assert len(values) > 50
    for path in (paths.requests_csv, paths.summary_json, paths.report_html):
        assert not leaked(path.read_text(encoding="utf-8"), values), path.name


def test_personal_columns_only_with_include_pii(env, truth, tmp_path):
    settings, ledger = env
    paths = build_report(ledger, settings, YEAR, tmp_path / "out", include_pii=True)
    rows = read_csv(paths.requests_csv)
    assert set(PII_COLUMNS) <= set(rows[0])
    a_numbers = {d["file_number"] for r in truth["receipts"] for d in r["detainers"]}
    names = {d["subject_name"] for r in truth["receipts"] for d in r["detainers"]}
    assert {row["a_number"] for row in rows} <= a_numbers
    assert {row["subject_name"] for row in rows} <= names
    assert all(row["date_of_birth"] for row in rows)
    html = paths.report_html.read_text(encoding="utf-8")
    assert "Contains personal data" in html and rows[0]["a_number"] in html
    assert json.loads(paths.summary_json.read_text(encoding="utf-8"))["personal_data_included"] is True


def test_report_folder_is_private_and_files_are_0600(env, tmp_path):
    settings, ledger = env
    paths = build_report(ledger, settings, YEAR, tmp_path / "reports" / "2025")
    assert stat.S_IMODE(paths.directory.stat().st_mode) == 0o700
    for path in (paths.requests_csv, paths.summary_json, paths.report_html, paths.manifest):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in paths.directory.iterdir()) == [
        "MANIFEST.sha256", "report.html", "requests.csv", "summary.json",
    ]


def test_dispositions_show_up_and_unrecorded_ones_are_not_zero(env, tmp_path, capsys):
    settings, ledger = env
    ids = [r.id for r in ledger.requests() if r.first_received_at >= datetime(2025, 1, 2, tzinfo=UTC)]
    out = tmp_path / "out"
    report_command(settings, YEAR, out)
    before = json.loads((out / "summary.json").read_text(encoding="utf-8"))["totals"]
    n = before["unique_requests"]["value"]
    assert before["not_recorded"]["value"] == n
    assert before["detained"]["value"] == before["transferred"]["value"] == 0
    assert disposition_command(settings, ids[0], "detained", "Lt. One") == 0
    assert disposition_command(settings, ids[1], "transferred", "Lt. One", reimbursement="1,250.50") == 0
    assert disposition_command(settings, ids[2], "not-acted-upon", "Lt. Two", note="released on bail") == 0
    assert disposition_command(settings, ids[3], "transferred", "Lt. Two", reimbursement="$99.50") == 0
    capsys.readouterr()
    assert report_command(settings, YEAR, out) == 0
    assert "personal" not in capsys.readouterr().out
    totals = json.loads((out / "summary.json").read_text(encoding="utf-8"))["totals"]
    assert totals["detained"]["value"] == 1
    assert totals["transferred"]["value"] == 2
    assert totals["not_acted_upon"]["value"] == 1
    assert totals["not_recorded"]["value"] == n - 4
    assert totals["reimbursements_received"]["value"] == 2
    assert totals["reimbursement_total"]["value"] == "1350.00"
    rows = {r["request_id"]: r for r in read_csv(out / "requests.csv")}
    assert rows[ids[0]]["disposition"] == "detained"
    assert rows[ids[1]]["reimbursement"] == "1250.50"
    assert rows[ids[4]]["disposition"] == "not recorded"
    assert "released on bail" not in (out / "requests.csv").read_text(encoding="utf-8")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "not recorded" in html and "$1,350.00" in html
    audited = ledger.disposition(ids[1])
    assert audited is not None and audited["who"] == "Lt. One"


@pytest.mark.parametrize(
    ("status", "amount"), [("released", None), ("detained", "-5"), ("detained", "ten"), ("detained", "1.234")]
)
def test_disposition_rejects_bad_values(env, status, amount):
    from application.review import BadArgument

    settings, ledger = env
    with pytest.raises(BadArgument):
        disposition_command(settings, ledger.requests()[0].id, status, "Lt. One", reimbursement=amount)
    with pytest.raises(BadArgument):
        disposition_command(settings, ledger.requests()[0].id, "detained", "  ")
    with pytest.raises(BadArgument):
        disposition_command(settings, "REQ-000000000000", "detained", "Lt. One")


def _split_candidate(ledger):
    """A 2025 request with copies in two documents sharing one event number, and a non-founding copy."""
    from application.review import resolve_copy

    for view in ledger.requests():
        shas = sorted({CopyKey.parse(k).document_sha256 for k in view.copy_keys})
        if len(shas) < 2 or view.first_received_at.astimezone(ZoneInfo("America/New_York")).year != YEAR:
            continue
        copies = [c for sha in shas for c in ledger.copies(sha) if c["request_id"] == view.id]
        if len({c["fields"]["event_number"] for c in copies} - {None}) == 1:
            founder = resolve_copy(ledger, view.id)
            return view, next(c for c in copies if c["key"] != founder)
    raise AssertionError("truth.json has no request received twice")


def test_a_correction_through_the_cli_changes_the_report(env, truth, tmp_path, capsys):
    settings, ledger = env
    out = tmp_path / "out"
    report_command(settings, YEAR, out)
    before = json.loads((out / "summary.json").read_text(encoding="utf-8"))["totals"]
    view, other = _split_candidate(ledger)
    # 1. The founding copy's warrant form, corrected: the CSV shows the operator's value.
    rows = {r["request_id"]: r for r in read_csv(out / "requests.csv")}
    new_warrant = "I-205" if rows[view.id]["warrant_form"] != "I-205" else "I-200"
    assert review_correct_command(settings, view.id, "warrant_form", new_warrant, "Officer Fix") == 0
    report_command(settings, YEAR, out)
    rows = {r["request_id"]: r for r in read_csv(out / "requests.csv")}
    assert rows[view.id]["warrant_form"] == new_warrant
    # 2. Another copy given a different event number becomes a request of its own: one more request.
    assert review_correct_command(settings, other["key"], "event_number", "ZZZ2599999999", "Officer Fix") == 0
    report_command(settings, YEAR, out)
    after = json.loads((out / "summary.json").read_text(encoding="utf-8"))["totals"]
    assert after["unique_requests"]["value"] == before["unique_requests"]["value"] + 1
    assert len(read_csv(out / "requests.csv")) == after["unique_requests"]["value"]
    # The correction is audited and survives reprocessing with the OCR values.
    sha = CopyKey.parse(other["key"]).document_sha256
    extraction = ledger.extraction_for(sha)
    assert extraction is not None
    ledger.reprocess(extraction)
    report_command(settings, YEAR, out)
    again = json.loads((out / "summary.json").read_text(encoding="utf-8"))["totals"]
    assert again["unique_requests"]["value"] == after["unique_requests"]["value"]
    with ledger.engine.connect() as connection:
        audit = connection.execute(select(schema.Correction.field, schema.Correction.who)).all()
    assert ("warrant_form", "Officer Fix") in audit and ("event_number", "Officer Fix") in audit
    printed = capsys.readouterr().out
    assert "Officer Fix" in printed


@pytest.mark.postgres
def test_the_report_reads_a_postgresql_ledger_the_same_way(truth, tmp_path):
    from application.review import review_entries
    from tests.report_support import fill_from_truth

    with testing.pg_schema_url() as url:
        ledger = fill_from_truth(open_ledger(url), truth)
        try:
            paths = build_report(ledger, settings_for(url, tmp_path), YEAR, tmp_path / "out")
            entries = review_entries(ledger)
        finally:
            ledger.close()
    totals = json.loads(paths.summary_json.read_text(encoding="utf-8"))["totals"]
    for key, value in truth["totals"][str(YEAR)].items():
        assert totals[key]["value"] == value, key
    assert len(read_csv(paths.requests_csv)) == totals["unique_requests"]["value"]
    broken = {r["sha256"] for r in truth["receipts"] if r["kind"] == "broken"}
    assert {e.document_sha256 for e in entries if e.kind == "quarantine"} == broken


def test_an_empty_year_still_gives_a_complete_report(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    ledger = open_ledger(url)
    try:
        paths = build_report(ledger, settings_for(url, tmp_path), 2019, tmp_path / "out")
    finally:
        ledger.close()
    totals = json.loads(paths.summary_json.read_text(encoding="utf-8"))["totals"]
    assert totals["unique_requests"]["value"] == 0 and totals["dedicated_line_rate"]["value"] == 0.0
    assert totals["reimbursement_total"]["value"] == "0.00"
    assert read_csv(paths.requests_csv) == []
    html = paths.report_html.read_text(encoding="utf-8")
    assert "No request was received in this year." in html and html.count("<img ") == 2


def test_the_report_shows_the_count_with_the_range_open_items_leave(env, truth, tmp_path, capsys):
    """Open quarantined inputs and a possible detainer widen the count's range in summary.json, the
    HTML and the command's output; the summary still carries no personal data."""
    from ingest.models import Receipt
    from parsing.models import ExtractionResult

    settings, ledger = env
    sha = "e" * 64
    ledger.record(
        Receipt(channel="dedicated_fax", source_key="test:possible", received_at=datetime(YEAR, 7, 1, 14, tzinfo=UTC),
                file_name="fax-possible.tif", sha256=sha, size=1),
        ExtractionResult(sha256=sha, possible_detainer_evidence=["notice_page", "word:detainer"]),
    )
    expected = truth["totals"][str(YEAR)]
    n, d = expected["unique_requests"], expected["first_channel_counts"]["dedicated_fax"]
    broken = [r for r in truth["receipts"] if r["kind"] == "broken" and r["received_at"].startswith(str(YEAR))]
    on_line = 1 + sum(1 for r in broken if r["channel"] == "dedicated_fax")  # the possible detainer's fax too
    paths = build_report(ledger, settings, YEAR, tmp_path / "out")
    summary = json.loads(paths.summary_json.read_text(encoding="utf-8"))
    totals = summary["totals"]
    assert totals["unique_requests"]["value"] == n
    assert totals["unique_requests_range"]["value"] == [n, n + len(broken) + 1]
    low, high = round(d / (n + len(broken) + 1 - on_line), 4), round((d + on_line) / (n + on_line), 4)
    assert totals["dedicated_line_rate_range"]["value"] == [low, high]
    assert totals["possible_requests_awaiting_review"]["value"] == 1
    assert totals["unreadable_inputs"]["value"] == len(broken)
    assert totals["range_components"]["value"]["possible_detainer"] == [0, 1]
    sentence = f"{n} requests ({n}–{n + len(broken) + 1} depending on {len(broken) + 1} open review items)"
    assert summary["count_with_range"] == sentence
    html_text = paths.report_html.read_text(encoding="utf-8")
    assert sentence in html_text and f"{low:.4f}–{high:.4f}" in html_text
    values = truth_personal_values(truth)
    for path in (paths.requests_csv, paths.summary_json, paths.report_html):
        assert not leaked(path.read_text(encoding="utf-8"), values), path.name
    capsys.readouterr()
    assert report_command(settings, YEAR, tmp_path / "out2") == 0
    assert sentence in capsys.readouterr().out
