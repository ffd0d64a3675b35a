"""Normalisation (square pixels, deskew, quarter/half turns, specks) and checkbox ink,
on pages drawn by the sample-corpus generator (clean renders, no OCR)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from parsing import normalize as N
from parsing.checkbox import read_box
from parsing.ocr import Word
from samplegen.forms import render_page_image
from samplegen.scenario import build_scenario


@pytest.fixture(scope="module")
def page() -> Image.Image:
    scenario = build_scenario(2025)
    detainer = scenario.requests["Q001"]
    p1 = next(p for r in scenario.receipts for p in r.pages if p.kind == "detainer_p1" and p.detainer is detainer)
    return render_page_image(p1, random.Random(1), {"date": detainer.issued_date, "total_pages": 4})


def test_standard_resolution_is_stretched_to_square_pixels(page: Image.Image) -> None:
    half = page.resize((page.width, page.height // 2)).convert("1")
    squared, factor = N.square_pixels(half.convert("L"), (204.0, 98.0))
    assert factor == pytest.approx(204 / 98)
    assert abs(squared.height - (page.height // 2) * 204 / 98) < 2  # 98 dpi rows -> 204 dpi
    # Fine resolution (204 x 196) counts as square enough: untouched.
    assert N.square_pixels(page, (204.0, 196.0))[1] == 1.0
    # No resolution tags: a fax-width page half a letter page tall is standard resolution.
    assert N.square_pixels(half.convert("L"), None)[1] == 2.0


@pytest.mark.parametrize("degrees", [-2.5, -1.0, 1.2, 3.0])
def test_skew_is_measured(page: Image.Image, degrees: float) -> None:
    skewed = page.rotate(degrees, fillcolor=255, resample=Image.Resampling.BILINEAR)
    ink = N.binarize(skewed)
    # rotate() turns counter-clockwise: the text lines then rise to the right.
    assert N.skew_angle(ink) == pytest.approx(-degrees, abs=0.25)


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_quarter_and_half_turns_are_undone(page: Image.Image, rotation: int) -> None:
    stored = page.rotate(-rotation, expand=True, fillcolor=255) if rotation else page
    normalized = N.normalize(stored, (204.0, 196.0), use_osd=False)
    assert normalized.rotation == rotation
    assert normalized.ink.shape[0] > normalized.ink.shape[1]  # portrait again


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_another_orientation_turns_ink_and_grey_alike(page: Image.Image, rotation: int) -> None:
    """The orientation check (parsing.orientation) builds other orientations from the page as
    received: the ink mask checkboxes are read on must match the grey page OCR reads."""
    upright = N.normalize(page, (204.0, 196.0), use_osd=False)
    stored = page.rotate(-rotation, expand=True, fillcolor=255) if rotation else page
    turned = N.orient(N.receive(stored, (204.0, 196.0)), rotation)
    assert turned.rotation == rotation
    assert turned.ink.shape == turned.gray.shape == upright.ink.shape
    # Ink where the grey page is dark (a turn of one but not the other would put most ink on paper).
    assert (turned.gray[turned.ink] < 200).mean() > 0.9
    overlap = np.count_nonzero(turned.ink & upright.ink) / np.count_nonzero(turned.ink | upright.ink)
    assert overlap > 0.9  # the same upright page


def test_specks_are_removed_but_strokes_kept() -> None:
    ink = np.zeros((60, 60), dtype=bool)
    ink[10, 10] = ink[40, 50] = True  # isolated specks
    ink[20:22, 5:55] = True  # a 2-px rule
    cleaned = N.despeckle(ink)
    assert not cleaned[10, 10] and not cleaned[40, 50]
    assert cleaned[20:22, 5:55].all()


def _box(mark: str, *, tick_from_below: bool = False) -> tuple[np.ndarray, Word]:
    """A 21-px box (7.5 pt at 200 dpi) with its label word to the right."""
    ink = np.zeros((120, 200), dtype=bool)
    top, left, size = 40, 40, 21
    ink[top: top + 2, left: left + size] = True
    ink[top + size - 2: top + size, left: left + size] = True
    ink[top: top + size, left: left + 2] = True
    ink[top: top + size, left + size - 2: left + size] = True
    if mark == "x":
        for i in range(3, size - 3):
            ink[top + i, left + i: left + i + 2] = True
            ink[top + i, left + size - i - 2: left + size - i] = True
    elif mark == "fill":
        ink[top + 4: top + size - 4, left + 4: left + size - 4] = True
    elif mark == "check":
        for i in range(0, 8):
            ink[top + 10 + i, left + 4 + i: left + 6 + i] = True
        for i in range(0, 26):
            ink[top + 18 - i, left + 12 + i // 2: left + 14 + i // 2] = True
    if tick_from_below:  # the long stroke of a tick in the box underneath ends just under this box
        ink[top + size + 3: top + size + 12, left + size + 2: left + size + 4] = True
    return ink, Word("label", left + size + 12, top + 3, 60, 16, 90.0)


@pytest.mark.parametrize("mark", ["x", "fill", "check"])
def test_checked_boxes(mark: str) -> None:
    ink, word = _box(mark)
    reading = read_box(ink, word, 16)
    assert reading.checked, reading
    assert reading.bbox is not None and abs(reading.bbox.width - 21) <= 2


@pytest.mark.parametrize("tick_from_below", [False, True])
def test_empty_box(tick_from_below: bool) -> None:
    ink, word = _box("none", tick_from_below=tick_from_below)
    reading = read_box(ink, word, 16)
    assert not reading.checked, reading
    assert reading.density < 0.02


def test_noise_is_told_from_print_and_from_blank_pages(page: Image.Image) -> None:
    """The ink measure behind the ``unreadable`` quarantine: noise is far inkier than print and has no text lines."""
    rng = np.random.default_rng(7)
    grey_noise = Image.fromarray(rng.integers(0, 256, (2200, 1700), dtype=np.uint8), "L")
    fax_noise = Image.fromarray(rng.random((2200, 1728)) < 0.5).convert("1")
    for noise in (grey_noise, fax_noise):
        assert N.looks_like_noise(N.normalize(noise, (200.0, 200.0), use_osd=False).ink)
    assert not N.looks_like_noise(N.normalize(page, (204.0, 196.0), use_osd=False).ink)
    assert not N.looks_like_noise(N.normalize(Image.new("1", (1728, 2200), 1), (204.0, 196.0), use_osd=False).ink)
    dark_form = np.asarray(page.convert("L")).copy()
    dark_form[: dark_form.shape[0] // 5] = 0  # a heavy black banner: much ink, but text lines below it
    assert not N.looks_like_noise(N.normalize(Image.fromarray(dark_form), (204.0, 196.0), use_osd=False).ink)
