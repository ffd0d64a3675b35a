"""One instance of the held-out family, drawn from a seed: about 60 inputs over the five
categories, with a truth in the shape of sample_faxes/truth.json's receipts."""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image

from bench.heldout import forms, transmit
from bench.heldout.fonts import PDF_FACES, check_fonts
from bench.heldout.page import Page, pdf_with_text
from bench.heldout.values import Detainer, make_detainer

DEFAULT_SEED = "dev"
ZONE = ZoneInfo("America/New_York")  # the department's zone: fax header times are local to it
LANGS = ("en", "es", "fr", "pt", "ht")
DECOYS = ("court", "warrant", "booking", "letter")
# (category, format, resolution, kind, count); kind "unreadable" = a detainer packet whose page 1
# cannot be read (destroyed or missing) while its warrant and notice pages are there.
PLAN: tuple[tuple[str, str, str | None, str, int], ...] = (
    ("fine_fax", "tiff_g4", "fine", "detainer", 10), ("fine_fax", "tiff_g3", "fine", "detainer", 3),
    ("fine_fax", "pdf_image", "fine", "detainer", 3), ("fine_fax", "tiff_g4", "fine", "decoy", 2),
    ("fine_fax", "pdf_image", "fine", "decoy", 1), ("fine_fax", "tiff_g4", "fine", "unreadable", 2),
    ("fine_fax", "pdf_image", "fine", "missing_p1", 1),
    ("standard_fax", "tiff_g3", "standard", "detainer", 4), ("standard_fax", "tiff_g4", "standard", "detainer", 2),
    ("standard_fax", "pdf_image", "standard", "detainer", 2), ("standard_fax", "tiff_g3", "standard", "decoy", 2),
    ("standard_fax", "tiff_g3", "standard", "unreadable", 1), ("standard_fax", "tiff_g4", "standard", "missing_p1", 1),
    ("born_digital_pdf", "pdf_text", None, "detainer", 7), ("born_digital_pdf", "pdf_text", None, "decoy", 2),
    ("scanned_pdf", "pdf_scan_gray", None, "detainer", 7), ("scanned_pdf", "pdf_scan_gray", None, "decoy", 1),
    ("scanned_pdf", "pdf_scan_gray", None, "unreadable", 1),
    ("photo", "jpeg_photo", None, "detainer", 5), ("photo", "png_photo", None, "detainer", 2),
    ("photo", "jpeg_photo", None, "decoy", 1),
)


@dataclass
class HeldoutInput:
    receipt: dict[str, Any]
    content: bytes

    @property
    def id(self) -> str:
        return str(self.receipt["id"])

    @property
    def category(self) -> str:
        return str(self.receipt["category"])


@dataclass
class _Sheet:
    page: Page
    kind: str  # PageKind value
    rotation: int = 0  # clockwise as stored
    legible: bool = True
    in_packet: bool = False


def plan() -> list[tuple[str, str, str, str | None, str]]:
    """(id, category, format, resolution, kind) of every input of a family instance."""
    rows, number = [], 0
    for category, fmt, resolution, kind, count in PLAN:
        for _ in range(count):
            number += 1
            rows.append((f"H{number:03d}", category, fmt, resolution, kind))
    return rows


def generate(seed: str = DEFAULT_SEED, only: set[str] | None = None) -> list[HeldoutInput]:
    """Every input of the family instance `seed`, in a fixed order (ids H001...). `only` skips
    drawing the others (their random draws still happen, so ids and contents do not move)."""
    check_fonts()
    rng = random.Random(f"heldout-family:{seed}")
    items = []
    for rid, category, fmt, resolution, kind in plan():
        sub = random.Random(f"{seed}:{rid}:{rng.random()}")
        if only is not None and rid not in only:
            continue
        items.append(_make(rid, category, fmt, resolution, kind, sub))
    return items


def _make(rid: str, category: str, fmt: str, resolution: str | None, kind: str, rng: random.Random) -> HeldoutInput:
    born_digital = fmt == "pdf_text"
    st = forms.Style.pick(rng, PDF_FACES if born_digital else forms.FILL_FACES)
    d = make_detainer(rng)
    sheets = _sheets(kind, fmt, d, st, rng)
    fine = resolution != "standard"
    header_style = rng.choice(("hylafax", "tti", "server"))
    header_face = rng.choice(("nimbus_mono", "free_mono", "nimbus_sans"))
    has_header = not born_digital
    total = len(sheets)
    if born_digital:
        content = pdf_with_text([s.page for s in sheets])
    elif category == "photo":
        sheet = sheets[0]
        sent_pages = rng.choice((3, 4, 5))  # the fax the printout came from had more pages
        header = transmit.header_text(header_style, d.sender_number, d.sender_tsi, d.sent_local, 1, sent_pages, rng)
        sheet.page.text(30, 14, header, header_face, 7.5)
        rotation = rng.choice((0, 0, 0, 90))
        sheet.rotation = rotation
        img = transmit.phone_photo(sheet.page, rng, rotation)
        buf = io.BytesIO()
        if fmt == "jpeg_photo":
            img.save(buf, format="JPEG", quality=rng.randrange(72, 90))
        else:
            img.save(buf, format="PNG")
        content = buf.getvalue()
        total = 1
    else:
        images = []
        for i, sheet in enumerate(sheets, 1):
            header = transmit.header_text(header_style, d.sender_number, d.sender_tsi, d.sent_local, i, total, rng)
            content_rot = 180 if category != "scanned_pdf" and rng.random() < 0.07 else 0
            img = transmit.fax_image(sheet.page, fine, header, content_rot, header_face)
            img = transmit.degrade_fax(img, rng, heavy=not sheet.legible)
            sheet.rotation = content_rot
            if category == "scanned_pdf":
                rotation = rng.choice((0,) * 7 + (90, 180, 270))
                sheet.rotation = rotation
                images.append(transmit.grey_scan(img, fine, rng, rotation))
            else:
                images.append(img)
        if fmt == "tiff_g4":
            content = transmit.tiff_bytes(images, fine, "group4")
        elif fmt == "tiff_g3":
            content = transmit.tiff_bytes(images, fine, "group3")
        elif fmt == "pdf_image":
            content = transmit.image_pdf_bytes(images, (204, 196 if fine else 98))
        else:
            content = _jpeg_pdf(images)
    receipt = _receipt(rid, category, fmt, resolution, kind, sheets[:total], d, has_header, content)
    return HeldoutInput(receipt, content)


def _sheets(kind: str, fmt: str, d: Detainer, st: forms.Style, rng: random.Random) -> list[_Sheet]:
    if kind == "decoy":
        sheets = [_Sheet(p, "other") for p in forms.decoy_pages(st, rng, rng.choice(DECOYS), d)]
        if fmt != "pdf_text" and rng.random() < 0.4:
            sheets.insert(0, _Sheet(forms.cover_page(st, rng, d.sender_tsi, len(sheets) + 1, False), "fax_cover"))
        return sheets
    langs = list(LANGS[1:])
    rng.shuffle(langs)
    packet = [_Sheet(forms.detainer_p1(d, st, rng), "detainer_p1", legible=kind != "unreadable", in_packet=True),
              _Sheet(forms.notice_page(st, d.edition, 2, ["en", langs[0]]), "detainee_notice", in_packet=True),
              _Sheet(forms.notice_page(st, d.edition, 3, langs[1:3]), "detainee_notice", in_packet=True)]
    if kind in ("unreadable", "missing_p1") or rng.random() < 0.92:
        assert d.warrant is not None
        warrant = _Sheet(forms.warrant_page(d, st, d.warrant, rng), d.warrant.replace("-", "").lower(), in_packet=True)
        packet.insert(0, warrant) if rng.random() < 0.1 else packet.append(warrant)
    else:
        d.warrant = None
    if kind == "missing_p1":
        packet = [s for s in packet if s.kind != "detainer_p1"]
    if fmt not in ("pdf_text", "jpeg_photo", "png_photo") and rng.random() < 0.45:
        words = kind in ("unreadable", "missing_p1") or rng.random() < 0.5
        packet.insert(0, _Sheet(forms.cover_page(st, rng, d.sender_tsi, len(packet) + 1, words), "fax_cover"))
    if fmt in ("jpeg_photo", "png_photo"):  # a picture of page 1 alone
        packet = [s for s in packet if s.kind == "detainer_p1"]
        d.warrant = None
    return packet


def _jpeg_pdf(images: list[Image.Image]) -> bytes:
    return transmit.image_pdf_bytes([img.convert("L") for img in images], (200, 200))


def _receipt(rid: str, category: str, fmt: str, resolution: str | None, kind: str, sheets: list[_Sheet],
             d: Detainer, has_header: bool, content: bytes) -> dict[str, Any]:
    pages = [{"page": i, "kind": s.kind, "rotation": s.rotation, **({} if s.legible else {"legible": False})}
             for i, s in enumerate(sheets, 1)]
    detainers = []
    if kind == "detainer":
        source = [i for i, s in enumerate(sheets, 1) if s.in_packet]
        sent = d.sent_local.replace(tzinfo=ZONE).astimezone(UTC) if has_header else None
        detainers.append({
            "form_type": "I-247A", "form_revision": d.edition, "subject_id": d.subject_id,
            "event_number": d.event_number, "file_number": f"A{d.a_digits}", "issued_date": d.issued.isoformat(),
            "to_institution": ", ".join(d.to_lines), "from_office": ", ".join(d.from_lines),
            "subject_name": d.name, "date_of_birth": d.dob.isoformat(), "citizenship": d.citizenship,
            "sex": d.sex, "probable_cause": d.probable_cause, "transferred_for_proceeding": d.transferred,
            "requested_actions": d.actions, "cancels_previous": d.cancels is not None,
            "cancelled_detainer_date": d.cancels.isoformat() if d.cancels else None,
            "officer_name": d.officer, "officer_title": d.officer_title, "warrant_form": d.warrant,
            "fax_sender_number": d.sender_number if has_header else None,
            "fax_sent_at": sent.strftime("%Y-%m-%dT%H:%M:%SZ") if sent else None,
            "source_pages": source,
        })
    return {
        "id": rid, "channel": "heldout", "category": category, "format": fmt, "resolution": resolution,
        "kind": "decoy" if kind == "decoy" else "detainer", "broken_reason": None,
        # a detainer packet nothing can be extracted from: the extractor must at least flag it
        "unreadable_detainer": kind in ("unreadable", "missing_p1"),
        "sha256": hashlib.sha256(content).hexdigest(), "size": len(content),
        "pages": pages, "detainers": detainers,
    }
