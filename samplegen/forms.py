"""Draws the pages: DHS detainer forms, warrants, cover sheets and decoy paperwork.

Every page is described once, in points on a US Letter page (612 x 792, origin at
the top left, y growing downwards), against a small :class:`Surface` interface.
Two surfaces implement it: :class:`PilSurface` renders into a Pillow greyscale
image at fax resolution (204 x 196 dpi), and :class:`PdfSurface` draws into a
reportlab canvas for the born-digital PDFs that carry a real text layer. Labels
use a sans-serif face; filled-in values use a typewriter-like (or at least a
different) face, with a little baseline jitter, as on a form filled in a
typewriter or a desktop form filler.

Fonts come from ``/usr/share/fonts`` (Liberation, else DejaVu); a missing font is a
:class:`FontMissingError` naming the packages to install.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image, ImageDraw, ImageFont

from samplegen.scenario import DEPT_NAME, STATION_NAMES, Detainer, Page, fmt_date

PAGE_W, PAGE_H = 612.0, 792.0

FONT_CANDIDATES: dict[str, tuple[str, ...]] = {
    "sans": ("liberation/LiberationSans-Regular.ttf", "dejavu/DejaVuSans.ttf"),
    "sans_bold": ("liberation/LiberationSans-Bold.ttf", "dejavu/DejaVuSans-Bold.ttf"),
    "sans_italic": ("liberation/LiberationSans-Italic.ttf", "dejavu/DejaVuSans-Oblique.ttf"),
    "serif": ("liberation/LiberationSerif-Regular.ttf", "dejavu/DejaVuSerif.ttf"),
    "serif_bold": ("liberation/LiberationSerif-Bold.ttf", "dejavu/DejaVuSerif-Bold.ttf"),
    "sans_narrow": ("liberation/LiberationSansNarrow-Regular.ttf", "dejavu/DejaVuSansCondensed.ttf"),
    "mono": ("liberation/LiberationMono-Regular.ttf", "dejavu/DejaVuSansMono.ttf"),
    "mono_bold": ("liberation/LiberationMono-Bold.ttf", "dejavu/DejaVuSansMono-Bold.ttf"),
    "uni": ("dejavu/DejaVuSans.ttf",),  # notices in languages with diacritics (Vietnamese)
    "uni_bold": ("dejavu/DejaVuSans-Bold.ttf",),
    "header": ("dejavu/DejaVuSansMono.ttf", "liberation/LiberationMono-Regular.ttf"),
}
FONT_ROOTS = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))


class FontMissingError(RuntimeError):
    pass


_font_paths: dict[str, str] = {}


def font_path(key: str) -> str:
    if key not in _font_paths:
        for rel in FONT_CANDIDATES[key]:
            for root in FONT_ROOTS:
                p = root / rel
                if p.is_file():
                    _font_paths[key] = str(p)
                    break
            if key in _font_paths:
                break
        else:
            raise FontMissingError(
                f"font for {key!r} not found (looked for {', '.join(FONT_CANDIDATES[key])} under "
                f"{', '.join(map(str, FONT_ROOTS))}); install fonts-liberation and fonts-dejavu-core"
            )
    return _font_paths[key]


# --------------------------------------------------------------------------- surfaces


class Surface:
    """Drawing primitives in points (top-left origin)."""

    def text(self, x: float, y: float, s: str, font: str = "sans", size: float = 8.0, anchor: str = "l") -> None:
        raise NotImplementedError

    def measure(self, s: str, font: str, size: float) -> float:
        raise NotImplementedError

    def line(self, x1: float, y1: float, x2: float, y2: float, w: float = 0.6) -> None:
        raise NotImplementedError

    def rect(self, x: float, y: float, w: float, h: float, lw: float = 0.6, fill: bool = False,
             gray: int = 0) -> None:
        raise NotImplementedError

    def polyline(self, pts: list[tuple[float, float]], w: float = 0.8) -> None:
        raise NotImplementedError


class PilSurface(Surface):
    """Renders into an 8-bit greyscale image at fax resolution."""

    def __init__(self, xdpi: float = 204.0, ydpi: float = 196.0, width_px: int = 1728) -> None:
        self.sx, self.sy = xdpi / 72.0, ydpi / 72.0
        self.image = Image.new("L", (width_px, round(PAGE_H * self.sy)), 255)
        self.draw = ImageDraw.Draw(self.image)
        self._fonts: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}

    def _font(self, key: str, size: float) -> ImageFont.FreeTypeFont:
        px = max(6, round(size * (self.sx + self.sy) / 2))
        k = (key, px)
        if k not in self._fonts:
            self._fonts[k] = ImageFont.truetype(font_path(key), px)
        return self._fonts[k]

    def text(self, x: float, y: float, s: str, font: str = "sans", size: float = 8.0, anchor: str = "l") -> None:
        f = self._font(font, size)
        a = {"l": "ls", "c": "ms", "r": "rs"}[anchor]
        self.draw.text((x * self.sx, y * self.sy), s, font=f, fill=0, anchor=a)

    def measure(self, s: str, font: str, size: float) -> float:
        return self._font(font, size).getlength(s) / self.sx

    def line(self, x1: float, y1: float, x2: float, y2: float, w: float = 0.6) -> None:
        self.draw.line([(x1 * self.sx, y1 * self.sy), (x2 * self.sx, y2 * self.sy)], fill=0,
                       width=max(1, round(w * self.sx)))

    def rect(self, x: float, y: float, w: float, h: float, lw: float = 0.6, fill: bool = False,
             gray: int = 0) -> None:
        box = [x * self.sx, y * self.sy, (x + w) * self.sx, (y + h) * self.sy]
        if fill:
            self.draw.rectangle(box, fill=gray)
        else:
            self.draw.rectangle(box, outline=0, width=max(1, round(lw * self.sx)))

    def polyline(self, pts: list[tuple[float, float]], w: float = 0.8) -> None:
        self.draw.line([(x * self.sx, y * self.sy) for x, y in pts], fill=0, width=max(1, round(w * self.sx)),
                       joint="curve")


class PdfSurface(Surface):
    """Draws into a reportlab canvas (real text layer)."""

    _registered: ClassVar[set[str]] = set()

    def __init__(self, canvas: Any) -> None:
        from reportlab.pdfbase import pdfmetrics

        self.c = canvas
        self.pdfmetrics = pdfmetrics

    def _font(self, key: str) -> str:
        name = f"SG-{key}"
        if name not in PdfSurface._registered:
            from reportlab.pdfbase.ttfonts import TTFont

            self.pdfmetrics.registerFont(TTFont(name, font_path(key)))
            PdfSurface._registered.add(name)
        return name

    def text(self, x: float, y: float, s: str, font: str = "sans", size: float = 8.0, anchor: str = "l") -> None:
        name = self._font(font)
        self.c.setFont(name, size)
        self.c.setFillGray(0)
        fn = {"l": self.c.drawString, "c": self.c.drawCentredString, "r": self.c.drawRightString}[anchor]
        fn(x, PAGE_H - y, s)

    def measure(self, s: str, font: str, size: float) -> float:
        return self.pdfmetrics.stringWidth(s, self._font(font), size)

    def line(self, x1: float, y1: float, x2: float, y2: float, w: float = 0.6) -> None:
        self.c.setLineWidth(w)
        self.c.setStrokeGray(0)
        self.c.line(x1, PAGE_H - y1, x2, PAGE_H - y2)

    def rect(self, x: float, y: float, w: float, h: float, lw: float = 0.6, fill: bool = False,
             gray: int = 0) -> None:
        self.c.setLineWidth(lw)
        if fill:
            self.c.setFillGray(gray / 255.0)
            self.c.rect(x, PAGE_H - y - h, w, h, stroke=0, fill=1)
            self.c.setFillGray(0)
        else:
            self.c.rect(x, PAGE_H - y - h, w, h, stroke=1, fill=0)

    def polyline(self, pts: list[tuple[float, float]], w: float = 0.8) -> None:
        self.c.setLineWidth(w)
        self.c.setLineCap(1)
        self.c.setLineJoin(1)
        p = self.c.beginPath()
        p.moveTo(pts[0][0], PAGE_H - pts[0][1])
        for x, y in pts[1:]:
            p.lineTo(x, PAGE_H - y)
        self.c.drawPath(p, stroke=1, fill=0)


# --------------------------------------------------------------------------- helpers


def wrap(s: Surface, text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        cur = ""
        for word in para.split(" "):
            trial = f"{cur} {word}" if cur else word
            if s.measure(trial, font, size) <= width or not cur:
                cur = trial
            else:
                lines.append(cur)
                cur = word
        lines.append(cur)
    return lines


def para(s: Surface, x: float, y: float, width: float, text: str, font: str = "sans", size: float = 7.5,
         leading: float | None = None, first_indent: float = 0.0) -> float:
    """Draw wrapped text with its first baseline at y; return the baseline after the last line."""
    leading = leading or size * 1.22
    lines = wrap(s, text, font, size, width - first_indent)
    for i, ln in enumerate(lines):
        s.text(x + (first_indent if i == 0 else 0), y, ln, font, size)
        y += leading
    return y


class Filler:
    """Draws filled-in values and check marks in one document's style."""

    def __init__(self, s: Surface, rng: random.Random, font: str = "mono", mark: str = "x",
                 size: float = 9.0) -> None:
        self.s, self.rng, self.font, self.mark, self.size = s, rng, font, mark, size

    def value(self, x: float, y: float, v: str | None, size: float | None = None) -> None:
        if not v:
            return
        jx, jy = self.rng.uniform(-1.5, 2.5), self.rng.uniform(-1.0, 1.0)
        self.s.text(x + jx, y + jy, v, self.font, size or self.size)

    def check(self, x: float, y: float, checked: bool, size: float = 7.5) -> None:
        """Checkbox with its top-left at (x, y)."""
        s = self.s
        s.rect(x, y, size, size, lw=0.6)
        if not checked:
            return
        j = self.rng.uniform(-0.6, 0.6)
        if self.mark == "fill":
            s.rect(x + 1.3, y + 1.3, size - 2.6, size - 2.6, fill=True)
        elif self.mark == "check":
            s.polyline([(x + 1.0 + j, y + size * 0.5), (x + size * 0.42, y + size - 0.8),
                        (x + size + 1.8 + j, y - 2.0)], w=1.1)
        else:
            s.line(x + 0.8 + j, y + 0.8, x + size - 0.8 + j, y + size - 0.8, w=1.0)
            s.line(x + size - 0.8 + j, y + 0.8, x + 0.8 + j, y + size - 0.8, w=1.0)


def scribble(s: Surface, rng: random.Random, x: float, y: float, w: float = 110.0, h: float = 16.0) -> None:
    """A signature: a few loops and a long stroke."""
    pts: list[tuple[float, float]] = []
    n = rng.randint(5, 8)
    phase = rng.uniform(0, math.pi)
    for i in range(n * 10 + 1):
        t = i / (n * 10)
        px = x + t * w * 0.8 + math.sin(t * n * 2 * math.pi + phase) * h * 0.25
        py = y - h * 0.5 - math.cos(t * n * 2 * math.pi) * h * 0.45 * (1.0 - 0.5 * t) + t * h * 0.25
        pts.append((px, py))
    s.polyline(pts, w=0.9)
    s.polyline([(x - 4, y - 2), (x + w * 0.55, y - h * 0.15 + rng.uniform(-3, 3)), (x + w, y - h * 0.45)], w=0.8)


def footer(s: Surface, left: str, right: str, y: float = 770.0) -> None:
    s.text(36, y, left, "sans", 7.5)
    s.text(576, y, right, "sans", 7.5, "r")


# --------------------------------------------------------------------------- I-247A / I-247D page 1

BOX1_TITLE = ("1. DHS HAS DETERMINED THAT PROBABLE CAUSE EXISTS THAT THE SUBJECT IS A REMOVABLE ALIEN. "
              "THIS DETERMINATION IS BASED ON (complete box 1 or 2):")
PC_TEXT = {
    "final_order": "a final order of removal against the alien;",
    "pending_proceedings": "the pendency of ongoing removal proceedings against the alien;",
    "biometric_records": (
        "biometric confirmation of the alien’s identity and a records check of federal databases that "
        "affirmatively indicate, by themselves or in addition to other reliable information, that the alien "
        "either lacks immigration status or notwithstanding such status is removable under U.S. immigration "
        "law; and/or"),
    "statements_evidence": (
        "statements made by the alien to an immigration officer and/or other reliable evidence that "
        "affirmatively indicate the alien either lacks immigration status or notwithstanding such status is "
        "removable under U.S. immigration law."),
}
PC_ORDER = ("final_order", "pending_proceedings", "biometric_records", "statements_evidence")
BOX2_TITLE = "2. DHS TRANSFERRED THE ALIEN TO YOUR CUSTODY FOR A PROCEEDING OR INVESTIGATION (complete box 1 or 2)."
BOX2_TEXT = ("Upon completion of the proceeding or investigation for which the alien was transferred to your "
             "custody, DHS intends to resume custody of the alien to complete processing and/or make an "
             "admissibility determination.")
ACTION_TEXT = {
    "notify": ("Notify DHS as early as practicable (at least 48 hours, if possible) before the alien is released "
               "from your custody. Please notify DHS by calling U.S. Immigration and Customs Enforcement (ICE) or "
               "U.S. Customs and Border Protection (CBP) at {phone}. If you cannot reach an official at the "
               "number(s) provided, please contact the Law Enforcement Support Center at: (802) 872-6020."),
    "maintain_custody": (
        "Maintain custody of the alien for a period NOT TO EXCEED 48 HOURS beyond the time when he/she would "
        "otherwise have been released from your custody to allow DHS to assume custody. The alien must be "
        "served with a copy of this form for the detainer to take effect. This detainer arises from DHS "
        "authorities and should not impact decisions about the alien’s bail, rehabilitation, parole, release, "
        "diversion, custody classification, work, quarter assignments, or other matters."),
    "relay": "Relay this detainer to any other law enforcement agency to which you transfer custody of the alien.",
    "notify_death_transfer": ("Notify this office in the event of the alien’s death, hospitalization or transfer "
                              "to another institution."),
}
ACTION_ORDER = ("notify", "maintain_custody", "relay", "notify_death_transfer")


def draw_detainer_p1(s: Surface, d: Detainer, rng: random.Random) -> None:
    f = Filler(s, rng, d.fill_font, d.mark)
    older = d.form_type == "I-247D"
    L, R = 36.0, 576.0
    s.text(306, 42, "DEPARTMENT OF HOMELAND SECURITY (DHS)", "sans_bold", 10.5, "c")
    title = ("IMMIGRATION DETAINER – REQUEST FOR VOLUNTARY ACTION" if older
             else "IMMIGRATION DETAINER – NOTICE OF ACTION")
    s.text(306, 58, title, "sans_bold", 12.5, "c")
    y = 82.0
    s.text(L, y, "Subject ID:", "sans_bold", 8)
    f.value(L + 52, y, d.subject_id)
    s.text(330, y, "Event #:", "sans_bold", 8)
    f.value(370, y, d.event_number)
    y += 16
    s.text(L, y, "File No:", "sans_bold", 8)
    f.value(L + 52, y, d.printed_file_number)
    s.text(330, y, "Date:", "sans_bold", 8)
    f.value(370, y, fmt_date(d.issued_date, d.date_style))
    y += 8
    s.rect(L, y, R - L, 70, lw=0.7)
    s.line(306, y, 306, y + 70, 0.7)
    s.text(L + 3, y + 9, "TO: (Name and Title of Institution - OR Any Subsequent Law", "sans", 6.6)
    s.text(L + 3, y + 17, "Enforcement Agency)", "sans", 6.6)
    s.text(309, y + 9, "FROM: (DHS Office Address)", "sans", 6.6)
    for i, ln in enumerate(d.to_lines):
        f.value(L + 6, y + 29 + i * 10.5, ln, 8.2)
    for i, ln in enumerate((d.office.from_office, *d.office.address)):
        f.value(312, y + 27 + i * 10.5, ln, 8.2)
    y += 86
    name_label = "Name of Subject:" if older else "Name of Alien:"
    s.text(L, y, name_label, "sans_bold", 8)
    f.value(L + 72, y, d.person.printed_name, 9.5)
    y += 17
    s.text(L, y, "Date of Birth:", "sans_bold", 8)
    f.value(L + 62, y, fmt_date(d.person.dob, d.date_style))
    s.text(220, y, "Citizenship:", "sans_bold", 8)
    f.value(272, y, d.person.citizenship)
    s.text(470, y, "Sex:", "sans_bold", 8)
    f.value(492, y, d.person.sex)
    y += 7
    s.line(L, y, R, y, 1.4)
    y += 11
    if older:
        s.text(L, y, "1. DHS HAS DETERMINED THAT THE INDIVIDUAL IS A PRIORITY FOR REMOVAL BECAUSE:", "sans_bold", 7.4)
        y += 10
        y = para(s, L + 6, y, R - L - 6, "A. the individual is an enforcement priority under the Secretary’s "
                 "memorandum (check all that apply): convicted of a felony offense; convicted of a significant "
                 "misdemeanor; other (specify): ____________", "sans", 7.0)
        y += 2
        y = para(s, L + 6, y, R - L - 6, "B. DHS has reason to believe the individual is an alien subject to "
                 "removal from the United States because (check one or more):", "sans", 7.0)
    else:
        y = para(s, L, y, R - L, BOX1_TITLE, "sans_bold", 7.4)
    y += 1
    for key in PC_ORDER:
        f.check(L + 10, y - 6.5, key in d.probable_cause)
        y = para(s, L + 22, y, R - L - 22, PC_TEXT[key], "sans", 7.8)
        y += 4
    y += 6
    if not older:
        f.check(L, y - 6.5, d.transferred_for_proceeding)
        y = para(s, L + 12, y, R - L - 12, BOX2_TITLE, "sans_bold", 7.8)
        y = para(s, L + 12, y, R - L - 12, BOX2_TEXT, "sans", 7.8)
        y += 8
    s.line(L, y - 6, R, y - 6, 1.0)
    y += 6
    s.text(L, y, "IT IS THEREFORE REQUESTED THAT YOU:", "sans_bold", 8.5)
    y += 14
    for key in ACTION_ORDER:
        f.check(L + 10, y - 6.5, key in d.requested_actions)
        text = ACTION_TEXT[key].replace("{phone}", "__________________")
        text = text.replace("the alien", "the subject") if older else text
        ybefore = y
        y = para(s, L + 22, y, R - L - 22, text, "sans", 7.8)
        if key == "notify":
            # value written on the blank
            lines = wrap(s, text, "sans", 7.8, R - L - 22)
            for i, ln in enumerate(lines):
                if "______" in ln:
                    off = s.measure(ln.split("______")[0], "sans", 7.8)
                    f.value(L + 22 + off + 2, ybefore + i * 7.8 * 1.22 - 1, d.office.phone, 8.5)
                    break
        y += 4
    # cancellation box
    f.check(L + 10, y - 6.5, d.cancels_previous)
    s.text(L + 22, y, "If checked: please cancel the detainer related to this alien previously submitted to you on",
           "sans", 7.8)
    s.line(L + 22 + s.measure("If checked: please cancel the detainer related to this alien previously submitted to "
                              "you on", "sans", 7.8) + 3, y + 1, 536, y + 1, 0.5)
    s.text(538, y, "(date).", "sans", 7.8)
    if d.cancels_previous and d.cancelled_detainer_date:
        f.value(482, y - 1, fmt_date(d.cancelled_detainer_date, d.date_style), 8.5)
    y += 30
    # officer
    s.line(L, y + 2, 300, y + 2, 0.5)
    s.line(330, y + 2, R, y + 2, 0.5)
    f.value(L + 4, y - 1, f"{d.officer_name}, {d.officer_title}", 8.2)
    scribble(s, rng, 350, y, 120, 18)
    y += 10
    s.text(L, y, "(Name and title of Immigration Officer)", "sans", 6.6)
    s.text(330, y, "(Signature of Immigration Officer) (Sign in ink)", "sans", 6.6)
    y += 16
    # law enforcement block
    s.rect(L, y, R - L, 756 - y, lw=0.7)
    yy = y + 10
    s.text(L + 4, yy, "Notice: If the alien may be the victim of a crime or you want the alien to remain in the "
           "United States for a law enforcement purpose, notify the ICE Law Enforcement", "sans_italic", 6.4)
    yy += 8
    s.text(L + 4, yy, "Support Center at (802) 872-6020. You may also call this number if you have any other "
           "questions or concerns about this matter.", "sans_italic", 6.4)
    yy += 11
    s.text(L + 4, yy, "TO BE COMPLETED BY THE LAW ENFORCEMENT AGENCY CURRENTLY HOLDING THE ALIEN WHO IS THE "
           "SUBJECT OF THIS NOTICE:", "sans_bold", 6.8)
    yy += 11
    s.text(L + 4, yy, "Please provide the information below, sign, and return to DHS by mailing, emailing or "
           "faxing a copy to", "sans", 6.8)
    s.line(L + 330, yy + 1, R - 6, yy + 1, 0.5)
    yy += 19
    s.text(L + 4, yy, "Local Booking/Inmate #:", "sans", 6.8)
    s.line(L + 85, yy + 1, L + 200, yy + 1, 0.5)
    s.text(L + 206, yy, "Estimated release date/time:", "sans", 6.8)
    s.line(L + 305, yy + 1, R - 6, yy + 1, 0.5)
    yy += 19
    s.text(L + 4, yy, "Date of latest criminal charge/conviction:", "sans", 6.8)
    s.line(L + 142, yy + 1, L + 230, yy + 1, 0.5)
    s.text(L + 236, yy, "Last offense charged/convicted:", "sans", 6.8)
    s.line(L + 345, yy + 1, R - 6, yy + 1, 0.5)
    yy += 19
    s.text(L + 4, yy, "This form was served upon the alien on", "sans", 6.8)
    s.line(L + 133, yy + 1, L + 200, yy + 1, 0.5)
    s.text(L + 203, yy, ", in the following manner:", "sans", 6.8)
    for i, lab in enumerate(("in person", "inmate mail delivery", "other (please specify):")):
        bx = L + 290 + i * 62 if i < 2 else L + 428
        s.rect(bx, yy - 6, 6, 6, lw=0.5)
        s.text(bx + 9, yy, lab, "sans", 6.6)
    yy = max(yy + 30, 738)
    s.line(L + 4, yy, 300, yy, 0.5)
    s.line(330, yy, R - 6, yy, 0.5)
    s.text(L + 4, yy + 8, "(Name and title of Officer)", "sans", 6.6)
    s.text(330, yy + 8, "(Signature of Officer)", "sans", 6.6)
    if older:
        footer(s, f"DHS Form I-247D ({d.form_revision})", "Page 1 of 3")
    else:
        footer(s, f"DHS Form I-247A ({d.form_revision})", "Page 1 of 3")


# --------------------------------------------------------------------------- notice to the detainee

NOTICE_EN = (
    "NOTICE TO THE DETAINEE",
    "The Department of Homeland Security (DHS) has placed an immigration detainer on you. An immigration "
    "detainer is a notice from DHS informing law enforcement agencies that DHS intends to assume custody of "
    "you after you otherwise would be released from custody. DHS has requested that the law enforcement agency "
    "that is currently detaining you maintain custody of you for a period not to exceed 48 hours beyond the time "
    "when you would have otherwise been released by the state or local law enforcement agency based on your "
    "criminal charges or convictions. If DHS does not take you into custody during that additional 48 hour "
    "period, you should contact your custodian (the agency that is holding you now) to inquire about your "
    "release from state or local custody. If you have a complaint regarding this detainer or related to "
    "violations of civil rights or civil liberties connected to DHS activities, please contact the ICE Joint "
    "Intake Center at 1-877-2INTAKE (246-8253). If you believe you are a United States citizen or the victim of "
    "a crime, please advise DHS by calling the ICE Law Enforcement Support Center toll free at (855) 448-6903.",
)
NOTICES: dict[str, tuple[str, str]] = {
    "es": ("NOTIFICACIÓN A LA PERSONA DETENIDA",
           "El Departamento de Seguridad Nacional (DHS) le ha puesto una retención de inmigración. Una retención "
           "de inmigración es un aviso del DHS a las agencias del orden público de que el DHS tiene la intención de "
           "asumir su custodia después de que usted normalmente sería puesto en libertad. El DHS ha pedido que la "
           "agencia que lo tiene detenido actualmente lo mantenga bajo custodia por un periodo que no exceda 48 "
           "horas más allá del momento en que usted hubiera sido puesto en libertad. Si el DHS no lo pone bajo "
           "custodia durante ese periodo adicional de 48 horas, usted debe comunicarse con su custodio para "
           "preguntar sobre su liberación. Si usted cree que es ciudadano de los Estados Unidos o víctima de un "
           "delito, infórmele al DHS llamando gratis al Centro de Apoyo a las Agencias del Orden Público del ICE al "
           "(855) 448-6903."),
    "fr": ("AVIS AU DÉTENU",
           "Le Département de la Sécurité intérieure (DHS) a émis un ordre de détention d’immigration à votre "
           "encontre. Un ordre de détention est un avis du DHS informant les organismes chargés de l’application "
           "de la loi que le DHS a l’intention de vous prendre en charge lorsque vous seriez autrement libéré. Le "
           "DHS a demandé à l’organisme qui vous détient actuellement de vous maintenir en détention pendant une "
           "période ne dépassant pas 48 heures. Si vous pensez être citoyen des États-Unis ou victime d’un crime, "
           "veuillez en aviser le DHS en appelant gratuitement le Centre de soutien aux forces de l’ordre de "
           "l’ICE au (855) 448-6903."),
    "pt": ("AVISO AO DETENTO",
           "O Departamento de Segurança Interna (DHS) emitiu uma ordem de detenção de imigração contra você. Uma "
           "ordem de detenção é um aviso do DHS às agências policiais de que o DHS pretende assumir a sua custódia "
           "depois que você seria normalmente libertado. O DHS solicitou à agência que o detém atualmente que o "
           "mantenha sob custódia por um período não superior a 48 horas. Se você acredita ser cidadão dos Estados "
           "Unidos ou vítima de um crime, informe o DHS ligando gratuitamente para o Centro de Apoio às Agências "
           "Policiais do ICE pelo número (855) 448-6903."),
    "zh": ("GEI BEI JULIU ZHE DE TONGZHI (Notice to the Detainee - Chinese)",
           "Guotu Anquan Bu (DHS) yijing dui nin fachu yimin juliu ling. Yimin juliu ling shi DHS tongzhi zhifa "
           "jiguan, DHS dasuan zai nin bei shifang hou jieguan nin. DHS yijing yaoqiu muqian juliu nin de zhifa "
           "jiguan zai nin yuanben ying bei shifang de shijian zhihou jixu juliu nin, dan bu chaoguo 48 xiaoshi. "
           "Ruguo nin renwei nin shi Meiguo gongmin huo fanzui shouhaizhe, qing boda mianfei dianhua "
           "(855) 448-6903 lianxi ICE Zhifa Zhichi Zhongxin."),
    "vi": ("THÔNG BÁO CHO NGƯỜI BỊ GIAM GIỮ",
           "Bộ An ninh Nội địa (DHS) đã ban hành lệnh giam giữ di trú đối với quý vị. Lệnh giam giữ di trú là "
           "thông báo của DHS cho các cơ quan thực thi pháp luật rằng DHS dự định tạm giữ quý vị sau khi quý vị "
           "được trả tự do. DHS đã yêu cầu cơ quan đang giam giữ quý vị tiếp tục giam giữ không quá 48 giờ. Nếu "
           "quý vị tin rằng mình là công dân Hoa Kỳ hoặc nạn nhân của tội phạm, vui lòng gọi miễn phí số "
           "(855) 448-6903."),
    "ht": ("AVI POU MOUN KI NAN DETANSYON AN",
           "Depatman Sekirite Nasyonal (DHS) mete yon detansyon imigrasyon sou ou. Yon detansyon imigrasyon se "
           "yon avi DHS bay ajans ki aplike lalwa yo pou di yo DHS gen entansyon pran ou anba gad li apre yo ta "
           "dwe lage ou. DHS mande ajans ki kenbe ou kounye a pou kenbe ou pou yon peryòd ki pa depase 48 èdtan. "
           "Si ou kwè ou se yon sitwayen Ameriken oswa yon viktim yon krim, tanpri rele Sant Sipò pou Ajans "
           "Lapolis ICE la gratis nan (855) 448-6903."),
}


def draw_notice(s: Surface, d: Detainer, page_no: int, rng: random.Random) -> None:
    L, R = 48.0, 564.0
    y = 52.0
    s.text(306, 40, "DEPARTMENT OF HOMELAND SECURITY (DHS)", "sans_bold", 9, "c")
    f = Filler(s, rng, d.fill_font, d.mark)
    s.text(L, y + 8, "Subject ID:", "sans_bold", 7.5)
    f.value(L + 50, y + 8, d.subject_id, 8.5)
    s.text(330, y + 8, "File No:", "sans_bold", 7.5)
    f.value(370, y + 8, d.printed_file_number, 8.5)
    y += 28
    blocks: list[tuple[str, str, str]] = []
    if page_no == 2:
        blocks.append((NOTICE_EN[0], NOTICE_EN[1], "sans"))
        langs = d.notice_langs[:2]
    else:
        langs = d.notice_langs[2:5]
    for lang in langs:
        t, body = NOTICES[lang]
        blocks.append((t, body, "uni"))
    for t, body, font in blocks:
        s.text(306, y, t, "uni_bold" if font == "uni" else "sans_bold", 10, "c")
        y += 18
        y = para(s, L, y, R - L, body, font, 9.6, 12.6)
        y += 20
    if page_no == 3:
        y += 6
        s.text(L, y, "Notice read to the detainee in the", "sans", 7.5)
        s.line(L + 125, y + 1, L + 230, y + 1, 0.5)
        s.text(L + 233, y, "language by", "sans", 7.5)
        s.line(L + 275, y + 1, L + 420, y + 1, 0.5)
    rev = "I-247D" if d.form_type == "I-247D" else "I-247A"
    footer(s, f"DHS Form {rev} ({d.form_revision})", f"Page {page_no} of 3")


# --------------------------------------------------------------------------- warrants


def _seal(s: Surface, x: float, y: float, r: float = 26.0) -> None:
    pts = [(x + r * math.cos(a / 40 * 2 * math.pi), y + r * math.sin(a / 40 * 2 * math.pi)) for a in range(41)]
    s.polyline(pts, 1.0)
    pts = [(x + (r - 4) * math.cos(a / 40 * 2 * math.pi), y + (r - 4) * math.sin(a / 40 * 2 * math.pi))
           for a in range(41)]
    s.polyline(pts, 0.5)
    s.text(x, y + 3, "DHS", "serif_bold", 9, "c")


def draw_i200(s: Surface, d: Detainer, rng: random.Random) -> None:
    f = Filler(s, rng, d.fill_font, d.mark)
    L, R = 54.0, 558.0
    _seal(s, 84, 66)
    s.text(306, 52, "U.S. DEPARTMENT OF HOMELAND SECURITY", "serif_bold", 10.5, "c")
    s.text(306, 82, "WARRANT FOR ARREST OF ALIEN", "serif_bold", 15, "c")
    y = 118.0
    s.text(380, y, "File No.", "serif", 9.5)
    f.value(424, y, d.printed_file_number, 10)
    y += 18
    s.text(380, y, "Date:", "serif", 9.5)
    f.value(424, y, fmt_date(d.issued_date, d.date_style), 10)
    y += 30
    s.text(L, y, "To:", "serif", 9.5)
    y = para(s, L + 24, y, R - L - 24, "Any immigration officer authorized pursuant to sections 236 and 287 of the "
             "Immigration and Nationality Act and part 287 of title 8, Code of Federal Regulations, to serve "
             "warrants of arrest for immigration violations", "serif", 9.5, 12)
    y += 14
    s.text(L, y, "I have determined that there is probable cause to believe that", "serif", 9.5)
    s.line(L + 270, y + 2, R, y + 2, 0.5)
    f.value(L + 276, y, d.person.printed_name, 10)
    y += 14
    s.text(L, y, "is removable from the United States. This determination is based upon:", "serif", 9.5)
    y += 18
    reasons = [
        ("the execution of a charging document to initiate removal proceedings against the subject;", False),
        ("the pendency of ongoing removal proceedings against the subject;", "pending_proceedings" in d.probable_cause),
        ("the failure to establish admissibility subsequent to deferred inspection;", False),
        ("biometric confirmation of the subject’s identity and a records check of federal databases that "
         "affirmatively indicate, by themselves or in addition to other reliable information, that the subject "
         "either lacks immigration status or notwithstanding such status is removable under U.S. immigration law; "
         "and/or", "biometric_records" in d.probable_cause),
        ("statements made voluntarily by the subject to an immigration officer and/or other reliable evidence "
         "that affirmatively indicate the subject either lacks immigration status or notwithstanding such status "
         "is removable under U.S. immigration law.", "statements_evidence" in d.probable_cause or
         not d.probable_cause),
    ]
    for text, on in reasons:
        f.check(L + 14, y - 7, bool(on), 8)
        y = para(s, L + 30, y, R - L - 30, text, "serif", 9.2, 11.5)
        y += 4
    y += 10
    y = para(s, L, y, R - L, "YOU ARE COMMANDED to arrest and take into custody for removal proceedings under "
             "the Immigration and Nationality Act, the above-named alien.", "serif_bold", 9.5, 12)
    y += 40
    s.line(300, y, R, y, 0.5)
    scribble(s, rng, 320, y - 2, 130, 20)
    s.text(300, y + 10, "(Signature of Authorized Immigration Officer)", "serif", 8)
    y += 34
    s.line(300, y, R, y, 0.5)
    f.value(304, y - 3, f"{d.officer_name}  {d.officer_title[:34]}", 8.6)
    s.text(300, y + 10, "(Printed Name and Title of Authorized Immigration Officer)", "serif", 8)
    y += 44
    s.line(L, y, R, y, 1.2)
    y += 18
    s.text(306, y, "Certificate of Service", "serif_bold", 11, "c")
    y += 20
    y = para(s, L, y, R - L, "I hereby certify that the Warrant for Arrest of Alien was served by me at "
             "______________________ on ______________ and the contents of this notice were read to him or "
             "her in the ______________ language.", "serif", 9.5, 13)
    y += 34
    s.line(L, y, 280, y, 0.5)
    s.line(320, y, R, y, 0.5)
    s.text(L, y + 10, "Name and Signature of Officer", "serif", 8)
    s.text(320, y + 10, "Name or Number of Interpreter (if applicable)", "serif", 8)
    footer(s, "Form I-200 (Rev. 09/16)", "")


def draw_i205(s: Surface, d: Detainer, rng: random.Random) -> None:
    f = Filler(s, rng, d.fill_font, d.mark)
    L, R = 54.0, 558.0
    _seal(s, 84, 66)
    s.text(306, 52, "U.S. Department of Homeland Security", "serif_bold", 10.5, "c")
    s.text(306, 82, "WARRANT OF REMOVAL/DEPORTATION", "serif_bold", 15, "c")
    y = 118.0
    s.text(380, y, "File No:", "serif", 9.5)
    f.value(424, y, d.printed_file_number, 10)
    y += 18
    s.text(380, y, "Date:", "serif", 9.5)
    f.value(424, y, fmt_date(d.issued_date, d.date_style), 10)
    y += 30
    s.text(L, y, "To any immigration officer of the United States Department of Homeland Security:", "serif", 9.5)
    y += 30
    s.line(L, y + 2, R, y + 2, 0.5)
    f.value(L + 120, y, d.person.printed_name, 10)
    y += 11
    s.text(306, y, "(Full name of alien)", "serif", 8, "c")
    y += 20
    s.text(L, y, "who entered the United States at", "serif", 9.5)
    s.line(L + 145, y + 2, L + 330, y + 2, 0.5)
    f.value(L + 150, y, "Unknown place", 9.5)
    s.text(L + 335, y, "on", "serif", 9.5)
    s.line(L + 350, y + 2, R, y + 2, 0.5)
    f.value(L + 360, y, "Unknown date", 9.5)
    y += 10
    s.text(L + 200, y, "(Place of entry)", "serif", 8)
    s.text(L + 400, y, "(Date of entry)", "serif", 8)
    y += 20
    s.text(L, y, "is subject to removal/deportation from the United States, based upon a final order by:", "serif", 9.5)
    y += 18
    for i, t in enumerate(("an immigration judge in exclusion, deportation, or removal proceedings",
                           "a designated official", "the Board of Immigration Appeals",
                           "a United States District or Magistrate Court Judge")):
        f.check(L + 14, y - 7, i == 0, 8)
        s.text(L + 30, y, t, "serif", 9.5)
        y += 16
    y += 8
    s.text(L, y, "and pursuant to the following provisions of the Immigration and Nationality Act:", "serif", 9.5)
    y += 16
    s.line(L, y + 2, R, y + 2, 0.5)
    f.value(L + 6, y, "212(a)(6)(A)(i)", 9.5)
    y += 26
    y = para(s, L, y, R - L, "I, the undersigned officer of the United States, by virtue of the power and "
             "authority vested in the Secretary of Homeland Security under the laws of the United States and by "
             "his or her direction, command you to take into custody and remove from the United States the "
             "above-named alien, pursuant to law, at the expense of:", "serif", 9.5, 12.5)
    y += 8
    s.line(L, y + 2, R, y + 2, 0.5)
    f.value(L + 6, y, "the appropriation \"Enforcement and Removal Operations\"", 9.5)
    y += 50
    s.line(300, y, R, y, 0.5)
    scribble(s, rng, 320, y - 2, 130, 20)
    s.text(300, y + 10, "(Signature of immigration officer)", "serif", 8)
    y += 34
    s.line(300, y, R, y, 0.5)
    f.value(304, y - 3, d.officer_title[:44], 8.6)
    s.text(300, y + 10, "(Title of immigration officer)", "serif", 8)
    y += 34
    s.line(300, y, R, y, 0.5)
    f.value(304, y - 3, f"{d.office.city}, {d.office.address[-1].split(',')[-1].split()[0]}", 8.6)
    s.text(300, y + 10, "(Date and office location)", "serif", 8)
    footer(s, "Form I-205 (Rev. 08/07)", "")


# --------------------------------------------------------------------------- cover sheets


def draw_cover(s: Surface, page: Page, ctx: dict, rng: random.Random) -> None:
    d = page.detainer
    data = page.data
    f = Filler(s, rng, "mono" if rng.random() < 0.5 else "sans", "x", 10)
    L, R = 54.0, 558.0
    if data.get("generic"):
        s.text(L, 80, "QUINCY POLICE DEPARTMENT (fictional)", "sans_bold", 14)
        s.text(L, 98, "Records Division", "sans", 11)
        s.text(R, 80, "FAX", "sans_bold", 36, "r")
        rows = [("To:", "Records Unit"), ("Agency:", DEPT_NAME.title()), ("Fax:", "(617) 555-0141"),
                ("From:", "Clerk M. Ostrowski"), ("Phone:", "(781) 555-0150"), ("Pages:", str(ctx["total_pages"])),
                ("Re:", data.get("re", ""))]
        y = 170.0
    else:
        assert d is not None
        off = d.office
        s.text(L, 64, "U.S. Department of Homeland Security", "sans_bold", 11)
        s.text(L, 80, "U.S. Immigration and Customs Enforcement", "sans", 10)
        s.text(L, 94, f"Enforcement and Removal Operations - {off.city} Field Office", "sans", 10)
        s.text(R, 84, "FAX", "sans_bold", 40, "r")
        s.line(L, 108, R, 108, 2.0)
        pages = data.get("pages", ctx["total_pages"])
        to = STATION_NAMES.get(ctx.get("station") or "", "Detainer Unit / Operations Division")
        rows = [("To:", to), ("Agency:", DEPT_NAME.title()), ("Fax:", "(617) 555-0100"),
                ("From:", f"{d.officer_name}, ERO {off.city}"), ("Phone:", off.phone),
                ("Fax:", "(" + off.fax.number[2:5] + ") " + off.fax.number[5:8] + "-" + off.fax.number[8:]),
                ("Date:", fmt_date(d.issued_date)), ("Pages (including cover):", str(pages)),
                ("Re:", data.get("re", "Immigration Detainer"))]
        y = 150.0
    for lab, val in rows:
        s.text(L, y, lab, "sans_bold", 11)
        s.line(L + 150, y + 3, R, y + 3, 0.5)
        f.value(L + 156, y, val, 11)
        y += 30
    y += 10
    s.text(L, y, "Comments:", "sans_bold", 11)
    y += 20
    if data.get("generic"):
        msg = "Please see attached request. Call with any questions."
    elif data.get("alone"):
        msg = "Please see attached Form I-247A and Form I-200. Please acknowledge receipt by return fax."
    elif "CANCEL" in data.get("re", ""):
        msg = "Please cancel the previously lodged detainer for the subject listed on the attached I-247A."
    else:
        msg = ("Please see attached Form I-247A and accompanying warrant for the subject listed. Please serve a copy "
               "on the subject and acknowledge receipt by return fax.")
    y = para(s, L + 10, y, R - L - 10, msg, f.font, 10.5, 14)
    s.rect(L, 600, R - L, 120, lw=0.8)
    para(s, L + 8, 616, R - L - 16,
         "CONFIDENTIALITY NOTICE: This facsimile contains LAW ENFORCEMENT SENSITIVE information that is intended "
         "only for the use of the individual or entity named above. If you are not the intended recipient, you "
         "are hereby notified that any dissemination, distribution or copying of this communication is strictly "
         "prohibited. If you have received this facsimile in error, please notify the sender immediately by "
         "telephone and destroy the original.", "sans", 8.5, 11)


# --------------------------------------------------------------------------- decoys


def _letterhead(s: Surface, name: str, sub: str, addr: str) -> None:
    s.text(306, 56, name, "serif_bold", 14, "c")
    s.text(306, 72, sub, "serif", 10, "c")
    s.text(306, 86, addr, "serif", 9, "c")
    s.line(72, 94, 540, 94, 1.0)


def draw_decoy(s: Surface, name: str, data: dict, rng: random.Random, ctx: dict) -> None:
    L, R = 72.0, 540.0
    f = Filler(s, rng, "mono", "x", 9.5)
    when: date = ctx["date"]
    if name == "court_notice":
        v = data.get("variant", 0)
        court = ["SUFFOLK COUNTY DISTRICT COURT (fictional division)",
                 "SUFFOLK COUNTY DISTRICT COURT (fictional division)",
                 "SUPERIOR COURT DEPARTMENT - CRIMINAL SESSION (fictional)"][v]
        _letterhead(s, "TRIAL COURT OF THE COMMONWEALTH", court, "24 New Chardon Street Annex, City, MA 02114")
        title = ["NOTICE OF ARRAIGNMENT", "NOTICE OF RESCHEDULED HEARING", "ORDER TO TRANSPORT PRISONER (HABE)"][v]
        s.text(306, 130, title, "serif_bold", 13, "c")
        y = 170.0
        for lab, val in (("Docket No.:", f"{rng.randint(2401, 2599)}CR{rng.randint(1000, 9999):06d}"),
                         ("Commonwealth v.:", rng.choice(["HOLLOWAY, Brandon", "ESTRADA, Miguel", "FINNEGAN, Ryan",
                                                          "OYELARAN, Tobi"])),
                         ("Date of Hearing:", fmt_date(when.replace(day=min(when.day + 7, 28)))),
                         ("Time:", "9:00 AM"), ("Session:", f"Courtroom {rng.randint(1, 12)}")):
            s.text(L, y, lab, "serif_bold", 10)
            f.value(L + 120, y, val)
            y += 20
        y += 10
        y = para(s, L, y, R - L, "TO: " + DEPT_NAME.title() + " - Court Unit. You are hereby notified that the "
                 "above-captioned matter has been scheduled as indicated. If the defendant is held in your custody "
                 "please arrange for transport to the court on the date and time listed. Failure to produce the "
                 "defendant must be reported to the clerk's office in advance of the hearing.", "serif", 10.5, 14)
        y += 30
        s.text(L, y, "Attest:", "serif", 10)
        scribble(s, rng, L + 60, y + 4, 110, 16)
        s.text(L, y + 24, "Assistant Clerk-Magistrate", "serif", 10)
        footer(s, "TC-CR-114 (rev. 2019) (fictional)", "Page 1 of 1")
    elif name == "booking_report":
        v = data.get("variant", 0)
        agency = ["SUFFOLK COUNTY SHERIFF'S DEPARTMENT (fictional)", "QUINCY POLICE DEPARTMENT (fictional)"][v]
        s.text(306, 50, agency, "sans_bold", 12, "c")
        s.text(306, 68, "ARREST / BOOKING REPORT", "sans_bold", 13, "c")
        y = 96.0
        rows = [("Booking #", f"{when:%y}-{rng.randint(10000, 99999)}"),
                ("Booking Date/Time", f"{fmt_date(when)} 01:47"),
                ("Name (Last, First)", rng.choice(["MCALLISTER, Shane", "BOATENG, Kwame", "TRUONG, Kevin",
                                                   "RIVERA SANTOS, Elena"])),
                ("DOB", fmt_date(date(rng.randint(1970, 2003), rng.randint(1, 12), rng.randint(1, 28)))),
                ("Sex", rng.choice("MF")), ("Race", "U"), ("Height/Weight", "5'09\" / 170"),
                ("Arresting Officer", f"Ofc. {rng.choice(['Delaney', 'Park', 'Sousa', 'Abdi'])}"),
                ("Charges", rng.choice(["OUI LIQUOR; NEGLIGENT OPERATION", "A&B DANGEROUS WEAPON",
                                        "SHOPLIFTING BY ASPORTATION", "TRESPASS"])),
                ("Bail", "$500 CASH"), ("Warrant Check", "NEGATIVE"), ("ICE Detainer", "NONE ON FILE"),
                ("Property", "WALLET, PHONE, KEYS (1 SET)"), ("Phone call", "YES 02:05")]
        for lab, val in rows:
            s.rect(L - 20, y, 150, 22, lw=0.5)
            s.rect(L + 130, y, R - L - 110, 22, lw=0.5)
            s.text(L - 16, y + 15, lab, "sans_bold", 8.5)
            f.value(L + 136, y + 15, val, 9.5)
            y += 22
        y += 20
        s.text(L - 20, y, "Narrative:", "sans_bold", 9)
        y = para(s, L - 20, y + 14, R - L + 40, "Subject was placed under arrest following a motor vehicle stop. "
                 "Subject was transported to the station, booked and afforded all rights. Subject was held pending "
                 "bail. Report forwarded to the Court Unit and to the requesting district for information only.",
                 "mono", 9.5, 12.5)
        footer(s, "Printed by RMS (fictional) - FOR LAW ENFORCEMENT USE ONLY", "Page 1 of 1")
    elif name in ("letter_pd", "letter_da"):
        if name == "letter_pd":
            _letterhead(s, "PUBLIC COUNSEL INTAKE UNIT (fictional)", "Immigration Impact Unit",
                        "75 Federal Street Annex, City, MA 02110")
            body = ("Dear Records Access Officer:\n\nPursuant to the public records law, we request copies of "
                    "records sufficient to show the number of immigration detainers (DHS Forms I-247A) received by "
                    "the Department during calendar year 2024, by month and by the means of receipt, together with "
                    "any written policy governing the handling of such detainers. We do not request the names of "
                    "any individuals.\n\nPlease contact me if you have questions about this request.")
            sig = "Staff Attorney"
        else:
            _letterhead(s, "OFFICE OF THE DISTRICT ATTORNEY (fictional)", "Suffolk District",
                        "1 Bulfinch Place Annex, City, MA 02114")
            body = ("Re: Witness protection request\n\nDear Captain:\n\nThis office requests that the Department "
                    "notify the assigned Assistant District Attorney before releasing the witness in the matter "
                    "referenced above from protective custody. This is not an immigration matter. Please direct "
                    "questions to the Victim Witness Unit.")
            sig = "Assistant District Attorney"
        s.text(L, 130, fmt_date(when), "serif", 11)
        s.text(L, 160, "Records Access Officer" if name == "letter_pd" else "District Commander", "serif", 11)
        s.text(L, 174, DEPT_NAME.title(), "serif", 11)
        y = para(s, L, 210, R - L, body, "serif", 11, 15)
        y += 20
        s.text(L, y, "Sincerely,", "serif", 11)
        scribble(s, rng, L + 10, y + 34, 120, 18)
        s.text(L, y + 54, rng.choice(["Rebecca Lindahl", "Tomasz Wierzbicki", "Grace Odum"]), "serif", 11)
        s.text(L, y + 68, sig, "serif", 11)
    elif name == "bolo":
        v = data.get("variant", 0)
        s.rect(L - 20, 40, R - L + 40, 40, fill=True, gray=0)
        s.text(306, 68, "BE ON THE LOOKOUT", "sans_bold", 22, "c")
        s.text(306, 104, "COMMONWEALTH FUSION CENTER (fictional) - LAW ENFORCEMENT SENSITIVE", "sans_bold", 9.5, "c")
        s.rect(L, 124, 170, 210, fill=True, gray=150)
        s.text(L + 85, 232, "PHOTO", "sans_bold", 14, "c")
        y = 140.0
        subject = ["STOLEN VEHICLE - ATTEMPT TO LOCATE", "MISSING / ENDANGERED ADULT"][v]
        s.text(L + 190, y, subject, "sans_bold", 11)
        y += 22
        for lab, val in (("Vehicle:", "2019 Honda Accord, grey"), ("Plate:", f"MA {rng.randint(1, 9)}"
                         f"{chr(65 + rng.randint(0, 25))}{chr(65 + rng.randint(0, 25))}{rng.randint(100, 999)}"),
                         ("Last seen:", fmt_date(when)), ("Area:", "Dorchester Ave corridor"),
                         ("Contact:", "Watch Commander (508) 555-0133")):
            s.text(L + 190, y, lab, "sans_bold", 10)
            s.text(L + 260, y, val, "sans", 10)
            y += 18
        para(s, L, 370, R - L, "Officers encountering the vehicle or subject should not take enforcement action "
             "based solely on this bulletin. Notify the originating agency and confirm status through CJIS before "
             "any stop. Information is current as of the date of issue and may change.", "sans", 10, 13.5)
        footer(s, f"Bulletin {when:%Y}-{rng.randint(100, 999)}", "For official use only")
    elif name == "subpoena":
        pg = data.get("page", 1)
        _letterhead(s, "COMMONWEALTH OF MASSACHUSETTS (sample)", "Superior Court Department - Civil Action",
                    "Civil Action No. 2584CV00" + str(rng.randint(100, 999)))
        if pg == 1:
            s.text(306, 130, "SUBPOENA DUCES TECUM FOR RECORDS", "serif_bold", 13, "c")
            para(s, L, 170, R - L, "To: Keeper of Records, " + DEPT_NAME.title() + "\n\nYou are hereby commanded, "
                 "all excuses being laid aside, to produce the records described in Schedule A at the offices of "
                 "counsel listed below on the date indicated, in the civil action of PEMBERTON v. CITY TRANSIT "
                 "AUTHORITY (fictional). Hereof fail not, as you will answer your default under the pains and "
                 "penalties in the law in that behalf made and provided.", "serif", 11, 15)
        else:
            s.text(306, 130, "SCHEDULE A", "serif_bold", 13, "c")
            para(s, L, 170, R - L, "1. Any and all incident reports concerning a motor vehicle collision on "
                 "Washington Street.\n2. Any photographs, diagrams or video recordings of the scene.\n3. Any "
                 "dispatch logs and 911 call records relating to the incident.", "serif", 11, 15)
        footer(s, "Keller & Osei LLP (fictional), counsel for the plaintiff", f"Page {pg} of 2")
    elif name == "records_request":
        _letterhead(s, "QUINCY POLICE DEPARTMENT (fictional)", "Records Division", "1 Sea Street Annex, Quincy, MA")
        s.text(306, 130, "REQUEST FOR CRIMINAL HISTORY / INCIDENT RECORDS", "serif_bold", 12, "c")
        y = para(s, L, 170, R - L, "Please forward copies of incident report(s) and booking photograph for the "
                 "individual listed below, arrested in your jurisdiction, for an ongoing investigation. Please fax "
                 "responsive records to (781) 555-0155.", "serif", 11, 15)
        for lab in ("Name:", "DOB:", "Incident #:", "Requesting Officer:"):
            y += 24
            s.text(L, y, lab, "serif_bold", 11)
            s.line(L + 130, y + 2, R, y + 2, 0.5)
        f.value(L + 136, y - 72, "WHITAKER, Colin")
        f.value(L + 136, y - 48, "04/11/1991")
        f.value(L + 136, y - 24, f"{when:%y}-0{rng.randint(10000, 99999)}")
        f.value(L + 136, y, "Det. S. Marchetti")
    elif name == "roster":
        pg, of = data.get("page", 1), data.get("of", 1)
        s.text(306, 50, "SUFFOLK COUNTY SHERIFF'S DEPARTMENT (fictional)", "sans_bold", 12, "c")
        s.text(306, 66, f"SCHEDULED RELEASES - WEEK OF {fmt_date(when)}", "sans_bold", 11, "c")
        cols = [(36, "BOOKING #"), (100, "NAME"), (262, "DOB"), (318, "HOUSING"), (378, "RELEASE"),
                (440, "HOLDS / DETAINERS")]
        y = 92.0
        s.rect(32, y - 10, 548, 14, fill=True, gray=200)
        for x, t in cols:
            s.text(x, y, t, "sans_bold", 7.5)
        y += 16
        first = ["Tyrell", "Mateus", "Darnell", "Quang", "Sean", "Jorge", "Malik", "Piotr", "Emmanuel", "Kyle",
                 "Osvaldo", "Brian", "Hakim", "Luis", "Derek", "Anthony"]
        last = ["OKAFOR-REED", "LACERDA", "WHITFIELD", "TRINH", "COUGHLIN", "BARRIENTOS", "JOHNSON-BEY", "NOWAK",
                "ASANTE", "MURPHY", "ROQUE", "DALY", "SAID", "FEBRES", "LINDQVIST", "MARCHETTI"]
        for i in range(30):
            holds = rng.choice(["NONE", "NONE", "NONE", "NONE", "PAROLE", "WARRANT - MIDDLESEX", "ICE (see file)",
                                "NONE", "PROBATION"])
            row = [f"{when:%y}-{rng.randint(10000, 99999)}", f"{rng.choice(last)}, {rng.choice(first)}",
                   fmt_date(date(rng.randint(1965, 2004), rng.randint(1, 12), rng.randint(1, 28))),
                   f"{rng.choice('ABCDE')}-{rng.randint(1, 4)}{rng.randint(10, 40)}",
                   fmt_date(date(when.year, when.month, min(28, when.day + rng.randint(0, 6)))), holds]
            for (x, _), v in zip(cols, row, strict=True):
                s.text(x, y, v, "mono", 7.8)
            y += 19
            if i % 5 == 4:
                s.line(32, y - 13, 580, y - 13, 0.4)
        para(s, 36, y + 10, 540, "Holds and detainers are listed as entered in the jail management system and must "
             "be verified with the issuing agency before release. This list is not a detainer and is not a "
             "request to hold any person.", "sans", 8, 10.5)
        footer(s, "JMS report RLS-07 (fictional)", f"Page {pg} of {of}")
    elif name == "hit_confirmation":
        s.text(306, 54, "NCIC HIT CONFIRMATION REQUEST (sample)", "mono_bold", 12, "c")
        y = 90.0
        lines = [
            f"DATE: {fmt_date(when)}    TIME: 0312 HRS",
            "FROM: DISTRICT E-18 DESK                TO: CJIS / WARRANT UNIT",
            "",
            "REQUEST TYPE: URGENT (10 MINUTE RESPONSE)",
            "FILE: WANTED PERSON (WARRANT)    ORI: MA0130099 (sample)",
            "",
            "SUBJECT: GALLAGHER, Devin M        DOB: 03/14/1988   SEX: M",
            "OLN: S9xxxxx11 (MA)                 ",
            "",
            "WARRANT: 2401CR00xxxx  DEFAULT - OPERATING AFTER SUSPENSION",
            "ISSUED BY: DORCHESTER DISTRICT COURT (fictional)",
            "",
            "NOTE: THIS IS NOT AN IMMIGRATION DETAINER. NO IMMIGRATION",
            "VIOLATOR FILE RECORD WAS RETURNED FOR THIS SUBJECT.",
            "",
            "PLEASE CONFIRM WARRANT IS ACTIVE AND EXTRADITION LIMITS.",
            "",
            "REQUESTING OFFICER: SGT. R. AMARAL    CALLBACK (617) 555-0158",
        ]
        for ln in lines:
            s.text(60, y, ln, "mono", 10.5)
            y += 17
        y += 20
        s.text(60, y, "RESPONSE:", "mono_bold", 10.5)
        s.line(130, y + 2, 540, y + 2, 0.5)
        s.line(60, y + 26, 540, y + 26, 0.5)
    else:  # pragma: no cover
        raise ValueError(f"unknown decoy {name}")


# --------------------------------------------------------------------------- dispatch


def draw_page(s: Surface, page: Page, rng: random.Random, ctx: dict) -> None:
    """Draw one planned page. ctx: {"date": date, "total_pages": int}."""
    kind = page.draw
    d = page.detainer
    if kind == "p1":
        assert d is not None
        draw_detainer_p1(s, d, rng)
    elif kind in ("notice2", "notice3"):
        assert d is not None
        draw_notice(s, d, int(kind[-1]), rng)
    elif kind == "i200":
        assert d is not None
        draw_i200(s, d, rng)
    elif kind == "i205":
        assert d is not None
        draw_i205(s, d, rng)
    elif kind == "cover":
        draw_cover(s, page, ctx, rng)
    elif kind.startswith("decoy:"):
        draw_decoy(s, kind.split(":", 1)[1], page.data, rng, ctx)
    else:  # pragma: no cover
        raise ValueError(kind)


def render_page_image(page: Page, rng: random.Random, ctx: dict) -> Image.Image:
    """The page as a clean greyscale image at 204 x 196 dpi (1728 px wide)."""
    s = PilSurface()
    draw_page(s, page, rng, ctx)
    return s.image


DrawFn = Callable[[Surface, Page, random.Random, dict], None]
