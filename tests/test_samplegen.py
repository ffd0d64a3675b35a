"""The committed sample corpus agrees with its truth.json, and the generator reproduces it exactly."""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from samplegen.mtimes import file_mtimes, restore_mtimes
from samplegen.truth import compute_totals

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "sample_faxes"
TRUTH = json.loads((CORPUS / "truth.json").read_text(encoding="utf-8"))


def _doc_parts(msg: email.message.Message) -> list[email.message.Message]:
    """Document parts in MIME depth-first order: leaves that are not the text/html body."""
    out = []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_type() == "message/rfc822":
            continue
        if part.get_content_type() in ("text/plain", "text/html") and part.get_filename() is None:
            continue
        out.append(part)
    return out


def test_every_receipt_file_exists_with_its_hash_and_size() -> None:
    ids = [rc["id"] for rc in TRUTH["receipts"]]
    assert len(ids) == len(set(ids))
    for rc in TRUTH["receipts"]:
        path = CORPUS / rc["path"]
        assert path.is_file(), rc["path"]
        if rc["channel"] == "bfs_email":
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert msg["Message-ID"] == rc["message_id"]
            part = _doc_parts(msg)[rc["attachment_index"]]
            assert part.get_filename() == rc["file_name"]
            data = part.get_payload(decode=True)
        else:
            data = path.read_bytes()
            assert path.name == rc["file_name"]
        assert len(data) == rc["size"], rc["id"]
        assert hashlib.sha256(data).hexdigest() == rc["sha256"], rc["id"]


def test_every_message_is_listed_and_dated_by_its_top_received_header() -> None:
    on_disk = {p.relative_to(CORPUS).as_posix() for d in ("cur", "new") for p in (CORPUS / "mailbox" / d).iterdir()
               if p.is_file()}
    listed = {m["path"] for m in TRUTH["messages"]}
    assert on_disk == listed
    for m in TRUTH["messages"]:
        name = Path(m["path"]).name
        assert "/" not in name and ".." not in name
        msg = email.message_from_bytes((CORPUS / m["path"]).read_bytes(), policy=email.policy.default)
        top = msg.get_all("Received")[0]
        when = email.utils.parsedate_to_datetime(top.rsplit(";", 1)[1].strip())
        assert when == datetime.fromisoformat(m["received_at"].replace("Z", "+00:00"))
        assert msg["Message-ID"] == m["message_id"]
        assert m["no_document"] == (not _doc_parts(msg))
    for rc in TRUTH["receipts"]:
        if rc["channel"] == "bfs_email":
            assert any(rc["id"] in m["receipts"] for m in TRUTH["messages"])


def test_files_on_disk_are_all_known() -> None:
    known = {rc["path"] for rc in TRUTH["receipts"]} | {m["path"] for m in TRUTH["messages"]}
    for p in CORPUS.rglob("*"):
        if p.is_file():
            rel = p.relative_to(CORPUS).as_posix()
            if rel == "truth.json":
                continue
            assert rel in known or rel.removesuffix(".info") in known, rel


def test_totals_recompute_from_receipts_and_requests() -> None:
    years = [int(y) for y in TRUTH["totals"]]
    assert compute_totals(TRUTH["receipts"], TRUTH["requests"], years, TRUTH["timezone"]) == TRUTH["totals"]


def test_requests_agree_with_receipts() -> None:
    by_id = {rc["id"]: rc for rc in TRUTH["receipts"]}
    for q in TRUTH["requests"]:
        copies = [by_id[r] for r in q["receipts"]]
        assert all(any(d["request_id"] == q["request_id"] for d in rc["detainers"]) for rc in copies)
        first = min(copies, key=lambda rc: rc["received_at"])
        assert first["received_at"] == q["first_received_at"]
        for rc in copies:
            for d in rc["detainers"]:
                if d["request_id"] == q["request_id"]:
                    assert d["file_number"] == q["file_number"]
                    assert len(d["file_number"]) == 10 and d["file_number"][0] == "A"


def test_restore_mtimes_sets_receive_times(tmp_path: Path) -> None:
    restore_mtimes(CORPUS)
    for rel, t in file_mtimes(TRUTH).items():
        assert (CORPUS / rel).stat().st_mtime == t, rel
    # idempotent
    assert restore_mtimes(CORPUS) == restore_mtimes(CORPUS)
    assert os.path.isdir(CORPUS / "mailbox" / "tmp")


@pytest.mark.slow
def test_generator_reproduces_the_committed_corpus_byte_for_byte(tmp_path: Path) -> None:
    from samplegen.generate import generate

    out = tmp_path / "corpus"
    generate(out, TRUTH["seed"])
    fresh = {p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file()}
    committed = {p.relative_to(CORPUS).as_posix(): p for p in CORPUS.rglob("*") if p.is_file()}
    assert sorted(fresh) == sorted(committed)
    for rel, p in fresh.items():
        assert p.read_bytes() == committed[rel].read_bytes(), rel
        assert p.stat().st_mtime == committed[rel].stat().st_mtime or rel == "truth.json", rel


def test_receive_time_sources_carry_the_receive_time() -> None:
    from zoneinfo import ZoneInfo

    from PIL import Image

    zone = ZoneInfo(TRUTH["timezone"])
    for rc in TRUTH["receipts"]:
        local = datetime.fromisoformat(rc["received_at"].replace("Z", "+00:00")).astimezone(zone)
        stamp = local.strftime("%Y:%m:%d %H:%M:%S")
        path = CORPUS / rc["path"]
        if rc["received_from"] == "tiff_datetime":
            with Image.open(path) as im:
                assert im.tag_v2.get(306) == stamp, rc["id"]  # type: ignore[attr-defined]
        elif rc["received_from"] == "sidecar":
            text = (CORPUS / (rc["path"] + ".info")).read_text(encoding="utf-8")
            assert f"Received: {stamp}" in text, rc["id"]
        elif rc["received_from"] == "mtime":
            assert rc["channel"] != "bfs_email"
            if rc["format"].startswith("tiff") and rc["size"]:
                with Image.open(path) as im:
                    assert 306 not in im.tag_v2, rc["id"]  # type: ignore[attr-defined]
        else:
            assert rc["received_from"] == "received_header" and rc["channel"] == "bfs_email"


def test_corpus_shape() -> None:
    pages = sum(len(rc["pages"]) for rc in TRUTH["receipts"])
    assert 170 <= pages <= 240
    size = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert size < 25 * 1024 * 1024
    assert {rc["channel"] for rc in TRUTH["receipts"]} == {"dedicated_fax", "station_fax", "bfs_email"}
    assert {rc["kind"] for rc in TRUTH["receipts"]} == {"detainer", "decoy", "broken"}
