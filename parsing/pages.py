"""Open an input and hand out its pages one at a time.

``open_input`` checks the limits and the container (format, encryption, truncation,
page count) without decoding any page; ``load_image`` decodes or renders exactly one
page, so a 200-page fax never holds more than one page image per worker.
"""

from __future__ import annotations

import functools
import io
import struct
import subprocess
import warnings
from dataclasses import dataclass, field
from math import ceil
from pathlib import Path

from PIL import Image, ImageOps, TiffImagePlugin, UnidentifiedImageError

from core.config import ParsingSettings
from core.errors import (
    EncryptedInput,
    InputError,
    InputTooLarge,
    TruncatedInput,
    UnsupportedFormat,
)
from core.formats import Format
from parsing.limits import run_bounded
from parsing.sniff import sniff

# PDF pages without a usable text layer are rendered at this resolution for OCR;
# pages that hold a grey or colour picture (a scan, a photo) at SCAN_DPI, since their
# print is soft and small text needs more pixels.
OCR_DPI = 200
SCAN_DPI = 300
# Born-digital pages are rendered only to read checkbox ink, at this cheaper resolution.
INK_DPI = 150
_PDF_POINTS = 72.0

# Pillow's own bomb check would fire on our legitimately large pages first; we check
# every page against Settings.parsing.max_pixels ourselves before decoding it.
Image.MAX_IMAGE_PIXELS = None
warnings.simplefilter("ignore", Image.DecompressionBombWarning)


class RenderTimeout(InputError):
    """poppler (pdftotext, pdftoppm) did not finish a PDF page within ``parsing.render_timeout_seconds``."""

    reason = "render_timeout"


@dataclass(frozen=True)
class PageRef:
    """One page of an input stored in a (temporary) file: what a worker needs to load it."""

    path: str
    fmt: Format
    index: int  # 0-based page / frame index
    dpi: tuple[float, float] | None = None  # resolution tags (TIFF, PNG, JPEG), if any
    size: tuple[int, int] | None = None  # pixels as stored (images) or points (PDF)
    max_pixels: int = 60_000_000
    render_timeout: float = 120.0  # seconds per poppler call on this page (PDF only)
    max_memory_mb: int | None = None  # address space of each helper process reading this page (parsing.limits)


@dataclass
class InputInfo:
    fmt: Format
    page_count: int
    pages: list[PageRef] = field(default_factory=list)


def check_size(content: bytes, settings: ParsingSettings) -> None:
    if len(content) > settings.max_input_bytes:
        raise InputTooLarge(
            f"the input is {len(content)} bytes, over the limit of {settings.max_input_bytes} bytes"
        )


def open_input(content: bytes, path: Path, settings: ParsingSettings, fmt: Format | None = None) -> InputInfo:
    """Validate an input already written to ``path`` and describe its pages (no page decoded)."""
    check_size(content, settings)
    fmt = fmt or sniff(content)
    if fmt is Format.pdf:
        info = _open_pdf(content, path, settings)
    elif fmt in (Format.tiff, Format.png, Format.jpeg):
        info = _open_image(content, path, fmt, settings)
    else:  # e-mail messages are walked by the caller
        raise UnsupportedFormat(f"{fmt} inputs have no pages of their own")
    if info.page_count == 0:
        raise TruncatedInput("the input holds no pages")
    if info.page_count > settings.max_pages:
        raise InputTooLarge(f"the input has {info.page_count} pages, over the limit of {settings.max_pages}")
    return info


# --------------------------------------------------------------------------- PDF


def _open_pdf(content: bytes, path: Path, settings: ParsingSettings) -> InputInfo:
    import pikepdf

    if b"%%EOF" not in content[-2048:]:
        raise TruncatedInput("the PDF ends without its end-of-file marker (truncated)")
    try:
        with pikepdf.open(io.BytesIO(content)) as pdf:
            sizes = []
            for page in pdf.pages:
                box = page.mediabox
                width = abs(float(box[2]) - float(box[0]))
                height = abs(float(box[3]) - float(box[1]))
                if int(page.obj.get("/Rotate", 0)) % 180 == 90:
                    width, height = height, width
                sizes.append((width, height, SCAN_DPI if _has_continuous_tone_image(page) else OCR_DPI))
    except pikepdf.PasswordError as exc:
        raise EncryptedInput("the PDF is password-protected") from exc
    except (pikepdf.PdfError, ValueError, KeyError, TypeError) as exc:
        raise TruncatedInput("the PDF structure is damaged and cannot be read") from exc
    pages = []
    for index, (width, height, dpi) in enumerate(sizes):
        pixels = width / _PDF_POINTS * dpi * height / _PDF_POINTS * dpi
        if pixels > settings.max_pixels:
            raise InputTooLarge(f"page {index + 1} would render to {int(pixels)} pixels, over the limit")
        pages.append(
            PageRef(str(path), Format.pdf, index, (dpi, dpi), (int(width), int(height)), settings.max_pixels,
                    settings.render_timeout_seconds, settings.max_subprocess_memory_mb)
        )
    return InputInfo(Format.pdf, len(pages), pages)


def _has_continuous_tone_image(page: object) -> bool:
    """True when the page shows a grey or colour image (8 bits per component)."""
    try:
        get = getattr(page, "get_images", None)
        images = get() if get is not None else page.images  # type: ignore[attr-defined]
        return any(int(image.get("/BitsPerComponent", 1)) >= 8 for image in images.values())
    except (AttributeError, KeyError, TypeError, ValueError):
        return False


def pdf_text_words_xml(ref: PageRef) -> str:
    """``pdftotext -bbox-layout`` output (XHTML) for one PDF page."""
    page = str(ref.index + 1)
    return _poppler(["pdftotext", "-q", "-bbox-layout", "-f", page, "-l", page, ref.path, "-"], ref).decode(
        "utf-8", errors="replace"
    )


@functools.lru_cache(maxsize=64)
def _pdfinfo_finishes(path: str, size: int, mtime_ns: int, ref: PageRef) -> None:
    """pdfinfo reads the whole file's structure, bounded like a page (``RenderTimeout``), and finds its
    page count (``TruncatedInput`` otherwise); once per file, not per page: a document's pages share
    the file, and only a success is remembered."""
    info = _poppler(["pdfinfo", path], ref)
    if not any(line.startswith(b"Pages:") for line in info.splitlines()):
        raise TruncatedInput("the PDF's page count cannot be read")


def render_pdf_page(ref: PageRef, dpi: int, grayscale: bool = True) -> Image.Image:
    """One PDF page as an image (pdftoppm to a PGM/PPM on stdout, as pdf2image ran it), bounded by
    the page's render timeout and memory limit; pdfinfo checks the file first, bounded the same way."""
    page = str(ref.index + 1)
    try:
        stat = Path(ref.path).stat()
        _pdfinfo_finishes(str(ref.path), stat.st_size, stat.st_mtime_ns, _file_bounds(ref))
        command = ["pdftoppm", "-r", str(dpi), ref.path, "-f", page, "-l", page, *(["-gray"] if grayscale else [])]
        image = Image.open(io.BytesIO(_poppler(command, ref)))
        image.load()
    except (OSError, ValueError, UnidentifiedImageError) as exc:
        raise TruncatedInput("a PDF page cannot be rendered") from exc
    return image


def _file_bounds(ref: PageRef) -> PageRef:
    """The bounds of ``ref`` on a file-wide key (any page of the file, same limits)."""
    return PageRef(ref.path, ref.fmt, 0, render_timeout=max(1, ceil(ref.render_timeout)),
                   max_memory_mb=ref.max_memory_mb)


def fax_page_image(ref: PageRef) -> tuple[Image.Image, tuple[float, float], int] | None:
    """A fax server's PDF page is one bilevel picture (CCITT G3/G4) covering the page: its own
    pixels, at their own (often 204x98 dpi) resolution, read like a TIFF fax. Rendering it
    instead resamples the bilevel strokes into grey blobs Tesseract reads markedly worse.
    None when the page is anything else (or the picture cannot be decoded): it is rendered."""
    import pikepdf
    from pikepdf import PdfImage

    if ref.size is None:
        return None
    try:
        with pikepdf.open(ref.path) as pdf:
            page = pdf.pages[ref.index]
            if int(page.obj.get("/Rotate", 0)) % 360:
                return None
            images = page.get_images() if hasattr(page, "get_images") else page.images
            if len(images) != 1 or not _drawn_over_page(page, next(iter(images)), ref.size):
                return None
            picture = PdfImage(next(iter(images.values())))  # type: ignore[arg-type]
            if picture.bits_per_component != 1 or picture.image_mask:
                return None
            if picture.width * picture.height > ref.max_pixels:
                raise InputTooLarge(f"page {ref.index + 1} is over the pixel limit")
            image = picture.as_pil_image()
    except InputError:
        raise
    except Exception:  # any decoding trouble (JBIG2 without its decoder...): poppler renders it
        return None
    image = image.convert("1")
    if _mostly_ink(image):  # a /Decode [1 0] picture pikepdf did not invert
        image = ImageOps.invert(image.convert("L")).convert("1")
    width, height = ref.size
    dpi = (picture.width / width * _PDF_POINTS, picture.height / height * _PDF_POINTS)
    return image, dpi, 0


def _drawn_over_page(page: object, name: str, size: tuple[int, int]) -> bool:
    """The page's content draws picture ``name`` across the whole page, upright (a signature
    or logo on a born-digital page is not the page)."""
    import pikepdf

    matrix: list[float] = [1, 0, 0, 1, 0, 0]
    for instruction in pikepdf.parse_content_stream(page):  # type: ignore[arg-type]
        if isinstance(instruction, pikepdf.ContentStreamInlineImage):
            continue
        operands, op = instruction.operands, str(instruction.operator)
        if op == "cm":
            matrix = [float(v) for v in operands]
        elif op == "Do" and str(operands[0]) == name:
            a, b, c, d, _, _ = matrix
            width, height = size
            return b == 0 and c == 0 and abs(a - width) <= 0.03 * width and abs(d - height) <= 0.03 * height
    return False


def _mostly_ink(image: Image.Image) -> bool:
    small = image.convert("L").reduce(8) if min(image.size) > 64 else image.convert("L")
    return sum(small.getdata()) / (255.0 * small.size[0] * small.size[1]) < 0.5


def _poppler(command: list[str], ref: PageRef) -> bytes:
    """stdout of a poppler tool run on one page; a hostile PDF can keep it busy for ever or make it
    ask for gigabytes, so it is killed after the page's render timeout (the input quarantined as
    ``render_timeout``) and runs under the page's memory limit (``memory_limit``)."""
    try:
        proc = run_bounded(command, timeout=ref.render_timeout, memory_mb=ref.max_memory_mb,
                           what=f"PDF page {ref.index + 1}")
    except subprocess.TimeoutExpired:
        raise RenderTimeout(f"PDF page {ref.index + 1} did not render within {ref.render_timeout:g} s") from None
    return proc.stdout


# --------------------------------------------------------------------------- images

_STRIP_TAGS = ((273, 279), (324, 325))  # StripOffsets/StripByteCounts, TileOffsets/TileByteCounts


def _open_image(content: bytes, path: Path, fmt: Format, settings: ParsingSettings) -> InputInfo:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns about the damage we report ourselves
            image = Image.open(io.BytesIO(content))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise TruncatedInput(f"the {fmt} image header cannot be read") from exc
    pages: list[PageRef] = []
    try:
        frames = getattr(image, "n_frames", 1) if fmt is Format.tiff else 1
        for index in range(frames):
            if index:
                image.seek(index)
            width, height = image.size
            if width * height > settings.max_pixels:
                raise InputTooLarge(f"page {index + 1} has {width * height} pixels, over the limit")
            if fmt is Format.tiff:
                _check_tiff_strips(image, len(content), index)
            dpi = _dpi_of(image)
            pages.append(PageRef(str(path), fmt, index, dpi, (width, height), settings.max_pixels,
                                 max_memory_mb=settings.max_subprocess_memory_mb))
    except InputError:
        raise
    except (OSError, EOFError, SyntaxError, ValueError, TypeError, KeyError, IndexError, struct.error) as exc:
        raise TruncatedInput(f"the {fmt} image is damaged or truncated") from exc
    finally:
        image.close()
    if fmt is Format.jpeg and not content.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise TruncatedInput("the JPEG image ends before its end marker (truncated)")
    if fmt is Format.png and b"IEND" not in content[-64:]:
        raise TruncatedInput("the PNG image ends before its end chunk (truncated)")
    return InputInfo(fmt, len(pages), pages)


def _check_tiff_strips(image: Image.Image, total: int, index: int) -> None:
    tags = getattr(image, "tag_v2", None)
    if tags is None:
        return
    for offsets_tag, counts_tag in _STRIP_TAGS:
        offsets, counts = tags.get(offsets_tag), tags.get(counts_tag)
        if offsets is None or counts is None:
            continue
        offsets = offsets if isinstance(offsets, tuple) else (offsets,)
        counts = counts if isinstance(counts, tuple) else (counts,)
        end = max((int(o) + int(c) for o, c in zip(offsets, counts, strict=False)), default=0)
        if end > total:
            raise TruncatedInput(f"TIFF page {index + 1} points past the end of the file (truncated)")


def _dpi_of(image: Image.Image) -> tuple[float, float] | None:
    dpi = image.info.get("dpi")
    if isinstance(image, TiffImagePlugin.TiffImageFile):
        tags = image.tag_v2
        xres, yres, unit = tags.get(282), tags.get(283), tags.get(296, 2)
        if xres and yres:
            factor = 2.54 if unit == 3 else 1.0  # 3 = centimetres
            return (float(xres) * factor, float(yres) * factor)
    if dpi and dpi[0] and dpi[1]:
        return (float(dpi[0]), float(dpi[1]))
    return None


def load_image(ref: PageRef) -> tuple[Image.Image, tuple[float, float] | None, int]:
    """Decode one page: (image, resolution, EXIF rotation already undone in degrees clockwise)."""
    if ref.fmt is Format.pdf:
        native = fax_page_image(ref)
        if native is not None:
            return native
        dpi = int(ref.dpi[0]) if ref.dpi else OCR_DPI
        return render_pdf_page(ref, dpi), (float(dpi), float(dpi)), 0
    try:
        with Image.open(ref.path) as image:
            if ref.index:
                image.seek(ref.index)
            if image.size[0] * image.size[1] > ref.max_pixels:
                raise InputTooLarge(f"page {ref.index + 1} is over the pixel limit")
            exif_rotation = _exif_rotation(image) if ref.fmt is Format.jpeg else 0
            image.load()
            page = image.copy()
    except InputError:
        raise
    except (OSError, EOFError, SyntaxError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise TruncatedInput(f"{ref.fmt} page {ref.index + 1} cannot be decoded (damaged or truncated)") from exc
    if exif_rotation:
        page = ImageOps.exif_transpose(page) or page
    return page, ref.dpi, exif_rotation


def _exif_rotation(image: Image.Image) -> int:
    """Clockwise rotation (as stored) that the EXIF orientation tag says to undo."""
    try:
        orientation = image.getexif().get(0x0112, 1)
    except (AttributeError, OSError, ValueError):
        return 0
    return {3: 180, 6: 90, 8: 270}.get(int(orientation), 0)
