"""Words with boxes, from an OCR engine or a PDF text layer, and the interface every OCR engine
implements (:class:`OcrEngine`; the real one, Tesseract, is ``parsing.ocr_engine``)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image

from core.errors import InputError


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


@dataclass(frozen=True, slots=True)
class OcrParams:
    """What shapes a reading besides the image (the timeout only decides whether there is one).
    ``alphabet``: the only characters the engine may choose (Tesseract's whitelist).
    ``tessdata_dir``: the folder holding ``lang``'s model when it is not a system model (the
    project's own, ``parsing/models``); None for the system's models (eng, osd)."""

    lang: str = "eng"
    psm: int = 3
    dpi: int = 200
    alphabet: str | None = None
    tessdata_dir: str | None = None

    def __post_init__(self) -> None:
        if self.alphabet:  # it goes onto Tesseract's command line
            check_alphabet(self.alphabet)
        if self.tessdata_dir and not re.fullmatch(r"[A-Za-z0-9_]+", self.lang):  # one model's file name
            raise ValueError("a project model's name holds letters, digits and _ only")

    def model_file(self) -> Path | None:
        """The project model this reading uses, or None for a system model."""
        return Path(self.tessdata_dir) / f"{self.lang}.traineddata" if self.tessdata_dir else None


class OcrEngine(Protocol):
    """An OCR engine as parsing uses it: words with boxes, and how a page is turned."""

    def identity(self) -> str:
        """The engine's version and models: a result cached under another identity is stale."""
        ...

    def words(self, image: Image.Image, params: OcrParams, timeout: float) -> list[Word]:
        """The words of ``image`` with pixel boxes; raises :class:`OcrTimeout` past ``timeout``."""
        ...

    def orientation(self, image: Image.Image, timeout: float) -> int | None:
        """Clockwise rotation of the page as stored (0/90/180/270), or None when unsure;
        raises :class:`OcrTimeout` past ``timeout``."""
        ...


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
