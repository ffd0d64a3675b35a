"""The operators' review queue: list (with sources and reasons), show (values, confidence, page crops
from the archived bytes), correct / accept / merge / split through the command bodies, all audited."""

from __future__ import annotations

import io
import json
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from application.review import BadArgument, copy_details, crop_box, parse_value, render_page, resolve_copy
from detainer_intake.commands.review import (
    review_accept_command,
    review_correct_command,
    review_list_command,
    review_merge_command,
    review_show_command,
    review_split_command,
)
from ingest.archive import Archive
from ingest.models import Receipt
from ledger import schema
from ledger.db import open_ledger
from parsing.models import BBox, DetainerRequest, ExtractionResult, FieldEvidence, PageResult
from tests.report_support import settings_for

T0 = datetime(2025, 3, 4, 14, 0, tzinfo=UTC)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
A_NUMBER = "A012345678"
NAME = "MARIA ELENA LOPEZ"


def form_page() -> tuple[bytes, dict[str, BBox]]:
    """A letter page at 200 dpi with form-like lines; returns the PNG and the boxes of two values."""
    image = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 34)
    boxes: dict[str, BBox] = {}
    lines = [
        ("DEPARTMENT OF HOMELAND SECURITY", None),
        ("IMMIGRATION DETAINER - NOTICE OF ACTION", None),
        ("Subject ID: 576CY6SK6   Event #: BOS2503000111", None),
        ("File No: ", ("file_number", A_NUMBER)),
        ("Date: 03/01/2025", None),
        ("Name of Alien: ", ("subject_name", NAME)),
        ("Date of Birth: 04/12/1988   Citizenship: MEXICO   Sex: F", None),
        ("1. DHS HAS DETERMINED THAT PROBABLE CAUSE EXISTS THAT THE SUBJECT", None),
        ("IS A REMOVABLE ALIEN. THIS DETERMINATION IS BASED ON:", None),
    ]
    y = 180
    for label, value in lines:
        draw.text((150, y), label, font=font, fill=0)
        if value:
            x = 150 + int(draw.textlength(label, font=font))
            draw.text((x, y), value[1], font=font, fill=0)
            left, top, right, bottom = draw.textbbox((x, y), value[1], font=font)
            boxes[value[0]] = BBox(left=left, top=top, width=right - left, height=bottom - top)
        y += 90
    for _ in range(12):  # body text, so orientation detection has lines to go by
        draw.text((150, y), "The alien must be served with a copy of this form for the detainer to take effect.",
                  font=font, fill=0)  # fmt: skip
        y += 60
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(200, 200))
    return buffer.getvalue(), boxes


def receipt(key: str, sha: str, when: datetime, channel: str = "dedicated_fax", name: str = "fax.png") -> Receipt:
    return Receipt(
        channel=channel,
        station="C-6" if channel == "station_fax" else None,
        source_key=key,
        received_at=when,
        file_name=name,
        sha256=sha,
        size=1,
    )


def detainer(**overrides) -> DetainerRequest:
    base = {
        "form_type": "I-247A",
        "file_number": A_NUMBER,
        "event_number": None,
        "issued_date": date(2025, 3, 1),
        "subject_name": NAME,
        "date_of_birth": date(1988, 4, 12),
        "warrant_form": "I-200",
    }
    base.update(overrides)
    return DetainerRequest.model_validate(base)


def sha_of(content: bytes) -> str:
    import hashlib

    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def env(tmp_path):
    """A ledger with: a copy flagged by the parser (with evidence boxes on an archived page image), a
    near-identical copy from the mailbox (an uncertain match), a third unrelated request, a quarantined
    document and a quarantined mail message."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    settings = settings_for(url, tmp_path)
    ledger = open_ledger(url)
    archive = Archive(settings.archive.path)
    page, boxes = form_page()
    archive.store(page)
    evidence = {
        "file_number": FieldEvidence(page=1, bbox=boxes["file_number"], confidence=0.41, raw=A_NUMBER),
        "subject_name": FieldEvidence(page=1, bbox=boxes["subject_name"], confidence=0.93, raw=NAME),
    }
    flagged = detainer(evidence=evidence, needs_review=True, review_reasons=["file_number:low_confidence"])
    sha1 = sha_of(page)
    ledger.record(
        receipt("fax:1", sha1, T0, name="fax000017.png"),
        ExtractionResult(sha256=sha1, pages=[PageResult(page=1, kind="detainer_p1")], detainers=[flagged]),
    )
    sha2 = sha_of(b"mail copy")
    noisy = detainer(subject_name="MARIA ELENA LOPEK", officer_name="[bold]J. DOE[/]")  # markup-like text
    ledger.record(
        receipt("mail:1", sha2, T0 + timedelta(hours=2), "bfs_email", "detainer.pdf"),
        ExtractionResult(sha256=sha2, pages=[PageResult(page=1, kind="detainer_p1")], detainers=[noisy]),
    )
    sha3 = sha_of(b"other person")
    other = detainer(file_number="A098765432", subject_name="JOHN SMITH", date_of_birth=date(1970, 1, 1))
    ledger.record(
        receipt("fax:3", sha3, T0 + timedelta(days=1), "station_fax", "FAX_0305.tif"),
        ExtractionResult(sha256=sha3, pages=[PageResult(page=1, kind="detainer_p1")], detainers=[other]),
    )
    sha4 = sha_of(b"%PDF-1.7 encrypted")
    ledger.record(
        receipt("fax:4", sha4, T0, name="locked.pdf"), None, quarantine=("encrypted", "the PDF is password-protected")
    )
    ledger.record_mail_failure("maildir:cur/17000.M1", "malformed_message", quarantined=True, message="bad MIME")
    yield settings, ledger, {"flagged": f"{sha1}:0", "noisy": f"{sha2}:0", "other": f"{sha3}:0", "boxes": boxes}
    ledger.close()


def items_by_kind(settings, capsys) -> dict[str, list[dict]]:
    capsys.readouterr()
    assert review_list_command(settings, as_json=True) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["count"] == len(payload["items"])
    out: dict[str, list[dict]] = {}
    for item in payload["items"]:
        out.setdefault(item["kind"], []).append(item)
    return out


def test_review_list_gives_every_open_item_with_source_and_reason(env, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    settings, _, keys = env
    kinds = items_by_kind(settings, capsys)
    assert set(kinds) == {"copy", "match", "quarantine"}
    [copy] = kinds["copy"]
    assert copy["reason"] == "file_number:low_confidence"
    assert copy["source"] == "dedicated_fax: fax000017.png"
    assert copy["copy_keys"] == [keys["flagged"]] and copy["request_ids"][0].startswith("REQ-")
    [match] = kinds["match"]
    assert set(match["copy_keys"]) == {keys["flagged"], keys["noisy"]}
    assert "fax000017.png" in match["source"] and "detainer.pdf" in match["source"]
    assert match["default_decision"] == "merge" and match["score"] < 95
    quarantined = {q["source"]: q for q in kinds["quarantine"]}
    assert quarantined["dedicated_fax: locked.pdf"]["reason"] == "encrypted"
    assert quarantined["dedicated_fax: locked.pdf"]["message"] == "the PDF is password-protected"
    assert quarantined["mail message maildir:cur/17000.M1"]["message"] == "bad MIME"
    # The table view carries no field values.
    assert review_list_command(settings) == 0
    table = capsys.readouterr().out
    assert "fax000017.png" in table and NAME not in table and A_NUMBER not in table


def test_review_show_prints_values_with_confidence_and_writes_crops(env, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich truncates table cells to the console's width
    settings, ledger, keys = env
    [item] = [i for i in ledger.review_items() if i.kind == "copy"]
    out = tmp_path / "crops"
    capsys.readouterr()
    assert review_show_command(settings, item.id, out) == 0
    printed = capsys.readouterr().out
    assert A_NUMBER in printed and NAME in printed  # an operator tool: values on purpose
    assert "0.41" in printed and "low_confidence" in printed
    crops = sorted(out.iterdir())
    assert [p.name for p in crops] == ["copy1-file_number.png", "copy1-subject_name.png"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    box = keys["boxes"]["file_number"]
    for path in crops:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        crop = np.asarray(Image.open(path).convert("RGB"))
        assert crop.shape[1] > box.width and crop.shape[0] > box.height
        red = (crop[:, :, 0] > 180) & (crop[:, :, 1] < 80) & (crop[:, :, 2] < 80)
        assert red.sum() > 100  # the value's box, outlined
    # The crop shows what the box holds: the value's ink inside the outline.
    page = np.asarray(render_page(Archive(settings.archive.path).load(keys["flagged"][:64]), 1, False))
    region = page[box.top : box.top + box.height, box.left : box.left + box.width]
    assert (region < 128).mean() > 0.08
    left, top, right, bottom = crop_box(box, (page.shape[1], page.shape[0]))
    assert left < box.left and right > box.left + box.width and top < box.top and bottom > box.top + box.height


def test_review_show_of_a_quarantined_input_and_of_a_match(env, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    settings, ledger, keys = env
    quarantine = next(i for i in ledger.review_items() if i.kind == "quarantine" and i.document_sha256)
    capsys.readouterr()
    assert review_show_command(settings, quarantine.id, tmp_path / "q") == 0
    printed = capsys.readouterr().out
    assert "encrypted" in printed and "archived input" in printed
    match = next(i for i in ledger.review_items() if i.kind == "match")
    assert review_show_command(settings, match.id, tmp_path / "m") == 0
    printed = capsys.readouterr().out
    assert keys["flagged"] in printed and keys["noisy"] in printed and "LOPEK" in printed
    assert sum("differs" in line for line in printed.splitlines() if "subject_name" in line) == 2
    assert "[bold]J. DOE[/]" in printed  # printed as read, never interpreted
    with pytest.raises(BadArgument):
        review_show_command(settings, 9999, tmp_path / "x")


def test_correct_accept_merge_and_split_are_audited(env, capsys):
    settings, ledger, keys = env
    copy_item = next(i for i in ledger.review_items() if i.kind == "copy")
    # Correct through the review item number; the effective value changes, OCR's is kept apart.
    assert review_correct_command(settings, str(copy_item.id), "file_number", "A012345679", "Officer Reyes") == 0
    details = copy_details(ledger, keys["flagged"])
    file_number = next(f for f in details.fields if f.name == "file_number")
    assert file_number.value == "A012345679" and file_number.ocr_value == A_NUMBER
    assert file_number.corrected[0]["who"] == "Officer Reyes" and file_number.corrected[0]["old"] == A_NUMBER
    # Accept closes the item, with who and when.
    assert review_accept_command(settings, copy_item.id, "Officer Reyes") == 0
    with ledger.engine.connect() as connection:
        resolved = connection.execute(
            select(schema.ReviewItem.status, schema.ReviewItem.resolved_by).where(schema.ReviewItem.id == copy_item.id)
        ).one()
    assert tuple(resolved) == ("resolved", "Officer Reyes")
    # Merge two requests by their ids, then split them again by copy key prefixes.
    request_of = {c["key"]: c["request_id"] for k in (keys["flagged"], keys["other"]) for c in ledger.copies(k[:64])}
    assert request_of[keys["flagged"]] != request_of[keys["other"]]
    assert review_merge_command(settings, request_of[keys["flagged"]], request_of[keys["other"]], "Sgt. Ortiz") == 0
    merged = {c["request_id"] for k in (keys["flagged"], keys["other"]) for c in ledger.copies(k[:64])}
    assert len(merged) == 1
    assert review_split_command(settings, keys["flagged"][:12], keys["other"][:12] + ":0", "Sgt. Ortiz") == 0
    split = {c["request_id"] for k in (keys["flagged"], keys["other"]) for c in ledger.copies(k[:64])}
    assert len(split) == 2
    with ledger.engine.connect() as connection:
        decisions = connection.execute(select(schema.MatchDecision.same, schema.MatchDecision.who)).all()
        corrections = connection.execute(select(schema.Correction.field, schema.Correction.who)).all()
    assert [tuple(d) for d in decisions] == [(False, "Sgt. Ortiz")]
    assert [tuple(c) for c in corrections] == [("file_number", "Officer Reyes")]
    printed = capsys.readouterr().out
    assert "merged by Sgt. Ortiz" in printed and "kept apart by Sgt. Ortiz" in printed


def test_naming_copies(env):
    _, ledger, keys = env
    flagged = keys["flagged"]
    assert resolve_copy(ledger, flagged) == flagged
    assert resolve_copy(ledger, flagged[:10]) == flagged
    assert resolve_copy(ledger, flagged[:10].upper() + ":0") == flagged
    request_id = ledger.copies(flagged[:64])[0]["request_id"]
    assert resolve_copy(ledger, request_id.lower()) in (flagged, keys["noisy"])
    match = next(i for i in ledger.review_items() if i.kind == "match")
    for bad in (str(match.id), "9999", flagged[:64] + ":5", "REQ-000000000000", "zz", "abc"):
        with pytest.raises(BadArgument):
            resolve_copy(ledger, bad)


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        ("file_number", " A012345678 ", "A012345678"),
        ("issued_date", "03/01/2025", date(2025, 3, 1)),
        ("date_of_birth", "1988-04-12", date(1988, 4, 12)),
        ("probable_cause", "final_order, biometric_records", ["final_order", "biometric_records"]),
        ("probable_cause", '["final_order"]', ["final_order"]),
        ("cancels_previous", "yes", True),
        ("transferred_for_proceeding", "no", False),
        ("event_number", "null", None),
        ("warrant_form", "", None),
    ],
)
def test_typed_values_for_corrections(field, text, value):
    assert parse_value(field, text) == value


def test_bad_values_and_unknown_fields_are_refused(env):
    settings, _, keys = env
    with pytest.raises(BadArgument):
        parse_value("no_such_field", "x")
    with pytest.raises(BadArgument):
        parse_value("issued_date", "soon")
    with pytest.raises(BadArgument):
        review_correct_command(settings, keys["flagged"], "warrant_form", "I-999", "Officer Reyes")
    with pytest.raises(BadArgument):
        review_correct_command(settings, keys["flagged"], "warrant_form", "I-205", " ")
    with pytest.raises(BadArgument):
        review_accept_command(settings, 9999, "Officer Reyes")


def test_render_page_refuses_a_page_the_document_does_not_have(env):
    settings, _, keys = env
    content = Archive(settings.archive.path).load(keys["flagged"][:64])
    with pytest.raises(BadArgument):
        render_page(content, 2, False)
    assert Path(settings.archive.path).is_dir()


def _possible_detainer(ledger, when: datetime = T0 + timedelta(days=2)) -> str:
    sha = sha_of(b"warrant and notices, page 1 lost")
    ledger.record(
        receipt("fax:5", sha, when, name="fax000021.tif"),
        ExtractionResult(
            sha256=sha,
            pages=[PageResult(page=1, kind="other"), PageResult(page=2, kind="i200")],
            possible_detainer_evidence=["warrant_page:I-200", "form_footer:I-200"],
        ),
    )
    return sha


def test_review_list_puts_what_moves_the_count_first_and_shows_by_how_much(env, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "220")
    settings, ledger, _ = env
    _possible_detainer(ledger)
    capsys.readouterr()
    assert review_list_command(settings, as_json=True) == 0
    items = json.loads(capsys.readouterr().out)["items"]
    sizes = [
        max(abs(y["unique_requests"]) * 2 + abs(y["dedicated_line"]) for y in i["impact"]["by_year"].values())
        if i["impact"] else 0
        for i in items
    ]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 0 and sizes[-1] == 0
    by_kind = {i["kind"]: i for i in items}
    possible = by_kind["possible_detainer"]
    assert possible["reason"] == "warrant_page:I-200,form_footer:I-200"
    assert possible["source"] == "dedicated_fax: fax000021.tif"
    assert possible["impact"]["class"] == "possible_detainer"
    assert possible["impact"]["by_year"]["2025"] == {"unique_requests": 1, "dedicated_line": 1}
    assert possible["impact"]["text"] == "+1 request (dedicated line) in 2025"
    assert by_kind["match"]["impact"]["class"] == "merge_pending_review"  # merged pending review: +1 if split
    assert by_kind["copy"]["impact"] is None  # a doubtful field moves no count
    # Among items of one size, the older first.
    same = [i for i, s in zip(items, sizes, strict=True) if s == sizes[0]]
    assert [i["received_at"] for i in same] == sorted(i["received_at"] for i in same)
    assert review_list_command(settings) == 0
    table = capsys.readouterr().out
    assert "+1 request (dedicated line) in 2025" in table and "review detainer ITEM_ID" in table


def test_a_possible_detainer_is_resolved_either_way_and_audited(env, capsys):
    settings, ledger, _ = env
    sha = _possible_detainer(ledger)
    before = ledger.metrics(2025)
    assert before["possible_requests_awaiting_review"] == 1
    item = next(i for i in ledger.review_items() if i.kind == "possible_detainer")
    with pytest.raises(Exception, match="possible detainer"):
        review_accept_command(settings, item.id, "Sgt. Ortiz", resolution="split")
    assert review_accept_command(settings, item.id, "Sgt. Ortiz", resolution="detainer") == 0
    after = ledger.metrics(2025)
    assert after["unique_requests"] == before["unique_requests"] + 1
    assert after["possible_requests_awaiting_review"] == 0
    [copy] = ledger.copies(sha)
    assert review_correct_command(settings, copy["key"], "file_number", "A055555555", "Sgt. Ortiz") == 0
    with ledger.engine.connect() as connection:
        row = connection.execute(
            select(schema.ReviewItem.resolution, schema.ReviewItem.resolved_by, schema.ReviewItem.resolved_at)
            .where(schema.ReviewItem.id == item.id)
        ).one()
    assert row[0] == "detainer" and row[1] == "Sgt. Ortiz" and row[2] is not None
    assert review_accept_command(settings, item.id, "Lt. Chen") == 0  # accept: not a detainer after all
    assert ledger.metrics(2025)["unique_requests"] == before["unique_requests"]
    assert ledger.copies(sha) == []
