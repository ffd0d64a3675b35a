"""The project's fax-print Tesseract model (parsing/models/faxprint.traineddata): Tesseract finds
it in the project's folder (eng still in the system's), and it reads a subject ID crop as the
key-field re-read sees one: printed, faxed at standard resolution, smoothed, enlarged 3x."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from parsing.ocr_engine import MODELS_DIR, read_words
from parsing.version import parser_version, tree_digest
from samplegen.forms import font_path

ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _faxed_crop(text: str) -> Image.Image:
    # 9-point print at 408 dpi, sent at 204x98 dpi (bilevel), rows doubled back, smoothed, 3x.
    font = ImageFont.truetype(font_path("mono"), round(9 / 72 * 408))
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    clean = Image.new("L", (right - left + 80, bottom - top + 80), 255)
    ImageDraw.Draw(clean).text((40 - left, 40 - top), text, font=font, fill=0)
    fax = clean.resize((clean.width // 2, clean.height // 4), Image.Resampling.BOX)
    fax = fax.filter(ImageFilter.GaussianBlur(0.7))
    bilevel = Image.fromarray(np.where(np.asarray(fax) < 170, 0, 255).astype(np.uint8))
    page = bilevel.resize((fax.width, fax.height * 2), Image.Resampling.NEAREST).filter(ImageFilter.GaussianBlur(1))
    return page.resize((page.width * 3, page.height * 3), Image.Resampling.BICUBIC)


def test_the_model_is_found_in_the_project_and_reads_faxed_subject_ids() -> None:
    values = ("KVAJ37CGD", "4071593826", "H7PX2M4QN", "19Z8WK3RB", "T4MW9X2RK")
    read = ["".join(w.text for w in read_words(_faxed_crop(value), lang="faxprint", tessdata_dir=str(MODELS_DIR),
                                               psm=7, dpi=600, alphabet=ID_ALPHABET)) for value in values]
    # Not every one: the model sometimes inserts a glyph in a long run (bench/results/faxprint.md).
    assert sum(got == want for got, want in zip(read, values, strict=True)) >= 4
    # eng beside it still comes from the system's folder.
    assert "".join(w.text for w in read_words(_faxed_crop("0123"), lang="eng", psm=7, dpi=600)) == "0123"


def test_the_model_is_small_noted_and_part_of_the_parser_version(tmp_path: Path) -> None:
    model = MODELS_DIR / "faxprint.traineddata"
    assert model.stat().st_size < 4_000_000  # shipped in the project
    assert hashlib.sha256(model.read_bytes()).hexdigest() in (MODELS_DIR / "README.md").read_text()
    copy = tmp_path / "parsing"
    shutil.copytree(MODELS_DIR.parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert tree_digest(copy) == parser_version()
    (copy / "models" / "faxprint.traineddata").write_bytes(model.read_bytes() + b"\0")
    assert tree_digest(copy) != parser_version()  # another model: documents are read again
