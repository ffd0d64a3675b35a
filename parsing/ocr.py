"""Words with boxes: from Tesseract (``image_to_data``) or from a PDF text layer."""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass

from PIL import Image

from core.errors import InputError

# Tesseract's own OpenMP threading is slower than one thread per page on this class of
# machine (~9 s vs ~1.2 s per page on 2 cores): we parallelise across pages instead.
os.environ["OMP_THREAD_LIMIT"] = "1"


class OcrTimeout(InputError):
    """Tesseract did not finish a page within ``parsing.ocr_timeout_seconds``."""

    reason = "ocr_timeout"


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float  # 0..100

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    @property
    def cy(self) -> float:
        return self.top + self.height / 2


def check_alphabet(alphabet: str) -> str:
    """An OCR alphabet goes onto Tesseract's command line: letters, digits and / . , - only."""
    if not re.fullmatch(r"[A-Za-z0-9/.,-]+", alphabet):
        raise ValueError("an OCR alphabet holds letters, digits and / . , - only")
    return alphabet


def tesseract_words(
    image: Image.Image, *, lang: str = "eng", timeout: float = 120.0, psm: int = 3, dpi: int = 200,
    alphabet: str | None = None,
) -> list[Word]:
    """OCR one page image with a single-threaded Tesseract; words with pixel boxes.
    ``alphabet``: the only characters Tesseract may choose (its whitelist)."""
    import pytesseract

    os.environ["OMP_THREAD_LIMIT"] = "1"
    # tessedit_do_invert=0: the forms carry no white-on-black text, so Tesseract need not try
    # each doubtful line again inverted (about 5 % of its time on a fax page).
    # pytesseract hands the image over as a temporary file in ``image.format``: BMP is
    # written in ~2 ms where PNG takes ~130 ms for a fax page.
    image.format = "BMP"
    config = f"--psm {psm} --dpi {dpi} -c tessedit_do_invert=0"
    if alphabet:
        config += f" -c tessedit_char_whitelist={check_alphabet(alphabet)}"
    try:
        data = pytesseract.image_to_data(
            image,
            lang=lang,
            config=config,
            output_type=pytesseract.Output.DICT,
            timeout=timeout,
        )
    except RuntimeError as exc:  # pytesseract kills Tesseract and raises a bare RuntimeError
        if "timeout" not in str(exc).lower():
            raise
        raise OcrTimeout(f"OCR of a page did not finish within {timeout:g} s") from None
    words: list[Word] = []
    for text, left, top, width, height, conf in zip(
        data["text"], data["left"], data["top"], data["width"], data["height"], data["conf"], strict=False
    ):
        text = (text or "").strip()
        if not text:
            continue
        words.append(Word(text, int(left), int(top), int(width), int(height), max(0.0, float(conf))))
    return words


_WORD_RE = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', re.DOTALL
)


def text_layer_words(xhtml: str, scale: float) -> list[Word]:
    """Words from ``pdftotext -bbox-layout``; ``scale`` converts points to pixels."""
    words = []
    for x0, y0, x1, y1, text in _WORD_RE.findall(xhtml):
        text = html.unescape(text).strip()
        if not text:
            continue
        left, top = float(x0) * scale, float(y0) * scale
        words.append(
            Word(text, round(left), round(top), max(1, round(float(x1) * scale - left)),
                 max(1, round(float(y1) * scale - top)), 100.0)
        )
    return words


def usable_text_layer(words: list[Word]) -> bool:
    """A text layer worth trusting: enough real words, not an invisible-OCR stub."""
    alpha = [w for w in words if sum(c.isalpha() for c in w.text) >= 2]
    return len(alpha) >= 15
