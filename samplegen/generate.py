"""Renders the whole corpus: every receipt's bytes, the Maildir, the sidecars and truth.json.

Deterministic: each document draws from random generators seeded by
``(seed, document label)``, nothing reads the clock, reportlab runs in invariant
mode, PDFs carry no dates, e-mail boundaries and Message-IDs are fixed, and every
file's mtime is set from the scenario (see :mod:`samplegen.mtimes`). Receipts are
rendered in parallel worker processes; the result does not depend on the order.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from samplegen import fax, forms, mail
from samplegen.scenario import (
    DEDICATED_NUMBER,
    STATION_NUMBERS,
    ReceiptPlan,
    Scenario,
    build_scenario,
)
from samplegen.truth import build_truth, iso_utc

EFAX_NUMBER = "+16175550199"
MANAGED = ("dedicated", "stations", "mailbox", "truth.json")


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(map(str, (seed, *parts))))


def _nrng(seed: int, *parts: object) -> np.random.Generator:
    h = hashlib.sha256(":".join(map(str, (seed, *parts))).encode()).digest()
    return np.random.default_rng(int.from_bytes(h[:8], "big"))


def _draw_key(r: ReceiptPlan, i: int) -> str:
    p = r.pages[i]
    if p.detainer is not None and p.detainer.request_id and p.draw != "cover":
        return f"{p.detainer.request_id}:{p.draw}"
    return f"{r.label}:{i}:{p.draw}"


def _ctx(r: ReceiptPlan) -> dict[str, Any]:
    return {"date": r.received_local.date(), "total_pages": r.header_total or len(r.pages), "station": r.station}


def fax_pages(r: ReceiptPlan, seed: int, resolution: str | None = None) -> list[Image.Image]:
    """The receipt's pages as received bilevel fax images (with header lines when it has a sender)."""
    res = resolution or r.resolution or "fine"
    rng = _rng(seed, "fax", r.label)
    total = r.header_total or len(r.pages)
    numbers = r.header_pages or list(range(1, len(r.pages) + 1))
    to_number = {"dedicated_fax": DEDICATED_NUMBER, "station_fax": STATION_NUMBERS.get(r.station or "", ""),
                 "bfs_email": EFAX_NUMBER}[r.channel]
    txn, fcode = rng.randint(100, 999), rng.randint(10, 99)
    noise = rng.uniform(0.6, 1.3)
    out = []
    for i, page in enumerate(r.pages):
        clean = forms.render_page_image(page, _rng(seed, "draw", _draw_key(r, i)), _ctx(r))
        header = None
        if r.sender is not None and r.sent_local is not None:
            header = fax.header_fields(r.sender, r.sent_local, numbers[i], total, to_number, txn, fcode)
        out.append(fax.fax_page(clean, _rng(seed, "deg", r.label, i), _nrng(seed, "deg", r.label, i),
                                resolution=res, header=header, fed_upside_down=page.fed_upside_down, noise=noise))
    return out


def text_pdf(r: ReceiptPlan, seed: int) -> bytes:
    from reportlab.pdfgen import canvas as rl_canvas

    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=(forms.PAGE_W, forms.PAGE_H), invariant=1, pageCompression=1)
    det = next((p.detainer for p in r.pages if p.detainer is not None), None)
    if det is not None and r.kind != "decoy":
        c.setTitle("DHS Form I-247A")
        c.setAuthor(det.officer_name)
        c.setCreator("DHS Forms (fillable PDF) - sample")
    else:
        c.setCreator("Microsoft Word - sample")
    s = forms.PdfSurface(c)
    for i, page in enumerate(r.pages):
        forms.draw_page(s, page, _rng(seed, "draw", _draw_key(r, i)), _ctx(r))
        c.showPage()
    c.save()
    return buf.getvalue()


def encrypt_pdf(data: bytes) -> bytes:
    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="ero-owner-2025", user="Detainer#0722", R=4, aes=False,
                                                    metadata=False), static_id=True)
    return out.getvalue()


def docx_bytes() -> bytes:
    """A minimal Word document (a draft detainer request letter), fixed zip timestamps."""
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="word/document.xml"/></Relationships>'),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
            + "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{t}</w:t></w:r></w:p>" for t in (
                "U.S. Immigration and Customs Enforcement - Newark Area of Responsibility",
                "DRAFT - request for notification of release",
                "The subject named in the attached record is believed to be in your custody.",
                "Please notify ERO Newark prior to release. Form I-247A to follow by fax.",
            ))
            + "</w:body></w:document>"),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            zi = zipfile.ZipInfo(name, date_time=(2025, 10, 21, 10, 12, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, text)
    return buf.getvalue()


def sidecar_text(r: ReceiptPlan, npages: int) -> str:
    """faxinfo-style metadata the fax server writes next to its PDFs."""
    assert r.sender is not None
    dur = 35 + 22 * npages
    rows = [
        ("Sender", r.sender.tsi),
        ("Pages", str(npages)),
        ("Quality", "Fine" if r.resolution == "fine" else "Normal"),
        ("Size", "North American Letter"),
        ("Received", r.received_local.strftime("%Y:%m:%d %H:%M:%S")),
        ("TimeToRecv", f"{dur // 60}:{dur % 60:02d}"),
        ("SignalRate", "14400 bit/s"),
        ("DataFormat", "2-D MMR"),
        ("ErrCorrect", "Yes"),
        ("CallID1", r.sender.number.lstrip("+")[1:]),
        ("CallID2", r.sender.name),
    ]
    name = r.file_name
    return f"{name}:\n" + "".join(f"{k:>14}: {v}\n" for k, v in rows)


def render_receipt(args: tuple[ReceiptPlan, int]) -> tuple[str, bytes, str | None]:
    """(receipt id, bytes, sidecar text or None)."""
    r, seed = args
    rng = _rng(seed, "file", r.label)
    fmt = r.fmt
    side = None
    if fmt in ("tiff_g4", "tiff_g3", "tiff_lzw", "truncated_tiff"):
        pages = fax_pages(r, seed)
        comp = {"tiff_g4": "g4", "tiff_g3": "g3", "tiff_lzw": "lzw", "truncated_tiff": "g4"}[fmt]
        if r.channel == "dedicated_fax":
            data = fax.write_tiff(pages, comp, r.resolution or "fine",
                                  datetime_tag=r.received_local.strftime("%Y:%m:%d %H:%M:%S"),
                                  description=r.sender.tsi if r.sender else None,
                                  software="HylaFAX (tm) Version 7.0.7")
        else:
            data = fax.write_tiff(pages, comp, r.resolution or "fine")
        if r.truncate:
            data = fax.truncate_tiff(data)
    elif fmt == "pdf_image":
        pages = fax_pages(r, seed)
        dpi = fax.FINE_DPI if r.resolution == "fine" else fax.STANDARD_DPI
        producer = {"dedicated_fax": "tiff2pdf - libtiff (HylaFAX)", "station_fax": "FaxExport PDF (sample)",
                    "bfs_email": "eFax PDF Converter (sample)"}[r.channel]
        data = fax.write_image_pdf(pages, dpi, producer=producer)
        if r.channel == "dedicated_fax":
            side = sidecar_text(r, len(pages))
    elif fmt == "pdf_scan_gray":
        res = rng.choice(["fine", "standard"])
        pages = fax_pages(r, seed, res)
        scans = [fax.scan_gray(p, res, _rng(seed, "scan", r.label, i), _nrng(seed, "scan", r.label, i),
                               r.pages[i].rotation) for i, p in enumerate(pages)]
        data = fax.write_image_pdf(scans, (150, 150), quality=60, producer="Scan to Folder (sample MFP)")
    elif fmt in ("jpeg_photo", "png_photo"):
        res = rng.choice(["fine", "standard"])
        pages = fax_pages(r, seed, res)
        if fmt == "jpeg_photo":
            img = fax.phone_photo(pages[0], res, _rng(seed, "photo", r.label), _nrng(seed, "photo", r.label),
                                  r.pages[0].rotation)
            data = fax.encode_jpeg(img)
        else:
            img = fax.phone_photo(pages[0], res, _rng(seed, "photo", r.label), _nrng(seed, "photo", r.label),
                                  r.pages[0].rotation, size=(1080, 1440), gray=True)
            data = fax.encode_png(img)
    elif fmt == "pdf_text":
        data = text_pdf(r, seed)
    elif fmt == "encrypted_pdf":
        data = encrypt_pdf(text_pdf(r, seed))
    elif fmt == "empty_pdf":
        data = b""
    elif fmt == "docx":
        data = docx_bytes()
    else:  # pragma: no cover
        raise ValueError(fmt)
    return r.id, data, side


def _clean(out: Path) -> None:
    for name in MANAGED:
        p = out / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def _write(path: Path, data: bytes, mtime: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


def generate(out: Path, seed: int = 2025, workers: int | None = None) -> dict[str, Any]:
    """Write the corpus under ``out`` and return the truth document."""
    sc: Scenario = build_scenario(seed)
    forms.font_path("sans")  # fail early, with a clear message, when fonts are missing
    jobs = [(r, seed) for r in sc.receipts if not r.same_bytes_as]
    workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as ex:
            results = list(ex.map(render_receipt, jobs, chunksize=1))
    else:
        results = [render_receipt(j) for j in jobs]
    contents: dict[str, bytes] = {rid: data for rid, data, _ in results}
    sidecars = {rid: side for rid, _, side in results if side}
    by_label = {r.label: r for r in sc.receipts}
    for r in sc.receipts:
        if r.same_bytes_as:
            contents[r.id] = contents[by_label[r.same_bytes_as].id]

    out.mkdir(parents=True, exist_ok=True)
    _clean(out)
    for r in sc.receipts:
        if r.message_key:
            continue
        t = r.received_local.timestamp()
        _write(out / r.path, contents[r.id], t)
        if r.id in sidecars:
            _write(out / (r.path + ".info"), sidecars[r.id].encode(), t)

    # mail
    receipts_by_label = {r.label: r for r in sc.receipts}
    data_by_label = {r.label: contents[r.id] for r in sc.receipts}
    originals: dict[str, Any] = {}
    messages: list[dict[str, Any]] = []
    for d in ("cur", "new", "tmp"):
        (out / "mailbox" / d).mkdir(parents=True, exist_ok=True)
    for n, mp in enumerate(sc.messages, 1):
        msg = mail.build_message(mp, n, receipts_by_label, data_by_label, originals)
        originals[mp.key] = msg
        _write(out / mp.path, mail.message_bytes(msg), mp.received_local.timestamp())
        messages.append({
            "key": mp.key,
            "path": mp.path,
            "message_id": mp.message_id,
            "from": mp.from_addr,
            "subject": mp.subject,
            "received_at": iso_utc(mp.received_local),
            "forwarded": mp.forwarded_of is not None,
            "receipts": [receipts_by_label[label].id for label in mp.attachments],
            "no_document": mp.no_document,
        })

    truth = build_truth(sc, contents, messages)
    (out / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return truth
