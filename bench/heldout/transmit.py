"""How a held-out page reaches the department: fax header lines of other machines, standard and
fine resolution, CCITT G3/G4 TIFFs, fax PDFs, grey scans of printouts, phone photos, and the
degradation of real devices (augraphy's fax, photocopy and scanner effects; a numpy fallback
when augraphy is not installed)."""

from __future__ import annotations

import io
import random
import warnings
from collections.abc import Callable
from datetime import datetime

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from bench.heldout.fonts import pil_font
from bench.heldout.page import Page, raster

FAX_WIDTH = 1728
DEPT_FAX = "16175550100"

try:  # augraphy is a bench extra; without it a few numpy effects stand in (see README)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import augraphy as _aug
except ImportError:  # pragma: no cover - depends on the environment
    _aug = None


_numba_seed: Callable[[int], None] | None = None
try:
    import numba as _numba

    @_numba.njit(cache=False)
    def _seed_in_numba(seed: int) -> None:
        random.seed(seed)
        np.random.seed(seed)

    _numba_seed = _seed_in_numba
except ImportError:  # pragma: no cover
    pass


def augraphy_available() -> bool:
    return _aug is not None


def header_text(style: str, number: str, tsi: str, sent: datetime, page: int, total: int, rng: random.Random) -> str:
    """One fax header line (47 CFR 68.318(d)) in the style of a HylaFAX tagline, a fax machine's
    TTI or a fax server (per the reference)."""
    if style == "hylafax":
        return f"From {number}   {sent:%b %d %Y %H:%M}   Page {page} of {total}"
    if style == "tti":
        pretty = f"+{number[1]}-{number[2:5]}-{number[5:8]}-{number[8:]}"
        return (f"{sent:%m-%d-%Y %H:%M} FROM: {tsi[:20]} {pretty} T-{rng.randrange(100, 999)} "
                f"P.{page:03d}/{total:03d} F-{rng.randrange(10, 99):03d}")
    hour = sent.hour % 12 or 12
    return (f"{sent.month}/{sent.day}/{sent.year} {hour}:{sent:%M} {'AM' if sent.hour < 12 else 'PM'}    "
            f"FROM:{number} {tsi[:20]}   TO:{DEPT_FAX}     Pag.{page}/{total}")


def fax_image(page: Page, fine: bool, header: str | None, content_rotation: int, header_face: str) -> Image.Image:
    """The page as the receiving fax sees it: 1728 pixels wide, 204 x 196 (fine) or 204 x 98 dpi,
    the sender's header line drawn on top (upright even when the paper went in upside down)."""
    img = raster(page, 204, 196, FAX_WIDTH)
    if content_rotation:
        img = img.rotate(-content_rotation, expand=False, fillcolor=255)
    if header:
        draw = ImageDraw.Draw(img)
        draw.rectangle([0, 0, img.width, 40], fill=255)
        font = pil_font(header_face, 26)
        if "   Page " in header and header.startswith("From "):  # HylaFAX centres its fields across the line
            parts = header.split("   ")
            xs = (30, (img.width - font.getlength(parts[1])) / 2, img.width - 30 - font.getlength(parts[2]))
            for x, part in zip(xs, parts, strict=True):
                draw.text((x, 30), part, font=font, fill=0, anchor="ls")
        else:
            draw.text((30, 30), header, font=font, fill=0, anchor="ls")
    if not fine:
        img = img.resize((img.width, img.height // 2), Image.Resampling.BOX)
    return img


def _seed(rng: random.Random) -> None:
    seed = rng.randrange(2**31)
    random.seed(seed)
    np.random.seed(seed)
    if _numba_seed is not None:  # augraphy's jitted code (BadPhotoCopy) draws from numba's generator
        _numba_seed(seed)


def degrade_fax(img: Image.Image, rng: random.Random, heavy: bool = False) -> Image.Image:
    """Grey page -> the bilevel page a fax line delivers, with a device's defects."""
    arr = np.asarray(img, dtype=np.uint8)
    if _aug is not None:
        effects = [_aug.InkBleed(p=1), _aug.LowInkRandomLines(p=1), _aug.LowInkPeriodicLines(p=1),
                   _aug.SubtleNoise(p=1), _aug.NoiseTexturize(p=1)]
        for effect in rng.sample(effects, rng.choice((1, 2))):
            _seed(rng)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                arr = np.asarray(effect(arr.copy()), dtype=np.uint8)
            if arr.ndim == 3:
                arr = arr.mean(axis=2).astype(np.uint8)
    else:
        arr = _numpy_noise(arr, rng)
    if heavy:
        arr = _ruin(arr, rng)
    nprng = np.random.default_rng(rng.randrange(2**31))
    # thermal/CCD noise: a few flipped pixels, then the fax's threshold
    flips = nprng.random(arr.shape) < rng.uniform(0.0005, 0.004)
    threshold = rng.randrange(120, 175)
    bits = (arr < threshold) ^ flips
    return Image.fromarray(np.where(bits, 0, 255).astype(np.uint8)).convert("1")


def _numpy_noise(arr: np.ndarray, rng: random.Random) -> np.ndarray:
    nprng = np.random.default_rng(rng.randrange(2**31))
    out = arr.astype(np.float32)
    out += nprng.normal(0, rng.uniform(8, 25), arr.shape)
    if rng.random() < 0.5:  # dropouts along scan lines
        rows = nprng.random(arr.shape[0]) < 0.01
        out[rows] = 255
    return np.clip(out, 0, 255).astype(np.uint8)


def _ruin(arr: np.ndarray, rng: random.Random) -> np.ndarray:
    """A page 1 the line destroyed: smeared, streaked and mostly black or washed out."""
    img = Image.fromarray(arr).filter(ImageFilter.GaussianBlur(rng.uniform(5, 9)))
    out = np.asarray(img, dtype=np.float32)
    nprng = np.random.default_rng(rng.randrange(2**31))
    out = (out * rng.uniform(0.3, 0.6) + nprng.normal(0, 60, out.shape)).astype(np.float32)
    streaks = nprng.random(out.shape[0]) < 0.25
    out[streaks] = 0
    return np.clip(out, 0, 255).astype(np.uint8)


def tiff_bytes(pages: list[Image.Image], fine: bool, compression: str) -> bytes:
    buf = io.BytesIO()
    dpi = (204, 196 if fine else 98)
    first, rest = pages[0], pages[1:]
    first.save(buf, format="TIFF", compression=compression, dpi=dpi, save_all=True, append_images=rest)
    return buf.getvalue()


def image_pdf_bytes(pages: list[Image.Image], dpi: tuple[float, float]) -> bytes:
    """A PDF holding one image per page (what an e-fax service or a scanner sends)."""
    buf = io.BytesIO()
    first, rest = pages[0], pages[1:]
    first.save(buf, format="PDF", save_all=True, append_images=rest, dpi=dpi)
    return buf.getvalue()


def grey_scan(fax_page: Image.Image, fine: bool, rng: random.Random, rotation: int) -> Image.Image:
    """A received fax printed on paper and scanned back in grey at 200 dpi (slight skew, toner,
    paper tone), stored rotated by `rotation` degrees clockwise."""
    page = fax_page.convert("L")
    if not fine:
        page = page.resize((page.width, page.height * 2), Image.Resampling.NEAREST)
    page = page.resize((round(page.width * 200 / 204), round(page.height * 200 / 196)), Image.Resampling.BILINEAR)
    page = page.rotate(rng.uniform(-1.2, 1.2), resample=Image.Resampling.BILINEAR, expand=False, fillcolor=255)
    arr = np.asarray(page, dtype=np.uint8)
    if _aug is not None:
        _seed(rng)
        effect = rng.choice((_aug.BadPhotoCopy(p=1), _aug.BleedThrough(p=1), _aug.NoiseTexturize(p=1)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.asarray(effect(arr.copy()), dtype=np.uint8)
        if arr.ndim == 3:
            arr = arr.mean(axis=2).astype(np.uint8)
    tone = rng.randrange(215, 245)
    arr = (arr.astype(np.float32) * tone / 255 + rng.randrange(0, 15)).clip(0, 255).astype(np.uint8)
    img = Image.fromarray(arr).filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.8)))
    return img.rotate(-rotation, expand=True) if rotation else img


def phone_photo(page: Page, rng: random.Random, rotation: int) -> Image.Image:
    """A phone picture of a printed page: perspective, uneven light, colour cast, JPEG-ready RGB."""
    flat = raster(page, 150)
    w, h = flat.size
    margin = 120
    canvas = Image.new("L", (w + 2 * margin, h + 2 * margin), rng.randrange(60, 120))
    canvas.paste(flat, (margin, margin))
    jitter = [rng.uniform(-0.045, 0.045) * w for _ in range(8)]
    quad = [margin + jitter[0], margin + jitter[1], margin + jitter[2], h + margin + jitter[3],
            w + margin + jitter[4], h + margin + jitter[5], w + margin + jitter[6], margin + jitter[7]]
    warped = canvas.transform((w, h), Image.Transform.QUAD, quad, resample=Image.Resampling.BILINEAR)
    arr = np.asarray(warped, dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    light = 1.0 - rng.uniform(0.15, 0.4) * np.hypot(xx - cx, yy - cy) / np.hypot(w, h)
    arr = arr * light
    if _aug is not None and rng.random() < 0.5:
        _seed(rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = np.asarray(_aug.ShadowCast(p=1)(arr.clip(0, 255).astype(np.uint8)), dtype=np.float32)
        arr = out.mean(axis=2) if out.ndim == 3 else out
    tint = (1.0, rng.uniform(0.93, 1.0), rng.uniform(0.82, 0.95))
    rgb = np.stack([arr * t for t in tint], axis=2).clip(0, 255).astype(np.uint8)
    img = Image.fromarray(rgb, "RGB").filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.0)))
    return img.rotate(-rotation, expand=True) if rotation else img
