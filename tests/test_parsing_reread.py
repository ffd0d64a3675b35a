"""The enlarged re-reads of key fields (parsing/reread.py), with real Tesseract."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from parsing.reread import _Crop, _read_strip
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
