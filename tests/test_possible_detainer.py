"""No silent drops: a document with detainer evidence but no recognised detainer is a possible detainer.

The packet test reads real pages with real Tesseract: a fine station fax of the sample corpus
(I-247A page 1, notice to the detainee, I-200 warrant), its page 1 replaced by a blank page, as
when a page is lost to a line hit. The ledger then queues it, the count's range widens, and the
operator's ruling either way holds over reprocessing.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.config import ParsingSettings
from core.errors import LedgerError
from ingest.models import Receipt
from ledger.store import Ledger
from parsing.evidence import document_evidence, form_footers, page_evidence
from parsing.extract import extract_document
from parsing.models import ExtractionResult, PageKind
from tests import ledger_support as testing

ROOT = Path(__file__).resolve().parent.parent
YEAR = 2025


# --------------------------------------------------------------------------- page and document evidence


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("DHS Form I-247A (3/17)   Page 1 of 3", PageKind.other, ["form_footer:I-247A"]),
        ("DHS Form l-247A (3/17)", PageKind.other, ["form_footer:I-247A"]),  # I read as l
        ("Form 1-200 (Rev. 09/16)", PageKind.other, ["form_footer:I-200"]),
        ("IMMIGRATION DETAlNER - NOTICE OF ACTION", PageKind.other, ["title", "word:detainer"]),
        ("RE: Detainer, 5 pages", PageKind.fax_cover, ["word:detainer"]),
        ("Detainers lodged this week", PageKind.other, ["word:detainer"]),
        ("NOTICE OF HEARING  Superior Court  Docket 24-CR-1193", PageKind.other, []),
        ("retained for the hearing; maintainer", PageKind.other, []),  # near words are not the word
        ("WARRANT FOR ARREST OF ALIEN", PageKind.i200, ["warrant_page:I-200"]),
        ("WARRANT OF REMOVAL/DEPORTATION", PageKind.i205, ["warrant_page:I-205"]),
        ("NOTICE TO THE DETAINEE (866) 347-2423", PageKind.detainee_notice, ["notice_page"]),
    ],
)
def test_page_evidence(text: str, kind: PageKind, expected: list[str]) -> None:
    assert page_evidence(text, kind) == expected


def test_form_footers_keep_the_form_letter_only_for_the_i247() -> None:
    assert form_footers("DHS Form I-247D (5/15) ... Form I-205 (Rev. 08/07)") == ["I-247D", "I-205"]
    assert form_footers("DHS Form I-247 (12/11)") == ["I-247"]


def test_document_evidence() -> None:
    cover = (["word:detainer"], PageKind.fax_cover, [])
    warrant = (["warrant_page:I-200"], PageKind.i200, ["A012345678"])
    other_warrant = (["warrant_page:I-200"], PageKind.i200, ["A087654321"])
    slip = (["warrant_page:I-200"], PageKind.i200, ["A012345673"])  # the first A-number an OCR slip off
    assert document_evidence([cover, warrant], 0) == ["word:detainer", "warrant_page:I-200"]
    assert document_evidence([(["x"], PageKind.other, [])][:0], 0) == []
    assert document_evidence([cover, warrant], 1) == []  # the recognised detainer accounts for it
    assert document_evidence([warrant, slip], 1) == []
    assert document_evidence([warrant, other_warrant], 1) == ["warrants_exceed_forms"]
    assert document_evidence([warrant, other_warrant], 2) == []


# --------------------------------------------------------------------------- a packet whose page 1 is lost


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    return json.loads((ROOT / "sample_faxes" / "truth.json").read_text())


def _packet(truth: dict[str, Any]) -> dict[str, Any]:
    """A fine single-packet station fax: page 1, notice pages and an I-200 warrant, no cover sheet."""
    for receipt in truth["receipts"]:
        kinds = [p["kind"] for p in receipt.get("pages", [])]
        if (receipt["format"] == "tiff_g4" and receipt["resolution"] == "fine" and kinds[0] == "detainer_p1"
                and "i200" in kinds and "detainee_notice" in kinds and kinds.count("detainer_p1") == 1):
            return receipt
    raise AssertionError("no such packet in the sample corpus")


def _without_page_1(path: Path) -> bytes:
    """The fax with its page 1 blanked (a page lost in transmission); the other pages as received."""
    frames = []
    with Image.open(path) as image:
        for index in range(image.n_frames):
            image.seek(index)
            frame = image.convert("1")
            frames.append(Image.new("1", frame.size, 1) if index == 0 else frame.copy())
    out = io.BytesIO()
    frames[0].save(out, format="TIFF", compression="group4", save_all=True, append_images=frames[1:],
                   dpi=(204, 196))
    return out.getvalue()


@pytest.fixture(scope="module")
def lost_page_1(truth: dict[str, Any]) -> tuple[dict[str, Any], bytes, ExtractionResult]:
    receipt = _packet(truth)
    content = _without_page_1(ROOT / "sample_faxes" / receipt["path"])
    return receipt, content, extract_document(content, settings=ParsingSettings(workers=1))


def test_a_packet_whose_page_1_is_lost_is_a_possible_detainer(
    lost_page_1: tuple[dict[str, Any], bytes, ExtractionResult],
) -> None:
    _, _, result = lost_page_1
    assert result.error is None and result.detainers == []
    evidence = result.possible_detainer_evidence
    assert "warrant_page:I-200" in evidence and "notice_page" in evidence
    assert all(":" not in slug or slug.split(":", 1)[0] in ("warrant_page", "form_footer", "word") for slug in evidence)
    # The notice pages were placed by their bands (parsing.look), never read whole: the saving
    # costs the net nothing.
    notices = [p for p in result.pages if p.kind is PageKind.detainee_notice]
    assert notices and all(p.looked for p in notices)


def test_the_possible_detainer_widens_the_count_until_a_person_rules(
    ledger: Ledger, truth: dict[str, Any], lost_page_1: tuple[dict[str, Any], bytes, ExtractionResult]
) -> None:
    original, content, result = lost_page_1
    for receipt, extraction, quarantine in testing.truth_inputs(truth):
        if quarantine is None:  # no quarantined inputs: they would widen the range too
            ledger.record(receipt, extraction, quarantine=quarantine)
    count = truth["totals"][str(YEAR)]["unique_requests"]
    assert ledger.metrics(YEAR)["unique_requests_range"] == [count, count]

    arrival = Receipt(
        channel="dedicated_fax", source_key="test:lost-page-1", received_at=datetime(YEAR, 11, 20, 15, tzinfo=UTC),
        file_name="fax-lost-page-1.tif", sha256=result.sha256, size=len(content),
    )
    ledger.record(arrival, result)
    items = ledger.review_items(kind="possible_detainer")
    assert len(items) == 1 and items[0].document_sha256 == result.sha256
    assert items[0].reason == ",".join(result.possible_detainer_evidence)
    m = ledger.metrics(YEAR)
    assert m["unique_requests"] == count
    assert m["unique_requests_range"] == [count, count + 1]
    assert m["possible_requests_awaiting_review"] == 1
    assert m["range_components"]["possible_detainer"] == [0, 1]
    assert m["dedicated_line_rate_range"][1] > m["dedicated_line_rate"]  # it arrived on the dedicated line

    with pytest.raises(LedgerError):
        ledger.resolve_review(items[0].id, "merge", "Sgt. Test")
    ledger.resolve_review(items[0].id, "detainer", "Sgt. Test")
    m = ledger.metrics(YEAR)
    assert m["unique_requests"] == count + 1 and m["unique_requests_range"] == [count + 1, count + 1]
    assert m["possible_requests_awaiting_review"] == 0
    resolved = ledger.review_items(status="resolved", kind="possible_detainer")[0]
    assert resolved.resolution == "detainer"
    copies = ledger.copies(result.sha256)
    assert len(copies) == 1 and copies[0]["fields"]["needs_review"] and copies[0]["request_id"]
    assert [i.reason for i in ledger.review_items(kind="copy")] == ["copy:added_by_operator"]

    # The ruling holds over a reprocess and a rerun; the copy's corrections too.
    ledger.correct(copies[0]["key"], "issued_date", "2025-11-19", "Sgt. Test")
    ledger.reprocess(result)
    ledger.record(arrival, result)
    assert ledger.metrics(YEAR)["unique_requests"] == count + 1
    assert ledger.copies(result.sha256)[0]["fields"]["issued_date"] == "2025-11-19"

    # Changing the ruling: not a detainer after all. The operator's copy goes, the range is a point again.
    ledger.resolve_review(items[0].id, "dismiss", "Lt. Test")
    m = ledger.metrics(YEAR)
    assert m["unique_requests"] == count and m["unique_requests_range"] == [count, count]
    assert ledger.copies(result.sha256) == []
    assert ledger.review_items(kind="copy") == []
    assert ledger.review_items(status="resolved", kind="possible_detainer")[0].resolution == "not_detainer"
    assert original["id"]  # the packet came from the corpus


def test_a_dismissed_possible_detainer_narrows_the_range(
    ledger: Ledger, lost_page_1: tuple[dict[str, Any], bytes, ExtractionResult]
) -> None:
    _, content, result = lost_page_1
    arrival = Receipt(
        channel="station_fax", station="B-2", source_key="test:lost", received_at=datetime(YEAR, 3, 2, 15, tzinfo=UTC),
        file_name="f.tif", sha256=result.sha256, size=len(content),
    )
    ledger.record(arrival, result)
    assert ledger.metrics(YEAR)["unique_requests_range"] == [0, 1]
    item = ledger.review_items(kind="possible_detainer")[0]
    ledger.resolve_review(item.id, "accept", "Sgt. Test")
    m = ledger.metrics(YEAR)
    assert m["unique_requests_range"] == [0, 0] and m["possible_requests_awaiting_review"] == 0
    ledger.reprocess(result)  # the same evidence again: the ruling stands
    assert ledger.review_items(kind="possible_detainer") == []
    assert ledger.metrics(YEAR)["unique_requests_range"] == [0, 0]
