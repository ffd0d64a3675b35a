"""The enlarged re-reads of key fields (parsing/reread.py), with real Tesseract."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from parsing.ocr import OcrParams, Word
from parsing.ocr_engine import MODELS_DIR, set_ocr_engine
from parsing.reread import _Crop, _read_scale, _read_strip
from parsing.templates import templates
from samplegen.forms import font_path


def test_a_one_line_values_reread_keeps_the_line_across_its_middle() -> None:
    # A tight grid: the value's crop (padded by half a line) takes in the caption line above.
    page = Image.new("L", (700, 160), 255)
    draw = ImageDraw.Draw(page)
    draw.text((40, 8), "SUBJECT ID", font=ImageFont.truetype(font_path("sans"), 26), fill=0)
    draw.text((40, 60), "KVAJ37CGD", font=ImageFont.truetype(font_path("mono"), 34), fill=0)
    crop = _Crop("subject_id", (20, 0, 680, 120))
    assert len(_read_strip(page, [crop], 2, "eng", 30.0)[0]) == 2  # both lines are in the crop
    (only,) = _read_strip(page, [crop], 2, "eng", 30.0, middle=True)[0]
    assert "KVAJ" in only and "SUB" not in only


def _langs_read(fax_print: bool) -> list[OcrParams]:
    seen: list[OcrParams] = []

    class Recording:
        def identity(self) -> str:
            return "recording"

        def words(self, image: Image.Image, params: OcrParams, timeout: float) -> list[Word]:
            seen.append(params)
            return []

        def orientation(self, image: Image.Image, timeout: float) -> int | None:
            return None

    (i247a,) = [t for t in templates() if t.name == "i247a"]
    specs = {spec.name: spec for spec in i247a.fields}
    page = Image.new("L", (400, 200), 255)
    crops = [_Crop("subject_id", (0, 0, 200, 40)), _Crop("event_number", (0, 50, 200, 90))]
    set_ocr_engine(Recording())
    try:
        _read_scale(page, crops, specs, 2, "eng", 30.0, fax_print)
    finally:
        set_ocr_engine(None)
    return seen


def test_the_subject_id_is_reread_by_the_fax_print_model_and_the_rest_by_the_page_language() -> None:
    seen = _langs_read(fax_print=True)
    specs = {spec.name: spec for spec in next(t for t in templates() if t.name == "i247a").fields}
    # One strip each: the identifiers share an alphabet, yet the subject ID goes to the model.
    assert [(p.lang, p.tessdata_dir) for p in seen] == [("eng", None), ("faxprint", str(MODELS_DIR))]
    assert seen[1].alphabet == specs["subject_id"].alphabet


def test_a_photo_or_scan_is_reread_by_the_page_language_only() -> None:
    # The model learned faxed print; on the corpus's phone photo it read a subject ID further off.
    assert [(p.lang, p.tessdata_dir) for p in _langs_read(fax_print=False)] == [("eng", None)]
