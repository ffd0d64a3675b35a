"""Tesseract behind the OCR engine interface, and the engine each process uses.

Parsing asks two things of an OCR engine (``parsing.ocr.OcrEngine``): the words of an image
with their boxes and how a page is turned (Tesseract's OSD). :class:`TesseractEngine` is the
real one, the only code that runs Tesseract; its timeouts and thread setting live here, applied
when Tesseract is started. Tests and reruns may wrap it in a disk cache (``parsing.ocr_cache``,
switched on by ``DETAINER_INTAKE_OCR_CACHE``) or replace it with a fake (:func:`set_ocr_engine`).

Call sites use :func:`read_words` and :func:`osd_rotation`, which ask the process's engine.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from PIL import Image

from parsing.limits import run_bounded
from parsing.ocr import OcrEngine, OcrParams, OcrTimeout, Word
from parsing.ocr_cache import cache_from_environment

# Default budgets: a page's OCR (parsing.ocr_timeout_seconds overrides it) and one OSD run.
PAGE_TIMEOUT = 120.0
OSD_TIMEOUT = 30.0
# The project's own Tesseract models (parsing/models/README.md says how each was made).
MODELS_DIR = Path(__file__).parent / "models"
# Tesseract's own OpenMP threading is slower than one thread per page on this class of
# machine (~9 s vs ~1.2 s per page on 2 cores): we parallelise across pages instead.
TESSERACT_THREADS = 1
# OSD below this confidence is no answer.
OSD_MIN_CONFIDENCE = 1.5
# pytesseract hands the image over as a temporary file in ``image.format``: BMP is written in
# ~2 ms where PNG takes ~130 ms for a fax page. OSD gets pytesseract's default, PNG.
WORDS_IMAGE_FORMAT = "BMP"


class TesseractEngine:
    """Tesseract, ``threads`` OpenMP threads per run, each run bounded in time and memory.

    pytesseract prepares the image and parses the output; Tesseract itself is started here
    (``parsing.limits.run_bounded``, with the arguments pytesseract would give it), so that it
    runs under the page's memory limit as well as its timeout."""

    def __init__(self, threads: int = TESSERACT_THREADS) -> None:
        self.threads = threads

    def identity(self) -> str:
        return tesseract_identity()

    def _limit_threads(self) -> None:
        # pytesseract starts Tesseract with this process's environment.
        os.environ["OMP_THREAD_LIMIT"] = str(self.threads)

    def words(self, image: Image.Image, params: OcrParams, timeout: float) -> list[Word]:
        from pytesseract import TesseractError
        from pytesseract.pytesseract import file_to_dict

        self._limit_threads()
        image.format = WORDS_IMAGE_FORMAT
        config = f"-c tessedit_create_tsv=1 {tesseract_config(params)}"
        try:
            tsv = _run_tesseract(image, "tsv", params.lang, config, timeout)
        except subprocess.TimeoutExpired:
            raise OcrTimeout(f"OCR of a page did not finish within {timeout:g} s") from None
        except _Failed as exc:
            raise TesseractError(exc.status, exc.errors) from None
        data = file_to_dict(tsv, "\t", -1)
        words: list[Word] = []
        for text, left, top, width, height, conf in zip(
            data["text"], data["left"], data["top"], data["width"], data["height"], data["conf"], strict=False
        ):
            text = (text or "").strip()
            if not text:
                continue
            words.append(Word(text, int(left), int(top), int(width), int(height), max(0.0, float(conf))))
        return words

    def orientation(self, image: Image.Image, timeout: float) -> int | None:
        from pytesseract.pytesseract import osd_to_dict

        self._limit_threads()
        try:
            result = osd_to_dict(_run_tesseract(image, "osd", "osd", "--psm 0", timeout))
        except subprocess.TimeoutExpired:
            raise OcrTimeout(f"OSD of a page did not finish within {timeout:g} s") from None
        except (_Failed, ValueError, TypeError):
            return None
        if float(result.get("orientation_conf", 0)) < OSD_MIN_CONFIDENCE:
            return None
        # "rotate" is the clockwise angle that makes the page upright; the page as stored is
        # turned by (360 - rotate) clockwise.
        return (360 - int(result.get("rotate", 0))) % 360


class _Failed(Exception):
    """Tesseract exited with an error (not the memory limit: that is ``MemoryLimitExceeded``)."""

    def __init__(self, status: int, errors: str) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = errors


def _run_tesseract(image: Image.Image, extension: str, lang: str, config: str, timeout: float) -> str:
    """Tesseract's ``extension`` output for ``image``, run as pytesseract runs it, under the current
    page's memory limit (``MemoryLimitExceeded``) and ``timeout`` (``subprocess.TimeoutExpired``)."""
    from pytesseract import pytesseract as pt

    prepared, image_format = pt.prepare(image)  # pytesseract's own: a format Tesseract reads, no alpha
    with tempfile.TemporaryDirectory(prefix="tess_") as folder:
        source = Path(folder) / f"input.{image_format}"
        prepared.save(source, format=image_format)
        base = Path(folder) / "output"
        command = [pt.tesseract_cmd, str(source), str(base), "-l", lang, *shlex.split(config)]
        proc = run_bounded(command, timeout=timeout, what="a page's OCR")
        if proc.returncode:
            raise _Failed(proc.returncode, proc.stderr.decode("utf-8", "replace").strip())
        return base.with_suffix(f".{extension}").read_text(encoding="utf-8")


def tesseract_config(params: OcrParams) -> str:
    # tessedit_do_invert=0: the forms carry no white-on-black text, so Tesseract need not try
    # each doubtful line again inverted (about 5 % of its time on a fax page).
    config = f"--psm {params.psm} --dpi {params.dpi} -c tessedit_do_invert=0"
    if params.tessdata_dir:
        # Only for the project's own model: eng and osd stay found in the system's folder.
        config = f"--tessdata-dir {shlex.quote(params.tessdata_dir)} {config}"
    if params.alphabet:
        config += f" -c tessedit_char_whitelist={params.alphabet}"  # checked by OcrParams
    return config


@cache
def tesseract_identity() -> str:
    """Tesseract's version line and a digest of each installed model (asked once per process)."""
    import hashlib

    import pytesseract

    version = str(pytesseract.get_tesseract_version())
    listing = subprocess.run([pytesseract.pytesseract.tesseract_cmd, "--list-langs"], capture_output=True,
                             text=True, timeout=OSD_TIMEOUT, check=False).stdout
    folder = Path(listing.split('"')[1]) if listing.count('"') >= 2 else None
    models = sorted(folder.glob("*.traineddata")) if folder is not None and folder.is_dir() else []
    digests = [f"{m.stem}:{hashlib.sha256(m.read_bytes()).hexdigest()}" for m in models]
    return " ".join([f"tesseract {version}", *digests])


# --------------------------------------------------------------------------- the process's engine

_engine: OcrEngine | None = None


def ocr_engine() -> OcrEngine:
    """The engine of this process: Tesseract, cached on disk when ``DETAINER_INTAKE_OCR_CACHE`` names
    a folder (read when first asked, so a pool worker follows its parent's environment)."""
    global _engine
    if _engine is None:
        _engine = cache_from_environment(TesseractEngine())
    return _engine


def set_ocr_engine(engine: OcrEngine | None) -> None:
    """Use ``engine`` in this process from now on; None goes back to the default."""
    global _engine
    _engine = engine


def read_words(
    image: Image.Image, *, lang: str = "eng", timeout: float = PAGE_TIMEOUT, psm: int = 3, dpi: int = 200,
    alphabet: str | None = None, tessdata_dir: str | None = None,
) -> list[Word]:
    """OCR one image with the process's engine; words with pixel boxes. ``tessdata_dir``: where
    ``lang``'s model is when it is not a system model (``MODELS_DIR`` for the project's own)."""
    return ocr_engine().words(image, OcrParams(lang, psm, dpi, alphabet, tessdata_dir), timeout)


def osd_rotation(image: Image.Image, timeout: float = OSD_TIMEOUT) -> int | None:
    """Clockwise rotation of the page as stored, or None when unsure or out of time."""
    try:
        return ocr_engine().orientation(image, timeout)
    except OcrTimeout:
        return None
