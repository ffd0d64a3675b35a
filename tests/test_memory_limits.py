"""Every helper process reading a page (Tesseract, poppler) runs under
``parsing.max_subprocess_memory_mb``: a page that needs more is quarantined ``memory_limit``
instead of taking the machine's memory (or crashing the run), and real pages fit the default."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from core.config import ParsingSettings
from parsing.extract import extract_document
from parsing.limits import MemoryLimitExceeded, memory_limit
from parsing.ocr import OcrParams
from parsing.ocr_engine import TesseractEngine
from tests.test_parsing_extract import GOLDEN, golden_input

SETTINGS = ParsingSettings(workers=1, ocr_timeout_seconds=60)


def _golden(name: str) -> bytes:
    return golden_input(json.loads((GOLDEN / f"{name}.json").read_text()))


def test_the_default_fits_real_pages() -> None:
    assert SETTINGS.max_subprocess_memory_mb == 512  # ~4x Tesseract's 132 MB on a 300-dpi letter page


@pytest.mark.real_tesseract
def test_a_fax_page_tesseract_cannot_read_within_the_limit_is_quarantined() -> None:
    tight = SETTINGS.model_copy(update={"max_subprocess_memory_mb": 48})  # Tesseract needs ~130 MB
    result = extract_document(_golden("fine_g4_tiff"), file_name="fax.tif", settings=tight)
    assert result.error_reason == "memory_limit", result.error
    assert result.error and "48 MB" in result.error and len(result.error) < 300
    assert result.pages == [] and result.detainers == []


@pytest.mark.real_tesseract
def test_a_pdf_page_poppler_cannot_read_within_the_limit_is_quarantined() -> None:
    tight = SETTINGS.model_copy(update={"max_subprocess_memory_mb": 16})  # pdftotext needs ~18 MB
    result = extract_document(_golden("scanned_gray_pdf"), file_name="scan.pdf", settings=tight)
    assert result.error_reason == "memory_limit", result.error
    assert result.pages == [] and result.detainers == []


def test_a_page_pdftoppm_ran_out_of_memory_on_is_not_an_image(tmp_path: Path) -> None:
    """pdftoppm out of memory says so, writes a broken page and exits 0: that is the limit, not an image."""
    from parsing import pages as P

    content = _golden("scanned_gray_pdf")
    (tmp_path / "in.pdf").write_bytes(content)
    tight = SETTINGS.model_copy(update={"max_subprocess_memory_mb": 32})  # pdftoppm needs ~42 MB at 300 dpi
    ref = P.open_input(content, tmp_path / "in.pdf", tight).pages[0]
    with pytest.raises(MemoryLimitExceeded):
        P.render_pdf_page(ref, P.SCAN_DPI)
    assert P.render_pdf_page(replace(ref, max_memory_mb=512), P.SCAN_DPI).size[0] > 2000


@pytest.mark.real_tesseract
def test_tesseract_runs_under_the_limit_of_the_page_being_read(tmp_path: Path) -> None:
    from PIL import Image

    page = Image.new("L", (2550, 3300), 255)  # a blank 300-dpi letter page
    engine = TesseractEngine()
    assert engine.words(page.copy(), OcrParams(dpi=300), timeout=60) == []  # no limit
    with memory_limit(512):
        assert engine.words(page.copy(), OcrParams(dpi=300), timeout=60) == []
    with memory_limit(48), pytest.raises(MemoryLimitExceeded):
        engine.words(page.copy(), OcrParams(dpi=300), timeout=60)


@pytest.mark.real_tesseract
def test_the_limit_holds_without_prlimit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where util-linux's prlimit is missing, the limit is set in the child before exec."""
    from PIL import Image

    from parsing import limits

    monkeypatch.setattr(limits, "_PRLIMIT", None)
    page = Image.new("L", (2550, 3300), 255)
    with memory_limit(48), pytest.raises(MemoryLimitExceeded):
        TesseractEngine().words(page, OcrParams(dpi=300), timeout=60)
    with memory_limit(512):
        assert TesseractEngine().words(page.copy(), OcrParams(dpi=300), timeout=60) == []
