"""The report says where its figures come from (summary.json's provenance: software and parser
versions, git commit, ledger schema revision, generated at, the command that writes it again), and
requests.csv opens in Excel with its accents (UTF-8 with a byte-order mark)."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess

from application import build_report
from ledger.db import head_revision
from tests.ledger_support import T0, detainer, extraction, receipt
from tests.report_support import settings_for

ACCENTED = "JOSÉ NÚÑEZ GARCÍA"


def _report(ledger, tmp_path, **options):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer(subject_name=ACCENTED)))
    settings = settings_for(ledger.engine.url.render_as_string(hide_password=False), tmp_path)
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
