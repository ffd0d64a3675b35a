"""A training line as the key-field re-read sees it: printed, faxed, received, enlarged.

The line is drawn at 408 dpi (the sender's scanner sees it sharper than the fax keeps), reduced
to 204x196 (fine) or 204x98 (standard) dpi, blurred a little and thresholded with ragged edges
and specks (the fax is bilevel), stretched back to square pixels as ``parsing.normalize`` does
(standard: rows doubled), smoothed like ``NormalizedPage.ocr_image`` and enlarged 2x or 3x with
the re-read's padding (``parsing.reread``)."""

from __future__ import annotations

import random
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# Faces the held-out family does NOT use (it draws with URW Nimbus and GNU FreeFont): keep it so.
FACE_FILES = (
    "liberation/LiberationMono-Regular.ttf", "liberation/LiberationMono-Bold.ttf",
    "liberation/LiberationSans-Regular.ttf", "liberation/LiberationSans-Bold.ttf",
    "liberation/LiberationSansNarrow-Regular.ttf", "liberation/LiberationSerif-Regular.ttf",
    "liberation/LiberationSerif-Bold.ttf",
    "dejavu/DejaVuSansMono.ttf", "dejavu/DejaVuSansMono-Bold.ttf", "dejavu/DejaVuSans.ttf",
    "dejavu/DejaVuSansCondensed.ttf", "dejavu/DejaVuSerif.ttf", "dejavu/DejaVuSerifCondensed.ttf",
)
OTHER_FACES = ("C059-Roman.otf", "P052-Roman.otf", "URWBookman-Light.otf", "URWGothic-Book.otf")
FORBIDDEN = ("nimbus", "free")  # the held-out family's faces
RENDER_DPI = 408


@cache
def faces() -> tuple[Path, ...]:
    found = [Path("/usr/share/fonts/truetype") / f for f in FACE_FILES]
    found += [Path("/usr/share/fonts/opentype/urw-base35") / f for f in OTHER_FACES]
    found = [p for p in found if p.is_file()]
    if any(word in p.name.lower() for p in found for word in FORBIDDEN):
        raise RuntimeError("a held-out face slipped into the training faces")
    if len(found) < 8:
        raise RuntimeError("training faces missing: install fonts-liberation and fonts-dejavu")
    return tuple(found)


def render_line(text: str, rng: random.Random, nrng: np.random.Generator) -> tuple[Image.Image, int]:
    """The degraded, enlarged line image and its scale (2 or 3)."""
    face = rng.choice(faces())
    points = rng.uniform(7.5, 12.0)
    font = ImageFont.truetype(str(face), round(points / 72 * RENDER_DPI))
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    margin = 40
    clean = Image.new("L", (right - left + 2 * margin, bottom - top + 2 * margin), 255)
    ImageDraw.Draw(clean).text((margin - left, margin - top), text, font=font, fill=rng.randint(0, 60))
    clean = clean.rotate(rng.uniform(-0.6, 0.6), resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
    standard = rng.random() < 0.5
    width, height = clean.width // 2, clean.height // (4 if standard else 2)
    fax = clean.resize((width, height), Image.Resampling.BOX)
    fax = fax.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))
    a = np.asarray(fax, dtype=np.float32) + nrng.standard_normal((height, width), dtype=np.float32) * rng.uniform(6, 22)
    black = a < rng.uniform(140, 200)
    n = int(height * width * rng.uniform(0.0, 0.002))
    black[nrng.integers(0, height, n), nrng.integers(0, width, n)] = True
    page = Image.fromarray(np.where(black, 0, 255).astype(np.uint8))
    if standard:
        page = page.resize((width, height * 2), Image.Resampling.NEAREST)
    page = page.filter(ImageFilter.GaussianBlur(1))
    page = _trim(page, rng)
    scale = rng.choice((2, 3))
    return page.resize((page.width * scale, page.height * scale), Image.Resampling.BICUBIC), scale


def _trim(page: Image.Image, rng: random.Random) -> Image.Image:
    """Crop to the ink with the re-read's padding (half a line above and below, a line's height aside)."""
    ink = np.argwhere(np.asarray(page) < 128)
    if ink.size == 0:
        return page
    (top, left), (bottom, right) = ink.min(axis=0), ink.max(axis=0) + 1
    h = int(bottom - top)
    pad_y, pad_x = max(4, h // 2 + rng.randint(-2, 3)), max(8, h + rng.randint(-3, 6))
    out = Image.new("L", (int(right - left) + 2 * pad_x, h + 2 * pad_y), 255)
    out.paste(page, (pad_x - int(left), pad_y - int(top)))
    return out
