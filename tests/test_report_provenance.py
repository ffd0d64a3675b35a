"""The report says where its figures come from (summary.json's provenance and report.html's footer:
software and parser versions, git commit, ledger schema revision, generated at, the command that
writes it again, the settings that change counts, the channel coverage), lists its files' SHA-256 in
MANIFEST.sha256 (sha256sum -c), and requests.csv opens in Excel with its accents (UTF-8 with a
byte-order mark)."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess

from application import build_report
from core.config import ChannelsSettings, DedupeSettings, ParsingSettings, StationChannelSettings
from ledger.db import head_revision
from tests.ledger_support import T0, detainer, extraction, receipt
from tests.report_support import settings_for

ACCENTED = "JOSÉ NÚÑEZ GARCÍA"


INSTITUTION = "Riverside County Sheriff <Jail> & Annex"


def _report(ledger, tmp_path, **options):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer(subject_name=ACCENTED)))
    settings = settings_for(ledger.engine.url.render_as_string(hide_password=False), tmp_path)
    settings.dedupe = DedupeSettings(issued_window_days=5, max_arrival_gap_days=14)
    settings.parsing = ParsingSettings(institutions=[INSTITUTION], max_pages=120)
    settings.channels = ChannelsSettings(station_fax=StationChannelSettings(enabled=False, station_map={"c6": "C-6"}))
    return build_report(ledger, settings, 2025, tmp_path / "report", **options)


def test_summary_json_carries_its_provenance(ledger, tmp_path):
    from flows.extraction_cache import PARSER_VERSION

    paths = _report(ledger, tmp_path)
    summary = json.loads(paths.summary_json.read_text(encoding="utf-8"))
    provenance = summary["provenance"]
    assert set(provenance) >= {
        "software_version",
        "git_commit",
        "parser_version",
        "ledger_schema_revision",
        "generated_at",
        "command",
    }
    assert provenance["software_version"] == "0.1.0"
    assert provenance["parser_version"] == PARSER_VERSION
    assert provenance["ledger_schema_revision"] == head_revision() == "0004"
    assert provenance["generated_at"] == summary["generated_at"]
    assert provenance["command"] == "detainer-intake report --year 2025 --out DIR"
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    if head:  # the tests run from a checkout
        assert provenance["git_commit"] == head and re.fullmatch(r"[0-9a-f]{40}", head)
        assert isinstance(provenance["git_dirty"], bool)


def test_the_command_names_the_options_that_change_the_files(ledger, tmp_path):
    paths = _report(ledger, tmp_path, include_pii=True)
    summary = json.loads(paths.summary_json.read_text(encoding="utf-8"))
    assert summary["provenance"]["command"] == "detainer-intake report --year 2025 --out DIR --include-pii"


def test_requests_csv_starts_with_a_byte_order_mark_and_keeps_accents(ledger, tmp_path):
    paths = _report(ledger, tmp_path, include_pii=True)
    raw = paths.requests_csv.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and not raw.startswith(b"\xef\xbb\xbf\xef\xbb\xbf")
    [row] = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert row["subject_name"] == ACCENTED and next(iter(row)) == "request_id"


def test_summary_json_carries_the_settings_that_change_counts_and_the_coverage(ledger, tmp_path):
    paths = _report(ledger, tmp_path)
    summary = json.loads(paths.summary_json.read_text(encoding="utf-8"))
    settings = summary["provenance"]["settings"]
    assert settings["department_timezone"] == "America/New_York"
    assert settings["dedupe"] == {
        "issued_window_days": 5,
        "name_similarity": 90.0,
        "review_below": 95.0,
        "trusted_confidence": 0.8,
        "max_arrival_gap_days": 14,
    }
    assert settings["institutions"] == [INSTITUTION]
    assert settings["channels_enabled"] == {"dedicated_fax": True, "station_fax": False, "bfs_email": False}
    assert settings["station_map"] == {"c6": "C-6"}
    assert settings["parsing_limits"]["max_pages"] == 120
    text = paths.summary_json.read_text(encoding="utf-8")
    assert "password" not in text and "secret" not in text and str(tmp_path) not in text  # no secret, no path
    coverage = summary["provenance"]["channel_coverage"]
    assert coverage == {"coverage": summary["totals"]["coverage"]["value"],
                        "coverage_gaps": summary["totals"]["coverage_gaps"]["value"]}


def test_the_html_footer_carries_the_provenance_escaped(ledger, tmp_path):
    paths = _report(ledger, tmp_path)
    provenance = json.loads(paths.summary_json.read_text(encoding="utf-8"))["provenance"]
    page = paths.report_html.read_text(encoding="utf-8")
    footer = page[page.index("<footer>") : page.index("</footer>")]
    for value in (
        provenance["software_version"],
        provenance["parser_version"],
        f"ledger schema revision {provenance['ledger_schema_revision']}",
        provenance["generated_at"],
        provenance["command"],
        "issued dates at most 5 days apart",
        "arrivals at most 14 days apart",
        "channels enabled: dedicated_fax;",
        "stations: c6 = C-6",
        "MANIFEST.sha256",
    ):
        assert value in footer, value
    if provenance["git_commit"]:
        assert provenance["git_commit"] in footer
    assert "Riverside County Sheriff &lt;Jail&gt; &amp; Annex" in footer and "<Jail>" not in footer
    assert "Channel coverage: " + provenance["channel_coverage"]["coverage"] in footer


def test_the_manifest_lists_every_file_for_sha256sum(ledger, tmp_path):
    paths = _report(ledger, tmp_path)
    assert sorted(p.name for p in paths.directory.iterdir()) == [
        "MANIFEST.sha256", "report.html", "requests.csv", "summary.json",
    ]
    lines = paths.manifest.read_text(encoding="utf-8").splitlines()
    assert [line.split("  ")[1] for line in lines] == ["report.html", "requests.csv", "summary.json"]
    checked = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=paths.directory, capture_output=True,
                             text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    manifest = json.loads(paths.summary_json.read_text(encoding="utf-8"))["manifest"]
    assert manifest["file"] == "MANIFEST.sha256"
    from_manifest = dict(reversed(line.split("  ")) for line in lines)
    assert manifest["sha256"] == {k: from_manifest[k] for k in ("report.html", "requests.csv")}
    paths.requests_csv.write_bytes(paths.requests_csv.read_bytes() + b"x")
    checked = subprocess.run(["sha256sum", "-c", "MANIFEST.sha256"], cwd=paths.directory, capture_output=True,
                             text=True, check=False)
    assert checked.returncode != 0 and "requests.csv: FAILED" in checked.stdout
