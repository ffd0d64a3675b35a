"""Fax reality: degradation, header lines, and the file formats pages arrive in.

A clean page (8-bit greyscale at 204 x 196 dpi from :mod:`samplegen.forms`) goes
through what a sending fax machine and the line do to it: a slight skew and
offset from the sender's scanner, the sender's header line (TTI) printed crisp at
the top, vertical halving for standard resolution (204 x 98 dpi: non-square
pixels), thresholding with ragged edges, speckle, and the occasional dropped
(white) or smeared (black streak) scan line. The result is a bilevel image.

Writers turn pages into the formats the department receives: multipage TIFF
(CCITT G4, G3 or LZW) with correct X/YResolution and, for the fax server, the
receive time in the DateTime tag; PDFs of the bilevel images (CCITT inside);
born-digital PDFs with a text layer (reportlab, invariant mode); a grey scan of
a printed fax (a station scanning the printout); and phone photos of a printed
page (perspective, uneven light, JPEG or PNG). Every function takes its random
generator from the caller, and writes no time stamps of its own, so the output
is byte-for-byte reproducible.
"""

from __future__ import annotations

import io
import random
from datetime import datetime
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, TiffImagePlugin

from samplegen.forms import font_path
from samplegen.scenario import FaxSender

FINE_DPI = (204, 196)
STANDARD_DPI = (204, 98)
WIDTH = 1728


# --------------------------------------------------------------------------- header lines


def _dashed(number: str) -> str:
    d = number.lstrip("+")
    return f"+{d[0]}-{d[1:4]}-{d[4:7]}-{d[7:]}"


def header_fields(sender: FaxSender, sent: datetime, page: int, total: int, to_number: str, txn: int,
                  fcode: int) -> list[tuple[str, str]]:
    """The header line as (alignment, text) fields: alignment l | c | r."""
    if sender.style == "hylafax":
        return [("l", f"From {sender.tsi}"), ("c", f"{sent:%b} {sent.day:2d} {sent:%Y %H:%M}"),
                ("r", f"Page {page} of {total}")]
    if sender.style == "toshiba":
        return [("l", f"{sent:%m-%d-%Y %H:%M} FROM: {sender.tsi} {_dashed(sender.number)} T-{txn:03d} "
                      f"P.{page:03d}/{total:03d} F-{fcode:03d}")]
    hour = sent.hour % 12 or 12
    ampm = "AM" if sent.hour < 12 else "PM"
    return [("l", f"{sent.month}/{sent.day}/{sent.year} {hour}:{sent:%M} {ampm}    FROM:{sender.number} "
                  f"{sender.name}   TO:{to_number.lstrip('+')}     Pag.{page}/{total}")]


_header_font: ImageFont.FreeTypeFont | None = None


def draw_header(img: Image.Image, fields: list[tuple[str, str]], y: int = 8) -> None:
    """Draw the sender's header line onto a fine-resolution greyscale page (top ~34 px)."""
    global _header_font
    if _header_font is None:
        _header_font = ImageFont.truetype(font_path("header"), 25)
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, img.width, y + 28], fill=255)
    for align, text in fields:
        if align == "l":
            d.text((34, y), text, font=_header_font, fill=0)
        elif align == "c":
            d.text((img.width // 2, y), text, font=_header_font, fill=0, anchor="ma")
        else:
            d.text((img.width - 34, y), text, font=_header_font, fill=0, anchor="ra")


# --------------------------------------------------------------------------- degradation


def fax_page(clean: Image.Image, rng: random.Random, nrng: np.random.Generator, *, resolution: str,
             header: list[tuple[str, str]] | None, fed_upside_down: bool = False,
             noise: float = 1.0) -> Image.Image:
    """A clean 204x196 greyscale page as received: bilevel, 1728 wide, fine or standard height."""
    img = clean
    if fed_upside_down:
        img = img.rotate(180)
    angle = rng.uniform(-1.5, 1.5) if rng.random() < 0.8 else rng.uniform(-0.3, 0.3)
    dx, dy = rng.randint(-14, 14), rng.randint(20, 44)
    img = img.rotate(angle, resample=Image.Resampling.BILINEAR, translate=(dx, dy), fillcolor=255)
    if img.width != WIDTH:
        img = img.crop((0, 0, WIDTH, img.height)) if img.width > WIDTH else img
    if header is not None:
        draw_header(img, header)
    if resolution == "standard":
        img = img.resize((WIDTH, img.height // 2), Image.Resampling.BOX)
    # the sender's optics: a little blur, so the threshold below makes strokes heavier or lighter
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 1.1)))
    a = np.array(img, dtype=np.float32)
    # ragged edges: per-pixel noise before the threshold, a bit of low-frequency variation
    h, w = a.shape
    thr = rng.uniform(155, 195)
    sigma = min(16.0 + 6.0 * noise, (255.0 - thr) / 4.6)  # ragged edges, but no grey haze on white paper
    tile = nrng.standard_normal((331, w), dtype=np.float32) * np.float32(sigma)
    a += np.tile(tile, (h // 331 + 1, 1))[:h]
    black = a < thr
    # speckle: isolated dots and a few small clumps
    n = int(h * w * rng.uniform(0.00008, 0.0004) * noise)
    ys, xs = nrng.integers(0, h, n), nrng.integers(0, w, n)
    black[ys, xs] = True
    for _ in range(int(rng.uniform(4, 30) * noise)):
        cy, cx = rng.randrange(h - 4), rng.randrange(w - 4)
        black[cy:cy + rng.randint(1, 3), cx:cx + rng.randint(1, 3)] = True
    # transmission errors: dropped lines (white) or a smeared black streak
    if rng.random() < 0.45 * noise:
        for _ in range(rng.randint(1, 3)):
            row = rng.randrange(60, h - 10)
            k = rng.randint(1, 3)
            if rng.random() < 0.6:
                black[row:row + k, :] = False
            else:
                x0 = rng.randrange(0, w // 2)
                black[row:row + 1, x0:x0 + rng.randint(w // 5, w - x0)] = True
    # a thin vertical streak from dirt on the sender's scanner glass
    if rng.random() < 0.06 * noise:
        col = rng.randrange(100, w - 100)
        black[:, col] |= nrng.random(h) < 0.9
    return Image.fromarray(np.where(black, 0, 255).astype(np.uint8)).convert("1", dither=Image.Dither.NONE)


# --------------------------------------------------------------------------- writers


def write_tiff(pages: list[Image.Image], compression: str, resolution: str, *, datetime_tag: str | None = None,
               description: str | None = None, software: str | None = None) -> bytes:
    dpi = FINE_DPI if resolution == "fine" else STANDARD_DPI
    info = TiffImagePlugin.ImageFileDirectory_v2()
    if description:
        info[270] = description
    if software:
        info[305] = software
    if datetime_tag:
        info[306] = datetime_tag
    buf = io.BytesIO()
    first, rest = pages[0], pages[1:]
    comp = {"g4": "group4", "g3": "group3", "lzw": "tiff_lzw"}[compression]
    first.save(buf, "TIFF", save_all=True, append_images=rest, compression=comp, dpi=dpi, tiffinfo=info)
    return buf.getvalue()


def write_image_pdf(pages: list[Image.Image], dpi: tuple[float, float], *, quality: int | None = None,
                    producer: str | None = None) -> bytes:
    """PDF of page images (bilevel: CCITT G4 inside; greyscale/RGB: JPEG). No time stamps."""
    buf = io.BytesIO()
    kw: dict = {"title": None, "creationDate": None, "modDate": None, "producer": producer}
    if quality is not None:
        kw["quality"] = quality
    pages[0].save(buf, "PDF", save_all=True, append_images=pages[1:], dpi=dpi, **kw)
    return buf.getvalue()


def truncate_tiff(data: bytes) -> bytes:
    """Cut a TIFF in the middle of its first page's image data (its IFD follows the data, so is lost)."""
    im: Any = Image.open(io.BytesIO(data))
    offsets, counts = im.tag_v2[273], im.tag_v2[279]
    cut = offsets[0] + sum(counts) // 2
    return data[:cut]


# --------------------------------------------------------------------------- printed and re-captured


def _printed(page: Image.Image, dpi_y: int, out_w: int, out_h: int) -> Image.Image:
    """A received fax page as printed on paper, sampled at out_w x out_h (square pixels)."""
    g = page.convert("L")
    if dpi_y == 98:
        g = g.resize((g.width, g.height * 2), Image.Resampling.NEAREST)
    return g.resize((out_w, out_h), Image.Resampling.BOX)


def scan_gray(page: Image.Image, resolution: str, rng: random.Random, nrng: np.random.Generator,
              rotation: int = 0) -> Image.Image:
    """A station scanning a fax printout at 150 dpi greyscale: grey toner, soft, skewed, paper tone."""
    p = _printed(page, 98 if resolution == "standard" else 196, 1270, 1650)
    a = np.asarray(p, dtype=np.float32) / 255.0
    toner, paper = rng.uniform(25, 55), rng.uniform(232, 246)
    a = toner + a * (paper - toner)
    # uneven toner density across the page
    yy = np.linspace(0, 1, a.shape[0], dtype=np.float32)[:, None]
    a = a + (1 - a / 255.0) * (yy * rng.uniform(-25, 25))
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.6, 0.9)))
    canvas = Image.new("L", (1275, 1650), 250)
    canvas.paste(img, (rng.randint(0, 5), rng.randint(0, 6)))
    canvas = canvas.rotate(rng.uniform(-1.2, 1.2), resample=Image.Resampling.BICUBIC, fillcolor=250)
    a = np.asarray(canvas, dtype=np.float32) + nrng.normal(0, 3.0, (1650, 1275)).astype(np.float32)
    # lid shadow along one edge
    a[:, :8] *= np.linspace(0.55, 1.0, 8, dtype=np.float32)[None, :]
    out = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if rotation:
        out = out.rotate(-rotation, expand=True)
    return out


def _perspective_coeffs(dst: list[tuple[float, float]], src: list[tuple[float, float]]) -> list[float]:
    """Coefficients for Image.transform(PERSPECTIVE) mapping output points dst to input points src."""
    m = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        m.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        m.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(m, dtype=np.float64)
    b = np.array([c for pt in src for c in pt], dtype=np.float64)
    return [float(v) for v in np.linalg.solve(a, b)]


def phone_photo(page: Image.Image, resolution: str, rng: random.Random, nrng: np.random.Generator,
                rotation: int = 0, size: tuple[int, int] = (1512, 2016), gray: bool = False) -> Image.Image:
    """A phone photo of a printed fax page lying on a desk: perspective, shading, colour cast, blur."""
    pw, ph = 1190, 1540
    paper = _printed(page, 98 if resolution == "standard" else 196, pw, ph)
    a = np.asarray(paper, dtype=np.float32) / 255.0
    ink, white = rng.uniform(30, 60), rng.uniform(205, 235)
    a = ink + a * (white - ink)
    paper = Image.fromarray(a.astype(np.uint8))
    W, H = size
    # where the sheet's corners land in the photo
    mx, my = W * 0.07, H * 0.06
    j = lambda r: rng.uniform(-r, r)  # noqa: E731
    dst = [(mx + j(40), my + j(40)), (W - mx + j(40), my + 30 + j(30)), (W - mx + 20 + j(40), H - my + j(30)),
           (mx - 15 + j(40), H - my - 20 + j(30))]
    src = [(0.0, 0.0), (float(pw), 0.0), (float(pw), float(ph)), (0.0, float(ph))]
    coeffs = _perspective_coeffs(dst, src)
    sheet = paper.transform((W, H), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC, fillcolor=0)
    mask = Image.new("L", (pw, ph), 255).transform((W, H), Image.Transform.PERSPECTIVE, coeffs,
                                                   Image.Resampling.BILINEAR, fillcolor=0)
    # desk: dark, slightly textured
    base = rng.uniform(70, 110)
    desk = base + nrng.normal(0, 6, (H // 8, W // 8)).astype(np.float32)
    desk_img = Image.fromarray(np.clip(desk, 0, 255).astype(np.uint8)).resize((W, H), Image.Resampling.BICUBIC)
    comp = Image.composite(sheet, desk_img, mask)
    g = np.asarray(comp, dtype=np.float32)
    # uneven light: a gradient plus a soft shadow blob (the phone/hand)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    gx, gy = rng.uniform(-0.25, 0.25), rng.uniform(-0.3, 0.1)
    light = 1.0 + gx * (xx / W - 0.5) + gy * (yy / H - 0.5)
    cx, cy = rng.uniform(0.2, 0.8) * W, rng.uniform(0.55, 1.0) * H
    r2 = ((xx - cx) ** 2 + (yy - cy) ** 2) / (0.35 * W) ** 2
    light -= rng.uniform(0.12, 0.28) * np.exp(-r2)
    vign = ((xx / W - 0.5) ** 2 + (yy / H - 0.5) ** 2)
    light -= 0.35 * vign
    g = g * light
    img = Image.fromarray(np.clip(g, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(rng.uniform(0.9, 1.5)))
    if gray:
        out = img
        arr = np.asarray(out, dtype=np.float32) + nrng.normal(0, 2.0, (H, W)).astype(np.float32)
        out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    else:
        g = np.asarray(img, dtype=np.float32)
        tint = (rng.uniform(1.0, 1.06), rng.uniform(0.97, 1.0), rng.uniform(0.84, 0.93))  # warm indoor light
        rgb = np.stack([g * t for t in tint], axis=-1)
        rgb += np.asarray(nrng.normal(0, 3.5, rgb.shape), dtype=np.float32)
        out = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    if rotation:
        out = out.rotate(-rotation, expand=True)
    return out


def encode_jpeg(img: Image.Image, quality: int = 82) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def encode_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False, compress_level=9)
    return buf.getvalue()
