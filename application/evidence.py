"""The evidence packet: one PDF with everything the ledger knows about one request, for counsel or a
public-records answer (``detainer-intake evidence REQUEST_ID --out FILE.pdf [--include-pii]``).

It holds, in order: the request's summary (first arrival, channels, copies, form, cancellation, the
current disposition; with ``include_pii`` the founding copy's name, date of birth, A-number, event
number and subject id); each copy with the grouping rule and score that joined it; each arrival of
its document (channel, station, received at, file name, SHA-256, size; sender and message id only
with ``include_pii``); the fax headers parsing read per page; the fields read, with the confidence
and page of each; every decision and the disposition history (``application.audit``'s story, with
its own rule on what is personal); then each page of every received document of the request, as
parsing saw it (``application.review.render_page``: the project's bounded rendering of the
archived bytes), with the box each field was read from drawn on it and numbered as in the fields
table.

Without ``include_pii`` (the redacted packet) the personal values (``PERSONAL_FIELDS``) are left out
of the text, and their boxes are blacked out on the page images (of every copy in the document, not
only this request's). A page on which no field of the request was read is left out of a redacted
packet (a notice page or a fax cover may print the name where no box covers it) and listed as
withheld. The blacking covers the boxes parsing found: a value printed elsewhere on a page that
carries a box is not found; look at the pages before releasing them.

The PDF is written 0600 (it is evidence, and with ``include_pii`` personal data); its text holds no
personal value unless ``include_pii``.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import (
    Image as PdfImage,
)

from application.audit import WITHHELD, change_text, story_json
from application.provenance import git_state, parser_version, software_version
from application.review import SHOWN_FIELDS, render_page
from core.config import ParsingSettings
from core.errors import IntakeError
from core.files import write_private
from ingest.archive import Archive, ArchiveCorrupt
from ledger.audit_reads import RequestStory
from ledger.db import current_revision
from ledger.store import Ledger
from parsing.models import BBox, ExtractionResult

# The subject's personal values: left out of a redacted packet's text, blacked out on its pages.
PERSONAL_FIELDS: tuple[str, ...] = (
    "subject_name",
    "date_of_birth",
    "file_number",
    "event_number",
    "subject_id",
    "citizenship",
    "sex",
)
RULES: dict[str, str] = {
    "first": "founded the request (the first copy of it the ledger recorded)",
    "same_content": "a further arrival of identical bytes",
    "same_identity": "same A-number or event number and issue date as the request's copies",
    "fuzzy": "name and date of birth close enough, issued dates within the dedupe window",
    "operator_merge": "an operator ruled it the same request (see the decisions)",
    "cancels": "a cancellation notice of the request",
    "unlinked": "not linked to a request",
}
MAX_IMAGE_SIDE = 2200  # pixels: a page image larger than this is scaled down after the boxes are drawn
BOX_PAD = 4  # pixels around a blacked-out box
BOX_COLOR = (220, 30, 30)
_FONT_FILES = {
    "Evidence": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "Evidence-Bold": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
}


def _fonts() -> tuple[str, str]:
    """A Unicode font when the system has DejaVu (accented and non-Latin names), else Helvetica."""
    try:
        for name, path in _FONT_FILES.items():
            if name not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(TTFont(name, path))
    except Exception:  # no such font file: the standard fonts (Latin-1) will do
        return "Helvetica", "Helvetica-Bold"
    return "Evidence", "Evidence-Bold"


@dataclass
class PageShown:
    document_sha256: str
    page: int
    kind: str
    withheld: str | None = None  # why the page image is not in the packet


@dataclass
class EvidencePacket:
    request_id: str
    path: Path
    include_pii: bool
    pdf_pages: int = 0
    pages: list[PageShown] = field(default_factory=list)

    @property
    def page_images(self) -> int:
        return sum(1 for p in self.pages if p.withheld is None)


# --------------------------------------------------------------------------- page images


@dataclass(frozen=True)
class Box:
    number: int | None  # in the fields table; None: another request's copy (blacked out only)
    name: str
    bbox: BBox
    personal: bool


def _boxes(extraction: ExtractionResult, ours: dict[int, int]) -> dict[int, list[Box]]:
    """Page -> the field boxes of every copy in the document; ``ours``: copy index -> first field number."""
    out: dict[int, list[Box]] = {}
    for index, detainer in enumerate(extraction.detainers):
        number = ours.get(index)
        for name, evidence in _ordered_evidence(detainer.evidence):
            if evidence.bbox is None or evidence.page < 1:
                continue
            personal = name.partition(":")[0] in PERSONAL_FIELDS
            out.setdefault(evidence.page, []).append(Box(number, name, evidence.bbox, personal))
            if number is not None:
                number += 1
    return out


def _ordered_evidence(evidence: dict[str, Any]) -> list[tuple[str, Any]]:
    """Evidence in the order of the form (``SHOWN_FIELDS``), then the checkboxes by name."""
    first = [(name, evidence[name]) for name in SHOWN_FIELDS if name in evidence]
    rest = sorted((name, ev) for name, ev in evidence.items() if name not in SHOWN_FIELDS)
    return first + rest


def draw_boxes(image: Image.Image, boxes: list[Box], include_pii: bool) -> Image.Image:
    """The page with the request's field boxes outlined in red and numbered; without ``include_pii`` every
    personal field's box (of any copy) is filled black."""
    page = image.convert("RGB")
    draw = ImageDraw.Draw(page)
    for box in boxes:
        b = box.bbox
        if box.personal and not include_pii:
            draw.rectangle(
                (b.left - BOX_PAD, b.top - BOX_PAD, b.left + b.width + BOX_PAD, b.top + b.height + BOX_PAD),
                fill=(0, 0, 0),
            )
    size = max(11, page.height // 100)  # the number's height: readable once the page is scaled to fit
    font = ImageFont.load_default(size=size)
    line = max(2, page.height // 800)
    for box in boxes:
        if box.number is None:
            continue
        b = box.bbox
        draw.rectangle(
            (b.left - 3, b.top - 3, b.left + b.width + 3, b.top + b.height + 3), outline=BOX_COLOR, width=line
        )
        label = str(box.number)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        x, y = max(0, b.left - 5 - (right - left)), max(0, b.top - 3 - (bottom - top) - top)
        draw.rectangle((x - 1, y + top - 1, x + right + 1, y + bottom + 1), fill=(255, 255, 255))
        draw.text((x, y), label, fill=BOX_COLOR, font=font)
    if max(page.size) > MAX_IMAGE_SIDE:
        scale = MAX_IMAGE_SIDE / max(page.size)
        page = page.resize((round(page.width * scale), round(page.height * scale)), Image.Resampling.LANCZOS)
    return page


# --------------------------------------------------------------------------- the packet


class _Styles:
    def __init__(self) -> None:
        regular, bold = _fonts()
        base = getSampleStyleSheet()
        self.title = ParagraphStyle("t", parent=base["Title"], fontName=bold, fontSize=16, leading=20)
        self.h2 = ParagraphStyle("h2", parent=base["Heading2"], fontName=bold, fontSize=12, leading=15)
        self.h3 = ParagraphStyle("h3", parent=base["Heading3"], fontName=bold, fontSize=10, leading=13)
        self.body = ParagraphStyle("b", parent=base["BodyText"], fontName=regular, fontSize=8.5, leading=11)
        self.cell = ParagraphStyle("c", parent=self.body, fontSize=7.5, leading=9.5)
        self.bold = bold


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def _table(header: list[str], rows: list[list[Any]], styles: _Styles, widths: list[float] | None = None) -> Table:
    data = [[_p(h, styles.cell) for h in header]] + [[_p(v, styles.cell) for v in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _local(value: str | datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _value(name: str, value: Any, include_pii: bool) -> str:
    if name.partition(":")[0] in PERSONAL_FIELDS and not include_pii:
        return WITHHELD
    if value is None or value == []:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _field_rows(
    fields: dict[str, Any], evidence: dict[str, Any], first: int, include_pii: bool
) -> tuple[list[list[Any]], int]:
    """The fields table of one copy: number (for the boxes), field, value, confidence, page."""
    rows: list[list[Any]] = []
    number = first
    shown = set()
    for name, ev in _ordered_evidence(evidence):
        group, _, option = name.partition(":")
        if option:
            chosen = fields.get(group)
            value: Any = option in chosen if isinstance(chosen, list) else chosen
        else:
            value = fields.get(name)
        mark = str(number) if ev.bbox is not None and ev.page >= 1 else ""
        if mark:
            number += 1
        rows.append([mark, name, _value(name, value, include_pii), f"{ev.confidence:.2f}", ev.page or ""])
        shown.add(name)
    for name in SHOWN_FIELDS:  # read without a box, or set by an operator
        if name not in shown and fields.get(name) not in (None, [], False):
            rows.append(["", name, _value(name, fields.get(name), include_pii), "", ""])
    return rows, number


def build_packet(
    ledger: Ledger,
    archive_root: Path,
    request_id: str,
    out: Path,
    *,
    include_pii: bool = False,
    timezone: str = "America/New_York",
    department: str = "",
    parsing: ParsingSettings | None = None,
) -> EvidencePacket:
    """Write the evidence packet of ``request_id`` to ``out`` (0600); LedgerError when the ledger never knew it."""
    request_id = request_id.strip().upper()
    zone = ZoneInfo(timezone)
    story: RequestStory = ledger.request_story(request_id)
    told = story_json(story, include_pii)
    styles = _Styles()
    packet = EvidencePacket(request_id=request_id, path=Path(out), include_pii=include_pii)
    archive = Archive(archive_root)
    flow: list[Flowable] = []

    # ---- the summary
    generated = datetime.now(UTC).replace(microsecond=0)
    flow.append(_p(f"Evidence packet: request {request_id}", styles.title))
    commit, dirty = git_state()
    software = f"detainer-intake {software_version()}"
    if commit:
        software += f", git commit {commit}" + (" (with local changes)" if dirty else "")
    flow.append(
        _p(
            f"{department + ' · ' if department else ''}generated {_local(generated, zone)} "
            f"({generated.isoformat().replace('+00:00', 'Z')}) by {software}; parser {parser_version()}; "
            f"ledger schema revision {current_revision(ledger.engine)}.",
            styles.body,
        )
    )
    flow.append(
        _p(
            "Personal data included (--include-pii): handle as personal data."
            if include_pii
            else "Redacted: the subject's personal values are left out of the text and blacked out on the page "
            "images; pages where no field of the request was read are withheld.",
            styles.body,
        )
    )
    flow.append(Spacer(1, 8))
    founding = next((c for c in story.copies if c.founding), story.copies[0] if story.copies else None)
    arrivals = sorted((a for c in story.copies for a in c.arrivals), key=lambda a: a.received_at)
    current = told["disposition_history"][-1] if told["disposition_history"] else None
    summary_rows: list[list[Any]] = [
        ["request", request_id + ("" if story.exists else " (no longer a request: merged away or regrouped)")],
        ["first received", _local(arrivals[0].received_at, zone) if arrivals else "-"],
        ["first channel", f"{arrivals[0].channel} {arrivals[0].station or ''}".strip() if arrivals else "-"],
        ["channels", ", ".join(sorted({a.channel for a in arrivals})) or "-"],
        ["copies", len(story.copies)],
        ["arrivals", len(arrivals)],
        ["form", founding.form_type if founding else "-"],
        ["warrant form", (founding.fields.get("warrant_form") if founding else None) or "-"],
        ["cancelled by", ", ".join(story.cancelled_by) or "no cancellation notice"],
        [
            "disposition",
            "not recorded"
            if current is None
            else f"{current['outcome']}"
            + (f", reimbursement {current['reimbursement']}" if current["reimbursement"] is not None else "")
            + f" (recorded by {current['who']}, {_local(current['at'], zone)})",
        ],
    ]
    if include_pii and founding is not None:
        summary_rows += [[name, _value(name, founding.fields.get(name), True)] for name in PERSONAL_FIELDS]
    flow.append(_table(["", ""], summary_rows, styles, [1.6 * inch, 5.3 * inch]))

    # ---- each copy: grouping, arrivals, fax headers, fields
    extractions: dict[str, ExtractionResult | None] = {}
    numbers: dict[str, dict[int, int]] = {}  # document -> copy index -> its first box number
    number = 1
    for n, (copy, shown) in enumerate(zip(story.copies, told["copies"], strict=True), 1):
        sha, _, index_text = copy.copy_key.partition(":")
        index = int(index_text)
        if sha not in extractions:
            extractions[sha] = ledger.extraction_for(sha)
        extraction = extractions[sha]
        flow.append(_p(f"Copy {n} of {len(story.copies)}: {copy.copy_key}", styles.h2))
        rule = RULES.get(copy.rule, copy.rule)
        flow.append(
            _p(
                f"Grouping: {copy.rule} (score {copy.score:.0f}){' - the founding copy' if copy.founding else ''}: "
                f"{rule}. Form {copy.form_type}{'; a cancellation notice' if copy.cancels_previous else ''}.",
                styles.body,
            )
        )
        flow.append(_p("Arrivals of its document", styles.h3))
        header = ["channel", "station", "received", "file name", "SHA-256", "bytes"]
        if include_pii:
            header += ["sender", "message id"]
        rows = []
        for a in shown["arrivals"]:
            row = [a["channel"], a["station"] or "", _local(a["received_at"], zone), a["file_name"], a["sha256"],
                   a["size"]]
            if include_pii:
                row += [a.get("sender") or "", a.get("message_id") or ""]
            rows.append(row)
        widths = [0.9, 0.5, 1.1, 1.3, 2.4, 0.5] if not include_pii else [0.8, 0.4, 0.9, 0.9, 1.5, 0.4, 0.8, 0.8]
        flow.append(_table(header, rows, styles, [w * inch for w in widths]))
        if extraction is None:
            flow.append(_p("The ledger holds no reading of this document (quarantined or not yet read).", styles.body))
            continue
        detainer = extraction.detainers[index] if index < len(extraction.detainers) else None
        flow.append(_p("Fax headers and pages, as parsing read them", styles.h3))
        page_rows = [
            [
                p.page,
                str(p.kind),
                "text layer" if p.text_layer else "OCR of its bands" if p.looked else "OCR",
                "" if p.mean_confidence is None else f"{p.mean_confidence:.2f}",
                p.fax_sender_number or "",
                _local(p.fax_sent_at, zone) if p.fax_sent_at else "",
            ]
            for p in extraction.pages
        ]
        flow.append(
            _table(["page", "kind", "read from", "confidence", "fax sender number", "fax sent at"], page_rows, styles)
        )
        if detainer is not None and (detainer.fax_sender_number or detainer.fax_sent_at):
            flow.append(
                _p(
                    f"The copy's fax header: sender {detainer.fax_sender_number or '-'}, sent "
                    f"{_local(detainer.fax_sent_at, zone) if detainer.fax_sent_at else '-'}.",
                    styles.body,
                )
            )
        flow.append(_p("Fields read (numbers: the boxes on the page images; values with corrections applied)",
                       styles.h3))
        evidence = dict(detainer.evidence) if detainer is not None else {}
        numbers.setdefault(sha, {})[index] = number
        field_rows, number = _field_rows(copy.fields, evidence, number, include_pii)
        flow.append(
            _table(["#", "field", "value", "confidence", "page"], field_rows, styles,
                   [w * inch for w in (0.35, 1.9, 3.3, 0.75, 0.5)])
        )

    # ---- decisions and dispositions (application.audit's story)
    flow.append(_p("Decisions (every operator act on the request or its copies)", styles.h2))
    decision_rows = [
        [
            _local(act["at"], zone),
            act["kind"],
            act["subject"],
            act["field"] or "",
            change_text(act),
            act["who"],
            f"{act['os_user'] or '?'}@{act['host'] or '?'}" if act["os_user"] or act["host"] else "(before 0004)",
            act["why"] or "",
        ]
        for act in told["decisions"]
    ]
    if decision_rows:
        flow.append(
            _table(["when", "kind", "subject", "field", "change", "who", "os user@host", "why"], decision_rows,
                   styles, [w * inch for w in (0.85, 0.7, 1.2, 0.7, 1.2, 0.8, 0.8, 0.75)])
        )
    else:
        flow.append(_p("No operator act recorded.", styles.body))
    flow.append(_p("Disposition history", styles.h3))
    history = [
        [_local(d["at"], zone), d["outcome"] or "", d["reimbursement"] or "", d["who"], d["note"] or "", d["why"] or "",
         d["request_id"]]
        for d in told["disposition_history"]
    ]
    if history:
        flow.append(_table(["when", "outcome", "reimbursement", "who", "note", "why", "recorded under"], history,
                           styles))
    else:
        flow.append(_p("No disposition recorded.", styles.body))

    # ---- the page images, each written to a private temporary file that reportlab reads as it
    # draws the page: memory holds one page image at a time, whatever the documents' length
    with tempfile.TemporaryDirectory(prefix="evidence-") as tmp:  # 0700: the images are evidence
        images: list[Flowable] = []
        notes: list[Flowable] = []
        for sha, extraction in extractions.items():
            if extraction is None:
                continue
            boxes = _boxes(extraction, numbers.get(sha, {}))
            content: bytes | None
            problem = None
            try:
                content = archive.load(sha)
            except FileNotFoundError:
                content, problem = None, "the document is missing from the archive"
            except ArchiveCorrupt:
                content, problem = None, "the archived bytes no longer match the document's SHA-256 (archive verify)"
            text_layer = {p.page: p.text_layer for p in extraction.pages}
            for page in extraction.pages:
                shown_page = PageShown(sha, page.page, str(page.kind))
                packet.pages.append(shown_page)
                ours = [b for b in boxes.get(page.page, []) if b.number is not None]
                caption = f"page {page.page} of {len(extraction.pages)} ({page.kind}) of document {sha}"
                if problem is not None:
                    shown_page.withheld = problem
                elif not include_pii and not ours:
                    shown_page.withheld = "no field of the request was read on it (a redacted packet withholds it)"
                if shown_page.withheld is not None:
                    notes.append(_p(f"Page image withheld: {caption}: {shown_page.withheld}.", styles.body))
                    continue
                assert content is not None
                try:
                    image = render_page(content, page.page, text_layer.get(page.page, False), parsing)
                except IntakeError as exc:  # a render over its time or memory bound: said, not fatal
                    shown_page.withheld = f"it could not be rendered ({type(exc).__name__})"
                    notes.append(_p(f"Page image withheld: {caption}: {shown_page.withheld}.", styles.body))
                    continue
                drawn = draw_boxes(image, boxes.get(page.page, []), include_pii)
                path = Path(tmp) / f"page-{len(packet.pages):05d}.png"
                drawn.save(path, format="PNG")
                width, height = letter[0] - 1.0 * inch, letter[1] - 2.0 * inch  # the frame, less the caption
                scale = min(width / drawn.width, height / drawn.height)
                images.append(PageBreak())
                images.append(
                    KeepTogether(
                        [
                            _p(f"Page image: {caption}", styles.h3),
                            PdfImage(str(path), width=drawn.width * scale, height=drawn.height * scale),
                        ]
                    )
                )
                del image, drawn
        flow.append(_p("Received pages", styles.h2))
        flow.append(
            _p(
                f"{packet.page_images} page image(s) follow, as parsing saw each page; the red boxes are where the "
                "fields were read, numbered as in the fields tables"
                + ("." if include_pii else "; the subject's personal fields are blacked out."),
                styles.body,
            )
        )
        flow += notes + images
        buffer = io.BytesIO()
        pages_seen: list[int] = []

        def _footer(canvas: Any, doc: Any) -> None:
            pages_seen.append(doc.page)
            canvas.saveState()
            canvas.setFont(styles.bold, 7)
            canvas.drawString(0.5 * inch, 0.35 * inch, f"Evidence packet {request_id}" + (
                " - contains personal data" if include_pii else " - redacted"))
            canvas.drawRightString(letter[0] - 0.5 * inch, 0.35 * inch, f"page {doc.page}")
            canvas.restoreState()

        doc = SimpleDocTemplate(
            buffer,
            pagesize=letter,
            leftMargin=0.5 * inch,
            rightMargin=0.5 * inch,
            topMargin=0.5 * inch,
            bottomMargin=0.6 * inch,
            title=f"Evidence packet {request_id}",
            author="detainer-intake",
            subject="Immigration detainer request: received copies, readings and decisions",
            creator=f"detainer-intake {software_version()}",
        )
        doc.build(flow, onFirstPage=_footer, onLaterPages=_footer)
        write_private(Path(out), buffer.getvalue())
        packet.pdf_pages = len(pages_seen)
        return packet
