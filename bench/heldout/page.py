"""A page as drawing operations in points (US letter, origin top-left), and the two ways it
is made concrete: a raster image at any resolution, or a PDF page with a text layer."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from bench.heldout.fonts import PDF_FACES, font_path, pil_font, text_width

WIDTH, HEIGHT = 612.0, 792.0


@dataclass
class Text:
    x: float
    y: float  # baseline
    s: str
    face: str
    size: float


@dataclass
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.8


@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    width: float = 0.8
    fill: bool = False


@dataclass
class Page:
    ops: list[Text | Line | Rect] = field(default_factory=list)

    def text(self, x: float, y: float, s: str, face: str, size: float) -> float:
        """Draws `s`; returns the x where it ends."""
        self.ops.append(Text(x, y, s, face, size))
        return x + text_width(face, size, s)

    def center(self, y: float, s: str, face: str, size: float, x0: float = 0.0, x1: float = WIDTH) -> None:
        self.text((x0 + x1 - text_width(face, size, s)) / 2, y, s, face, size)

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.8) -> None:
        self.ops.append(Line(x1, y1, x2, y2, width))

    def rect(self, x: float, y: float, w: float, h: float, width: float = 0.8, fill: bool = False) -> None:
        self.ops.append(Rect(x, y, w, h, width, fill))

    def wrap(self, x: float, y: float, s: str, face: str, size: float, right: float, leading: float = 1.2) -> float:
        """Word-wrapped paragraph from baseline y; returns the baseline after its last line."""
        words, line = s.split(), ""
        for word in words:
            trial = f"{line} {word}".strip()
            if line and x + text_width(face, size, trial) > right:
                self.text(x, y, line, face, size)
                y += size * leading
                line = word
            else:
                line = trial
        if line:
            self.text(x, y, line, face, size)
            y += size * leading
        return y


def raster(page: Page, dpi_x: float, dpi_y: float | None = None, width_px: int | None = None) -> Image.Image:
    """Greyscale image of the page. Non-square pixels (a standard fax) are drawn at the fine
    resolution and squeezed, as a fax machine's scanner samples the paper."""
    dpi_y = dpi_y or dpi_x
    if dpi_y < dpi_x * 0.75:
        fine = raster(page, dpi_x, dpi_x, width_px)
        return fine.resize((fine.width, round(fine.height * dpi_y / dpi_x)), Image.Resampling.BOX)
    sx, sy = dpi_x / 72.0, dpi_y / 72.0
    w = width_px or round(WIDTH * sx)
    img = Image.new("L", (w, round(HEIGHT * sy)), 255)
    draw = ImageDraw.Draw(img)
    for op in page.ops:
        if isinstance(op, Text):
            draw.text((op.x * sx, op.y * sy), op.s, font=pil_font(op.face, round(op.size * sy)), fill=0, anchor="ls")
        elif isinstance(op, Line):
            draw.line([(op.x1 * sx, op.y1 * sy), (op.x2 * sx, op.y2 * sy)], fill=0,
                      width=max(1, round(op.width * sy)))
        else:
            box = [op.x * sx, op.y * sy, (op.x + op.w) * sx, (op.y + op.h) * sy]
            draw.rectangle(box, outline=0, fill=0 if op.fill else None, width=max(1, round(op.width * sy)))
    return img


def pdf_with_text(pages: list[Page], title: str = "") -> bytes:
    """A born-digital PDF: every string is real text (a text layer), fonts embedded."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    for face in PDF_FACES:
        if face not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(face, str(font_path(face))))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    c.setTitle(title)
    for page in pages:
        for op in page.ops:
            if isinstance(op, Text):
                face = op.face if op.face in PDF_FACES else _pdf_face(op.face)
                c.setFont(face, op.size)
                c.drawString(op.x, HEIGHT - op.y, op.s)
            elif isinstance(op, Line):
                c.setLineWidth(op.width)
                c.line(op.x1, HEIGHT - op.y1, op.x2, HEIGHT - op.y2)
            else:
                c.setLineWidth(op.width)
                c.rect(op.x, HEIGHT - op.y - op.h, op.w, op.h, stroke=1, fill=1 if op.fill else 0)
        c.showPage()
    c.save()
    return buf.getvalue()


def _pdf_face(face: str) -> str:
    bold = face.endswith("_bold")
    base = "free_mono" if "mono" in face else "free_serif" if "roman" in face else "free_sans"
    return base + ("_bold" if bold else "")
