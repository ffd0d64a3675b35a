"""Fax-image normalisation before OCR, in small steps.

square pixels (standard-resolution faxes) -> flat background (photos) -> bilevel ink
(:func:`receive`: the page as received) -> quarter-turn detection -> deskew -> half-turn
detection (OSD when unsure) -> speckle removal.
Every step works on a numpy bool "ink" array (True = black) and costs a few tens of
milliseconds, a small fraction of the Tesseract call it prepares. The orientation found
here is a first guess from the ink only: :mod:`parsing.orientation` checks it by the OCR
reading and, when that reads poorly, reads other orientations of the page as received
(:func:`orient` turns, deskews and despeckles it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from parsing.ocr_engine import osd_rotation

FAX_WIDTHS = (1728, 1728 * 2, 2048, 2432)  # A4/letter fax line widths (standard, superfine, B4, A3)


@dataclass
class ReceivedPage:
    """A page with square pixels, flattened and thresholded, in the orientation it was stored."""

    ink: np.ndarray
    gray: np.ndarray
    scale_y: float
    dpi: float
    bilevel: bool

    def image(self) -> Image.Image:
        """The ink as a bilevel-looking grey image (what OSD reads)."""
        return Image.fromarray(np.where(self.ink, 0, 255).astype(np.uint8), mode="L")


@dataclass
class NormalizedPage:
    ink: np.ndarray  # bool, True = ink; upright, deskewed, despeckled, square pixels
    gray: np.ndarray  # uint8, the same page in grey (what OCR reads)
    rotation: int  # clockwise degrees the page was rotated as stored (undone here)
    skew: float  # degrees of skew corrected
    scale_y: float  # vertical stretch applied for non-square pixels
    dpi: float  # horizontal resolution of the normalised image (assumed 200 when unknown)
    bilevel: bool = True  # the page arrived bilevel (a fax): its grey is smoothed for OCR
    # The page as received (before any turn), kept so that another orientation can be
    # tried when the reading of this one is poor (parsing.orientation).
    source: ReceivedPage | None = None

    def to_image(self) -> Image.Image:
        """The page as a bilevel image (black ink on white)."""
        return Image.fromarray(~self.ink)

    def ocr_image(self) -> Image.Image:
        """What Tesseract reads: the grey page with specks removed, slightly smoothed.
        Tesseract's LSTM reads the jagged edges of a thresholded fax markedly worse
        (1 -> 4, 0 -> 9) than the same strokes after a one-pixel Gaussian blur. (A numpy
        binomial blur within 10 grey levels of it, four times cheaper, read about one field
        in a hundred worse on fine faxes: Tesseract is that sensitive.)"""
        image = Image.fromarray(self.gray)
        return image.filter(ImageFilter.GaussianBlur(1)) if self.bilevel else image


# --------------------------------------------------------------------------- steps


def square_pixels(image: Image.Image, dpi: tuple[float, float] | None) -> tuple[Image.Image, float]:
    """Stretch a page with non-square pixels (204x98 dpi fax) to square pixels."""
    width, height = image.size
    factor = 1.0
    if dpi and dpi[0] > 0 and dpi[1] > 0:
        ratio = dpi[0] / dpi[1]
        if ratio > 1.25 or ratio < 0.8:
            factor = ratio
    elif width in FAX_WIDTHS and height / width < 0.85:
        # No resolution tags: a fax-width page only as tall as half a letter page is a
        # standard-resolution fax read at face value.
        factor = 2.0
    if factor != 1.0:
        resample = Image.Resampling.NEAREST if image.mode == "1" else Image.Resampling.BILINEAR
        image = image.resize((width, max(1, round(height * factor))), resample)
    return image, factor


def to_gray(image: Image.Image) -> Image.Image:
    if image.mode in ("1", "L"):
        return image.convert("L")
    if image.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    return image.convert("L")


def crop_to_sheet(gray: Image.Image) -> Image.Image:
    """A photo of a sheet on a desk: keep the bright sheet, drop the darker surroundings.
    Pages whose edges are as bright as their middle (scans, faxes) are returned as they are."""
    small = np.asarray(gray.reduce(8) if min(gray.size) > 400 else gray, dtype=np.float32)
    h, w = small.shape
    edge = np.concatenate([small[: max(1, h // 30)].ravel(), small[-max(1, h // 30):].ravel(),
                           small[:, : max(1, w // 30)].ravel(), small[:, -max(1, w // 30):].ravel()])
    middle = small[h // 4: 3 * h // 4, w // 4: 3 * w // 4]
    paper = float(np.percentile(middle, 90))
    if float(np.median(edge)) > 0.75 * paper:
        return gray
    bright = small > 0.6 * paper
    rows = np.nonzero(bright.mean(axis=1) > 0.5)[0]
    cols = np.nonzero(bright.mean(axis=0) > 0.5)[0]
    if rows.size < h // 3 or cols.size < w // 3:
        return gray
    scale = gray.size[0] / w
    # Shrink by a margin so the sheet's shadowed edge is not read as ink.
    box = (
        int((cols[0] + 1.5) * scale), int((rows[0] + 1.5) * scale),
        int((cols[-1] - 0.5) * scale), int((rows[-1] - 0.5) * scale),
    )
    return gray.crop(box)


def upscale_small_text(gray: Image.Image, dpi: tuple[float, float] | None) -> tuple[Image.Image, float]:
    """Photos and low-resolution scans carry small print in few pixels: Tesseract reads
    8-point text best at about 300 dpi, so pages narrower than that are enlarged."""
    target = 2400  # short side: ~280 dpi across an 8.5-inch page (the page may still lie sideways)
    if dpi is not None and dpi[0] >= 190:
        return gray, 1.0
    short = min(gray.size)
    if short >= target * 0.85:
        return gray, 1.0
    factor = target / short
    size = (round(gray.size[0] * factor), round(gray.size[1] * factor))
    return gray.resize(size, Image.Resampling.BICUBIC), factor


def binarize(gray: Image.Image) -> np.ndarray:
    """Ink mask of a grey page (see binarize_gray)."""
    return binarize_gray(gray)[0]


def binarize_gray(gray: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """(ink mask, flattened grey). Bilevel pages pass through; grey scans and photos get
    their background flattened (illumination gradients, paper tone) and an Otsu threshold."""
    array = np.asarray(gray, dtype=np.uint8)
    hist = np.bincount(array.ravel(), minlength=256)
    if hist[1:255].sum() < 0.02 * array.size:  # already (nearly) bilevel
        return array < 128, array
    small = gray.reduce(8) if min(gray.size) > 400 else gray
    background = small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(6))
    background = background.resize(gray.size, Image.Resampling.BILINEAR)
    bg = np.asarray(background, dtype=np.float32)
    flat = np.clip(array.astype(np.float32) / np.maximum(bg, 1.0) * 255.0, 0, 255).astype(np.uint8)
    return flat < _otsu(flat), flat


def _otsu(array: np.ndarray) -> int:
    hist = np.bincount(array.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    weights = np.cumsum(hist)
    means = np.cumsum(hist * np.arange(256))
    w0, w1 = weights, total - weights
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (means[-1] * w0 / total - means) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = 0
    # Ink is the minority: keep the threshold below the paper peak.
    return min(int(np.argmax(between)), 200)


def despeckle(ink: np.ndarray) -> np.ndarray:
    """Remove isolated specks: ink pixels with at most one inked 8-neighbour."""
    padded = np.pad(ink, 1).astype(np.uint8)
    h, w = ink.shape
    neighbours = sum(
        padded[1 + dy: 1 + dy + h, 1 + dx: 1 + dx + w]
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if dy or dx
    )
    return ink & (neighbours >= 2)


def _ink_points(ink: np.ndarray, limit: int = 40_000) -> tuple[np.ndarray, np.ndarray]:
    """About ``limit`` ink points, from every n-th column (every text line keeps points across
    the page; listing all of a page's ink would cost more than the skew search itself)."""
    count = int(np.count_nonzero(ink))
    step = count // limit + 1 if count > limit else 1
    ys, xs = np.nonzero(ink[:, ::step])
    return ys.astype(np.float64), xs.astype(np.float64) * step


def _profile_score(coords: np.ndarray, bins: int) -> float:
    if coords.size == 0:
        return 0.0
    counts = np.bincount(np.clip(coords.astype(np.int64), 0, bins - 1), minlength=bins).astype(np.float64)
    return float(np.sum(counts**2)) / coords.size


def skew_angle(ink: np.ndarray, max_degrees: float = 5.0) -> float:
    """Skew of the text lines in degrees (projection profile, coarse then fine search).
    A positive angle means the lines go down to the right; rotate by it to level them."""
    ys, xs = _ink_points(ink)
    if ys.size < 500:
        return 0.0
    height = ink.shape[0]
    pad = int(ink.shape[1] * math.tan(math.radians(max_degrees))) + 2

    def score(angle: float) -> float:
        shifted = ys - xs * math.tan(math.radians(angle)) + pad
        return _profile_score(shifted / 2.0, (height + 2 * pad) // 2 + 2)

    best = max(np.arange(-max_degrees, max_degrees + 0.01, 0.5), key=score)
    best = max(np.arange(best - 0.5, best + 0.51, 0.1), key=score)
    return float(round(best, 2))


def rotate_ink(ink: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate the ink mask counter-clockwise by ``degrees`` (small angles) about its centre."""
    if abs(degrees) < 0.05:
        return ink
    image = Image.fromarray(ink.astype(np.uint8) * 255, mode="L")
    rotated = image.rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=0)
    return np.asarray(rotated) >= 128


def quarter_turn(ink: np.ndarray) -> bool:
    """True when the text lines run vertically (the page is stored turned by 90 degrees)."""
    small = ink[::2, ::2]
    if np.count_nonzero(small) < 500:
        return False
    rows = _line_gap_score(small.sum(axis=1))
    cols = _line_gap_score(small.sum(axis=0))
    return cols > rows * 1.3


def _line_gap_score(profile: np.ndarray) -> float:
    """How strongly a projection profile alternates between text lines and white gaps."""
    nz = np.nonzero(profile)[0]
    if nz.size < 10:
        return 0.0
    core = profile[nz[0]: nz[-1] + 1].astype(np.float64)
    if core.mean() == 0:
        return 0.0
    empty = np.count_nonzero(core <= core.max() * 0.01) / core.size
    transitions = np.count_nonzero(np.diff((core > core.max() * 0.01).astype(np.int8)) != 0)
    return empty * transitions


def upside_down_score(ink: np.ndarray) -> float:
    """> 0 when the text looks upright, < 0 when upside down.

    Latin print has more ink above the x-height band (capitals, ascenders, i-dots) than
    below the baseline (descenders). For each text line we find the band where the row
    density is highest and compare the ink just above it with the ink just below it.
    """
    rows = ink.sum(axis=1).astype(np.float64)
    if rows.max() == 0:
        return 0.0
    on = rows > max(2.0, rows.max() * 0.02)
    score = 0.0
    start = None
    for y, flag in enumerate(np.append(on, False)):
        if flag and start is None:
            start = y
        elif not flag and start is not None:
            line = rows[start:y]
            start_y, start = start, None
            if not 8 <= line.size <= 120:
                continue
            peak = line.max()
            band = np.nonzero(line >= peak * 0.5)[0]
            top, bottom = band[0], band[-1]
            above = line[:top].sum()
            below = line[bottom + 1:].sum()
            total = line.sum()
            if total > 0:
                score += (above - below) / total * math.sqrt(total)
            del start_y
    return score


# A page of noise (a line hit, a scanner gone wrong) is mostly ink with no text lines: the
# corpus's printed pages (faxes, scans, photos) carry 1-13% ink after normalisation and a
# line-gap score of 9 or more; noise pages 30-100% ink and a score of 0.
NOISE_INK_SHARE = 0.2
NOISE_LINE_SCORE = 5.0


def looks_like_noise(ink: np.ndarray) -> bool:
    """True when the ink's texture is that of noise: far more ink than print, and no text lines.
    Blank and sparse pages never qualify. Costs a few milliseconds (one count, one profile)."""
    if ink.size == 0 or np.count_nonzero(ink) < NOISE_INK_SHARE * ink.size:
        return False
    return _line_gap_score(ink[::2, ::2].sum(axis=1)) < NOISE_LINE_SCORE


@dataclass
class Orientation:
    rotation: int  # clockwise degrees as stored
    confident: bool


def detect_half_turn(ink: np.ndarray) -> Orientation:
    score = upside_down_score(ink)
    norm = score / max(1.0, math.sqrt(float(ink.sum())))
    # Upright print scores +0.05 to +0.45 on the corpus (fax, scan and photo), upside-down
    # the same negated. A score near zero (pictures, big black boxes, little text: pages
    # where the sign has been seen wrong) asks Tesseract OSD, which costs about half a
    # page of OCR.
    if norm < 0:
        return Orientation(180, norm < -0.06)
    return Orientation(0, norm > 0.06)


def rotate_quarter(ink: np.ndarray, clockwise_as_stored: int) -> np.ndarray:
    """Undo a stored clockwise rotation of 90/180/270 degrees."""
    turns = (clockwise_as_stored // 90) % 4
    return np.rot90(ink, k=turns) if turns else ink


def _rotate_gray(gray: np.ndarray, degrees: float) -> np.ndarray:
    # Bilinear even for a fax page: nearest-neighbour rotation, five times cheaper, costs
    # Tesseract about one field in a hundred on fine faxes (measured with bench.accuracy).
    if abs(degrees) < 0.05:
        return gray
    image = Image.fromarray(gray).rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=255)
    return np.asarray(image)


def receive(image: Image.Image, dpi: tuple[float, float] | None) -> ReceivedPage:
    """Square pixels, the sheet cropped out of a photo, small print enlarged, ink thresholded:
    every step that does not depend on the page's orientation."""
    bilevel = image.mode == "1"
    gray_image = to_gray(image)
    gray_image, factor = square_pixels(gray_image, dpi)
    if bilevel:
        gray = np.asarray(gray_image, dtype=np.uint8)
        ink = gray < 128
    else:
        gray_image = crop_to_sheet(gray_image)
        gray_image, _ = upscale_small_text(gray_image, dpi)
        ink, gray = binarize_gray(gray_image)
    return ReceivedPage(ink=ink, gray=gray, scale_y=factor, dpi=dpi[0] if dpi else 200.0, bilevel=bilevel)


def _deskew(ink: np.ndarray, gray: np.ndarray, bilevel: bool) -> tuple[np.ndarray, np.ndarray, float]:
    angle = skew_angle(ink)
    if abs(angle) < 0.3:  # Tesseract itself copes with less; a grey page's rotation costs ~70 ms
        return ink, gray, 0.0
    gray = _rotate_gray(gray, angle)
    # A fax's ink is its grey page thresholded: one rotation serves both.
    return (gray < 128 if bilevel else rotate_ink(ink, angle)), gray, angle


def _finish(received: ReceivedPage, ink: np.ndarray, gray: np.ndarray, rotation: int, angle: float) -> NormalizedPage:
    clean = despeckle(ink)
    gray = np.where(ink & ~clean, np.uint8(255), gray)
    return NormalizedPage(ink=clean, gray=np.ascontiguousarray(gray), rotation=rotation, skew=angle,
                          scale_y=received.scale_y, dpi=received.dpi, bilevel=received.bilevel, source=received)


def orient(received: ReceivedPage, rotation: int) -> NormalizedPage:
    """The received page with a given stored rotation undone, then deskewed and despeckled."""
    ink, gray = rotate_quarter(received.ink, rotation), rotate_quarter(received.gray, rotation)
    ink, gray, angle = _deskew(ink, gray, received.bilevel)
    return _finish(received, ink, gray, rotation % 360, angle)


def normalize(
    image: Image.Image, dpi: tuple[float, float] | None, *, use_osd: bool = True
) -> NormalizedPage:
    """All the steps, in order, with the orientation guessed from the ink alone (a first
    guess: parsing.orientation checks it by the reading). The returned ink mask is what
    geometry and checkbox reading see, the grey page what OCR reads."""
    received = receive(image, dpi)
    ink, gray = received.ink, received.gray
    rotation = 0
    if quarter_turn(ink):
        rotation = 90
        ink, gray = rotate_quarter(ink, 90), rotate_quarter(gray, 90)
    ink, gray, angle = _deskew(ink, gray, received.bilevel)
    half = detect_half_turn(ink)
    if not half.confident and use_osd:
        osd = osd_rotation(Image.fromarray(np.where(ink, 0, 255).astype(np.uint8), mode="L"))
        if osd in (0, 180):
            half = Orientation(osd, True)
        elif osd in (90, 270):  # the quarter-turn guess was wrong
            ink, gray = rotate_quarter(ink, osd), rotate_quarter(gray, osd)
            rotation = (rotation + osd) % 360
            half = detect_half_turn(ink)
    if half.rotation:
        ink, gray = rotate_quarter(ink, 180), rotate_quarter(gray, 180)
        rotation = (rotation + 180) % 360
    return _finish(received, ink, gray, rotation, angle)
