"""Born-digital test pages: a one-page PDF drawn with top-down coordinates (points from the
top-left, as a form is measured), and the parts of an I-247A page 1 that every such test prints.

The values the tests draw are made up; only the printed wording of the form is real.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas


class Page:
    """One letter page; ``text``, ``rect`` and ``line`` take y downwards from the top edge."""

    def __init__(self) -> None:
        self._out = io.BytesIO()
        self.canvas = canvas.Canvas(self._out, pagesize=letter)
        self.height = letter[1]

    def text(self, x: float, y: float, value: str, size: float = 8.0, font: str = "Helvetica") -> None:
        self.canvas.setFont(font, size)
        self.canvas.drawString(x, self.height - y, value)

    def rect(self, x: float, top: float, width: float, height: float) -> None:
        self.canvas.rect(x, self.height - top - height, width, height)

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.canvas.line(x1, self.height - y1, x2, self.height - y2)

    def width_of(self, value: str, font: str, size: float) -> float:
        return float(self.canvas.stringWidth(value, font, size))

    def finish(self) -> bytes:
        self.canvas.showPage()
        self.canvas.save()
        return self._out.getvalue()


def i247a_page(draw_header: Callable[[Page], None], officer: str = "DO Jennifer Ortiz") -> bytes:
    """An I-247A page 1, enough of it to be the form: the title, what ``draw_header`` prints
    between the title and the officer line, the officer line and its caption, the footer."""
    page = Page()
    page.text(306 - 150, 40, "DEPARTMENT OF HOMELAND SECURITY (DHS)", 10, "Helvetica-Bold")
    page.text(306 - 170, 58, "IMMIGRATION DETAINER - NOTICE OF ACTION", 12, "Helvetica-Bold")
    draw_header(page)
    page.text(44, 300, officer, 8.2, "Courier")
    page.line(40, 302, 300, 302)
    page.text(40, 310, "(Name and title of Immigration Officer)", 6.6)
    page.text(330, 310, "(Signature of Immigration Officer) (Sign in ink)", 6.6)
    page.text(40, 740, "DHS Form I-247A (3/17) Page 1 of 3", 7)
    return page.finish()


HeaderRows = tuple[tuple[tuple[str, str], ...], ...]


def i247a_header_pdf(rows: HeaderRows) -> bytes:
    """A born-digital I-247A page 1 with ``rows`` of (label, value) as its header, then the TO/FROM boxes."""

    def header(page: Page) -> None:
        y = 80.0
        for row in rows:
            x = 40.0
            for label, value in row:
                page.text(x, y, label, 8.5, "Helvetica-Bold")
                page.text(x + page.width_of(label, "Helvetica-Bold", 8.5) + 5, y, value, 9.5, "Courier")
                x += 532 / len(row)
            y += 18
        page.text(40, y + 8, "TO: (Name and Title of Institution - OR Any Subsequent Law", 6.6)
        page.text(309, y + 8, "FROM: (DHS Office Address)", 6.6)
        page.text(46, y + 22, "Riverside County Sheriff", 8.2, "Courier")
        page.text(312, y + 22, "Los Angeles Field Office", 8.2, "Courier")

    return i247a_page(header)

