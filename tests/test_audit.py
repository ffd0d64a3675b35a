"""`detainer-intake audit`: a request's whole story (copies, arrivals, grouping rules, every decision,
the disposition history) without personal data unless --include-pii; `audit --since` for all acts.
`detainer-intake archive verify`: a missing, a corrupt and a stray file are found (exit 8), a whole
archive passes (exit 0)."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from application.archive_verify import EXIT_DAMAGED, verify_archive
from detainer_intake.cli import app
from detainer_intake.commands.audit import archive_verify_command, audit_command
from ingest.archive import Archive
from ingest.models import Receipt
from parsing.models import ExtractionResult, PageResult
from tests.ledger_support import T0, detainer, extraction, receipt, sha
from tests.report_support import settings_for

PII = ("LOPEZ", "A012345678", "BOS2503000111", "BOS2503000999", "1988-04-12", "Ortiz's cousin")


def _story(ledger, tmp_path, capsys, *args, include_pii=False):
    settings = settings_for(str(ledger.engine.url.render_as_string(hide_password=False)), tmp_path)
    capsys.readouterr()
    assert audit_command(settings, *args, as_json=True, include_pii=include_pii) == 0
    out = capsys.readouterr().out
    return out, json.loads(out)


@pytest.fixture
def story_ledger(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    ledger.record(
        receipt("r2", "d2", T0 + timedelta(hours=3), "station_fax", "C-6"),
        extraction("d2", detainer(event_number="BOS2503000999")),
    )
    ledger.record(receipt("r3", "d1", T0 + timedelta(days=1), "bfs_email"), extraction("d1", detainer()))
    ledger.merge(f"{sha('d2')}:0", f"{sha('d1')}:0", who="Sgt. Ortiz", why="same A-number, Ortiz's cousin")
    ledger.correct(f"{sha('d2')}:0", "event_number", "BOS2503000111", who="Sgt. Ortiz", why="read on the page")
    [req] = ledger.requests()
    ledger.set_disposition(req.id, "detained", who="Lt. Chen", reimbursement="125.50", note="held for LOPEZ")
    ledger.set_disposition(req.id, "not_acted_upon", who="Lt. Chen", why="entered by mistake")
    return ledger, req.id


def test_audit_tells_a_requests_whole_story_without_personal_data(story_ledger, tmp_path, capsys):
    ledger, request_id = story_ledger
    out, story = _story(ledger, tmp_path, capsys, request_id, None)
    for value in PII:
        assert value not in out
    assert story["request_id"] == request_id and story["exists"] and not story["include_pii"]
    founding, other = story["copies"]
    assert (founding["copy_key"], founding["rule"], founding["founding"]) == (f"{sha('d1')}:0", "first", True)
    assert [(a["channel"], a["file_name"], a["sha256"]) for a in founding["arrivals"]] == [
        ("dedicated_fax", "r1.tif", sha("d1")),
        ("bfs_email", "r3.tif", sha("d1")),
    ]
    assert other["rule"] == "operator_merge" and other["arrivals"][0]["station"] == "C-6"
    assert "fields" not in founding
    kinds = [(d["kind"], d["who"]) for d in story["decisions"]]
    assert kinds == [
        ("match", "Sgt. Ortiz"),
        ("correction", "Sgt. Ortiz"),
        ("disposition", "Lt. Chen"),
        ("disposition", "Lt. Chen"),
    ]
    correction = story["decisions"][1]
    assert correction["field"] == "event_number" and correction["from"] == correction["to"]  # both withheld
    assert all(d["os_user"] and d["host"] for d in story["decisions"])
    # The reversed disposition shows both acts, the latest is the current one.
    assert [d["outcome"] for d in story["disposition_history"]] == ["detained", "not_acted_upon"]
    assert story["disposition_history"][0]["reimbursement"] == "125.50"
    assert story["decisions"][3]["from"]["outcome"] == "detained"


def test_audit_with_include_pii_shows_the_values_and_the_reasons(story_ledger, tmp_path, capsys):
    ledger, request_id = story_ledger
    _, story = _story(ledger, tmp_path, capsys, request_id, None, include_pii=True)
    correction = story["decisions"][1]
    assert (correction["from"], correction["to"], correction["why"]) == (
        "BOS2503000999",
        "BOS2503000111",
        "read on the page",
    )
    assert story["copies"][0]["fields"]["subject_name"] == "MARIA ELENA LOPEZ"
    assert story["disposition_history"][0]["note"] == "held for LOPEZ"
    assert story["decisions"][0]["why"] == "same A-number, Ortiz's cousin"


def test_audit_since_lists_every_act_and_the_table_names_them(story_ledger, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")  # a wide terminal: rich shortens cells to fit a narrow one
    ledger, _ = story_ledger
    _, acts = _story(ledger, tmp_path, capsys, None, "2000-01-01")
    assert [d["kind"] for d in acts["decisions"]] == ["match", "correction", "disposition", "disposition"]
    _, none = _story(ledger, tmp_path, capsys, None, "2999-01-01")
    assert none["decisions"] == []
    settings = settings_for(ledger.engine.url.render_as_string(hide_password=False), tmp_path)
    assert audit_command(settings, story_ledger[1], None) == 0
    table = capsys.readouterr().out
    assert "operator_merge" in table and "not_acted_upon" in table and "C-6" in table
    assert not any(value in table for value in PII)


# --------------------------------------------------------------------------- archive verify


def _archived(ledger, root: Path, contents: list[bytes]) -> list[str]:
    archive = Archive(root)
    shas = []
    for i, content in enumerate(contents):
        archive.store(content)
        digest = hashlib.sha256(content).hexdigest()
        shas.append(digest)
        ledger.record(
            Receipt(
                channel="dedicated_fax",
                source_key=f"verify:{i}",
                received_at=T0 + timedelta(minutes=i),
                file_name=f"f{i}.pdf",
                sha256=digest,
                size=len(content),
            ),
            ExtractionResult(sha256=digest, pages=[PageResult(page=1, kind="other")]),
        )
    return shas


def test_archive_verify_finds_a_missing_a_corrupt_and_a_stray_file(ledger, tmp_path, capsys):
    root = tmp_path / "archive"
    shas = _archived(ledger, root, [b"first document " * 1000, b"second document", b"third document"])
    settings = settings_for(ledger.engine.url.render_as_string(hide_password=False), tmp_path)
    assert archive_verify_command(settings, as_json=True, progress=False) == 0
    clean = json.loads(capsys.readouterr().out)
    assert clean["ok"] and (clean["expected"], clean["checked"]) == (3, 3)

    archive = Archive(root)
    archive.path_for(shas[0]).unlink()
    damaged = bytearray(archive.path_for(shas[1]).read_bytes())
    damaged[3] ^= 0x01
    archive.path_for(shas[1]).write_bytes(bytes(damaged))
    stray = root / "ab" / "cd" / ("ab" + "cd" + "0" * 60)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"nobody knows me")
    assert archive_verify_command(settings, as_json=True, progress=False) == EXIT_DAMAGED == 8
    report = json.loads(capsys.readouterr().out)
    assert (report["missing"], report["corrupt"], report["unreferenced"]) == (1, 1, 1)
    assert report["missing_files"] == [shas[0]] and report["corrupt_files"] == [shas[1]]
    assert report["unreferenced_files"] == [stray.relative_to(root).as_posix()]


def test_archive_verify_reads_in_chunks_and_reports_progress(tmp_path, monkeypatch):
    from application import archive_verify

    content = b"x" * (3 * archive_verify.CHUNK + 5)
    sha256 = hashlib.sha256(content).hexdigest()
    Archive(tmp_path).store(content)
    reads: list[int] = []
    real_open = Path.open

    class Counting:
        def __init__(self, handle: io.BufferedReader) -> None:
            self.handle = handle

        def read(self, size: int = -1) -> bytes:
            reads.append(size)
            return self.handle.read(size)

        def __enter__(self) -> Counting:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

    def counting_open(self: Path, mode: str = "r", *args, **kwargs):  # type: ignore[no-untyped-def]
        handle = real_open(self, mode, *args, **kwargs)
        return Counting(handle) if mode == "rb" else handle

    monkeypatch.setattr(Path, "open", counting_open)
    progress = io.StringIO()
    report = verify_archive(tmp_path, {sha256: len(content)}, progress=progress)
    assert report.ok and report.bytes_read == len(content)
    assert reads and set(reads) == {archive_verify.CHUNK}  # never the whole file at once
    assert "archive verify: 1/1 files" in progress.getvalue()


def test_archive_verify_command_line_exit_codes(ledger, tmp_path):
    root = tmp_path / "data" / "archive"
    shas = _archived(ledger, root, [b"one", b"two"])
    config = tmp_path / "config.toml"
    url = ledger.engine.url.render_as_string(hide_password=False)
    config.write_text(f'[ledger]\nurl = "{url}"\n[archive]\npath = "{root}"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["archive", "verify", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "0 missing, 0 corrupt, 0 unreferenced" in result.output
    Archive(root).path_for(shas[1]).unlink()
    result = CliRunner().invoke(app, ["archive", "verify", "--config", str(config)])
    assert result.exit_code == 8 and f"missing: {shas[1]}" in result.output


def test_the_command_line_takes_who_from_the_environment_and_why_and_audit_shows_them(ledger, tmp_path):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    ledger.record(
        receipt("r2", "d2", T0 + timedelta(hours=2), "bfs_email"),
        extraction("d2", detainer(event_number="BOS2503000999", file_number="A099999999")),
    )
    config = tmp_path / "config.toml"
    url = ledger.engine.url.render_as_string(hide_password=False)
    config.write_text(f'[ledger]\nurl = "{url}"\n[archive]\npath = "{tmp_path / "archive"}"\n', encoding="utf-8")
    a, b = f"{sha('d1')}:0", f"{sha('d2')}:0"
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["review", "merge", a, b, "--why", "one person", "--config", str(config)],
        env={"DETAINER_INTAKE_WHO": "Sgt. Ortiz"},
    )
    assert result.exit_code == 0, result.output
    [req] = ledger.requests()
    result = runner.invoke(app, ["audit", req.id, "--json", "--include-pii", "--config", str(config)])
    assert result.exit_code == 0, result.output
    [act] = json.loads(result.output)["decisions"]
    assert (act["kind"], act["who"], act["why"], act["to"]) == ("match", "Sgt. Ortiz", "one person", True)
    result = runner.invoke(app, ["audit", "--config", str(config)])
    assert result.exit_code == 2  # neither a request id nor --since


def test_the_story_of_a_request_an_operator_ruled_a_detainer_holds_the_ruling(ledger):
    possible = ExtractionResult(
        sha256=sha("p1"), pages=[PageResult(page=1, kind="other")], possible_detainer_evidence=["word:detainer"]
    )
    ledger.record(receipt("p1", "p1", T0), possible)
    [item] = ledger.review_items(kind="possible_detainer")
    ledger.resolve_review(item.id, "detainer", who="Sgt. Ortiz", why="page 1 lost in transmission")
    [req] = ledger.requests()
    from application.audit import request_audit

    story = request_audit(ledger, req.id)
    [act] = story["decisions"]
    assert (act["kind"], act["subject"], act["to"]["resolution"], act["who"]) == (
        "review",
        f"possible_detainer:{sha('p1')}",
        "detainer",
        "Sgt. Ortiz",
    )
    assert act["why"] == "(withheld: --include-pii)"
    assert story["copies"][0]["arrivals"][0]["file_name"] == "p1.tif"
