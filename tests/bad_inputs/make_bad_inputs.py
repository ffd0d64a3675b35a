"""The bad-input corpus: every input here must be quarantined (or refused) with a clear reason.

Small inputs are committed next to this script (``python tests/bad_inputs/make_bad_inputs.py``
rewrites them, byte for byte: no randomness without a seed, no clock). Big ones (thousands
of pages, 50 MB, noise scans) are only ever generated at test time, into a temporary folder,
by ``write_big(folder)``, so the repository stays small.

``EXPECTED`` maps each file name to the reason slug parsing must give it
(``ExtractionResult.error_reason``); ``MAIL_EXPECTED`` does the same for the e-mail messages
(what the mailbox channel makes of them).
"""

from __future__ import annotations

import base64
import io
import struct
import sys
import zipfile
from email.message import EmailMessage
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAIL_DATE = "Tue, 04 Mar 2025 10:15:00 -0500"
RECEIVED = "Received: from mx.dhs.example by mail.dept.example; Tue, 04 Mar 2025 10:15:02 -0500"


# --------------------------------------------------------------------------- building blocks


def blank_png(width: int = 850, height: int = 1100, dpi: int = 100) -> bytes:
    """A white page (a valid document: read fine, no detainer on it)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (width, height), 1).save(buffer, "PNG", dpi=(dpi, dpi))
    return buffer.getvalue()


def text_png(
    lines: tuple[str, ...] = ("FAX TRANSMITTAL", "To: Booking Desk", "Re: delivery report"),
    width: int = 700,
    height: int = 360,
) -> bytes:
    """A small page with a few printed lines (a readable document with no detainer on it)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=36)
    for row, line in enumerate(lines):
        draw.text((40, 40 + row * 90), line, fill=0, font=font)
    buffer = io.BytesIO()
    image.convert("1").save(buffer, "PNG", dpi=(200, 200))
    return buffer.getvalue()


def small_pdf(width_pt: float = 612, height_pt: float = 792, pages: int = 1, text: str = "") -> bytes:
    """A PDF of blank pages (optionally with a line of text), via pikepdf."""
    import pikepdf

    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(width_pt, height_pt))
    if text:
        font = pdf.make_indirect(
            pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
        )
        page = pdf.pages[0]
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.obj.Contents = pdf.make_stream(f"BT /F1 12 Tf 72 700 Td ({text}) Tj ET".encode())
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True)
    return buffer.getvalue()


def g4_tiff(width: int, height: int, pages: int = 1) -> bytes:
    """A bilevel (CCITT G4) TIFF of white pages: tiny on disk, ``width x height`` pixels decoded."""
    from PIL import Image

    frames = [Image.new("1", (width, height), 1) for _ in range(pages)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", compression="group4", dpi=(204, 196), save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def _ifd_entry(tag: int, kind: int, count: int, value: int) -> bytes:
    return struct.pack("<HHII", tag, kind, count, value)


def _classic_tiff(entries: list[bytes], next_ifd: int = 0, tail: bytes = b"") -> bytes:
    """A little-endian classic TIFF whose first IFD (at 8) holds ``entries`` as given, however wrong."""
    ifd = struct.pack("<H", len(entries)) + b"".join(entries) + struct.pack("<I", next_ifd)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + tail


def _picture_entries(width: int = 1728, height: int = 2200, compression: int = 4, strip_at: int = 4096) -> list[bytes]:
    return [
        _ifd_entry(256, 4, 1, width),  # ImageWidth
        _ifd_entry(257, 4, 1, height),  # ImageLength
        _ifd_entry(258, 3, 1, 1),  # BitsPerSample
        _ifd_entry(259, 3, 1, compression),  # Compression
        _ifd_entry(262, 3, 1, 0),  # Photometric
        _ifd_entry(273, 4, 1, strip_at),  # StripOffsets
        _ifd_entry(278, 4, 1, height),  # RowsPerStrip
        _ifd_entry(279, 4, 1, 64),  # StripByteCounts
    ]


# Headers that lie: offsets past the end or beyond any integer a reader can index with, counts that
# claim gigabytes, loops. Found in decoder fuzzing corpora; each must cost one quarantine record.
HOSTILE_TIFF_HEADERS: dict[str, object] = {
    "bigtiff_ifd_offset_huge.tif": lambda: b"II+\x00\x08\x00\x00\x00" + struct.pack("<Q", 2**63 + 5),
    "bigtiff_ifd_offset_max_be.tif": lambda: b"MM\x00+\x00\x08\x00\x00" + struct.pack(">Q", 2**64 - 1),
    "bigtiff_bad_offset_size.tif": lambda: b"II+\x00\x04\x00\x00\x00" + struct.pack("<Q", 16) + bytes(16),
    "bigtiff_entry_count_huge.tif": lambda: b"II+\x00\x08\x00\x00\x00"
    + struct.pack("<QQ", 16, 2**63)
    + bytes(40),
    "tiff_ifd_offset_past_end.tif": lambda: b"II*\x00" + struct.pack("<I", 0xFFFFFFF0) + bytes(8),
    "tiff_ifd_offset_zero.tif": lambda: b"II*\x00" + struct.pack("<I", 0) + bytes(8),
    "tiff_ifd_loop.tif": lambda: _classic_tiff(_picture_entries(), next_ifd=8),
    "tiff_entry_count_max.tif": lambda: b"II*\x00" + struct.pack("<IH", 8, 0xFFFF) + bytes(24),
    "tiff_ascii_count_huge.tif": lambda: _classic_tiff([_ifd_entry(306, 2, 0xFFFFFFFF, 8), *_picture_entries()]),
    "tiff_strip_past_end.tif": lambda: _classic_tiff(_picture_entries(strip_at=0xFFFFFF00)),
    "tiff_zero_width.tif": lambda: _classic_tiff(_picture_entries(width=0), tail=bytes(4096)),
    "tiff_unknown_compression.tif": lambda: _classic_tiff(_picture_entries(compression=65000), tail=bytes(4096)),
    "tiff_dimensions_huge.tif": lambda: _classic_tiff(_picture_entries(0xFFFFFFFF, 0xFFFFFFFF), tail=bytes(4096)),
}


def encrypted_pdf() -> bytes:
    import pikepdf

    source = pikepdf.open(io.BytesIO(small_pdf(text="I-247A")))
    buffer = io.BytesIO()
    source.save(
        buffer,
        encryption=pikepdf.Encryption(owner="owner-secret", user="user-secret", R=3, aes=False, metadata=False),
        static_id=True,
    )
    return buffer.getvalue()


def docx() -> bytes:
    """A minimal Office Open XML document (a ZIP container)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in (
            (
                "[Content_Types].xml",
                '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
            ),
            (
                "word/document.xml",
                '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>draft</w:t></w:r></w:p></w:body></w:document>',
            ),
        ):
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            archive.writestr(info, body)
    return buffer.getvalue()


def exe() -> bytes:
    """The start of a Windows PE executable (MZ header, DOS stub)."""
    stub = b"This program cannot be run in DOS mode.\r\r\n$"
    header = bytearray(128)
    header[0:2] = b"MZ"
    header[0x3C:0x40] = (128).to_bytes(4, "little")
    return bytes(header) + stub + b"\x00" * 16 + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 256


def html() -> bytes:
    return (
        b"<!DOCTYPE html>\n<html><head><title>Fax delivery report</title></head>\n"
        b"<body><p>Your fax could not be delivered.</p></body></html>\n"
    )


def truncate(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


def multipage_tiff_for_truncation() -> bytes:
    """A 3-page fax-sized G4 TIFF whose later pages lie beyond the cut."""
    return g4_tiff(1728, 2200, pages=3)


# --------------------------------------------------------------------------- e-mail messages


def _base_message(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "ero.boston@ice.dhs.example"
    message["To"] = "bfs@dept.example"
    message["Subject"] = subject
    message["Date"] = MAIL_DATE
    message["Message-ID"] = f"<{subject.lower().replace(' ', '-')}@ice.dhs.example>"
    message.set_content("Please see the attached.")
    return message


def _fix_boundaries(message: EmailMessage, prefix: str = "part") -> None:
    """Deterministic boundaries (the email package draws random ones)."""
    for number, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"{prefix}-{number}")


def _serialise(message: EmailMessage) -> bytes:
    return (RECEIVED + "\n").encode() + message.as_bytes()


def mail_broken_structure() -> bytes:
    """multipart/mixed whose body has no delimiter line at all (nothing to re-split on)."""
    return (
        RECEIVED + "\n"
        "From: ero.boston@ice.dhs.example\nTo: bfs@dept.example\nSubject: broken structure\n"
        f"Date: {MAIL_DATE}\nMessage-ID: <broken-structure@ice.dhs.example>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="zzzz-never-used"\n\n'
        "This body should have been split into parts but carries no delimiter.\n"
        "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(small_pdf()).decode()
    ).encode()


def mail_missing_boundary() -> bytes:
    """multipart/mixed without a boundary parameter; the delimiter lines are in the body."""
    attachment = base64.encodebytes(text_png(("FAX TRANSMITTAL", "Missing boundary", "Page 1 of 1"))).decode()
    return (
        RECEIVED + "\n"
        "From: ero.boston@ice.dhs.example\nTo: bfs@dept.example\nSubject: missing boundary\n"
        f"Date: {MAIL_DATE}\nMessage-ID: <missing-boundary@ice.dhs.example>\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed\n\n"
        "--b1\nContent-Type: text/plain\n\nPlease see the attached.\n"
        '--b1\nContent-Type: image/png; name="notice.png"\nContent-Disposition: attachment; filename="notice.png"\n'
        "Content-Transfer-Encoding: base64\n\n" + attachment + "--b1--\n"
    ).encode()


def mail_undecodable_headers() -> bytes:
    """Raw 8-bit and invalid encoded-word headers (Subject, From, filename) around a good attachment."""
    attachment = base64.encodebytes(text_png(("FAX TRANSMITTAL", "Undecodable headers", "Page 1 of 1"))).decode()
    return (
        RECEIVED.encode() + b"\n"
        b"From: =?utf-8?B?!!!not-base64!!!?= <ero.boston@ice.dhs.example>\n"
        b"To: bfs@dept.example\nSubject: \xff\xfe\xfa undecodable =?x-unknown?Q?=FF=FE?=\n"
        + f"Date: {MAIL_DATE}\n".encode()
        + b"Message-ID: <undecodable-headers@ice.dhs.example>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b2"\n\n'
        b"--b2\nContent-Type: text/plain; charset=x-unknown-charset\n\n\xff\xfe body\n"
        b'--b2\nContent-Type: image/png\nContent-Disposition: attachment; filename="\xff\xfenotice.png"\n'
        b"Content-Transfer-Encoding: base64\n\n" + attachment.encode() + b"--b2--\n"
    )


def mail_hostile_names() -> bytes:
    """Attachments named with ../, control characters (RFC 2231-encoded) and 300 characters (readable pages)."""
    pages = [
        base64.encodebytes(text_png(("FAX TRANSMITTAL", f"Hostile name {n}", "Page 1 of 1"))).decode()
        for n in (1, 2, 3)
    ]
    names = (
        'filename="../../../../tmp/escape/I-247A.png"',
        "filename*=utf-8''I-247A%01%1B%5B2J%0D%0A%00.png",
        f'filename="{"A" * 296}.png"',
    )
    parts = "".join(
        f"--b3\nContent-Type: image/png\nContent-Disposition: attachment; {name}\n"
        f"Content-Transfer-Encoding: base64\n\n{page}"
        for name, page in zip(names, pages, strict=True)
    )
    return (
        RECEIVED + "\n"
        "From: ero.boston@ice.dhs.example\nTo: bfs@dept.example\nSubject: hostile names\n"
        f"Date: {MAIL_DATE}\nMessage-ID: <hostile-names@ice.dhs.example>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b3"\n\n'
        "--b3\nContent-Type: text/plain\n\nPlease see the attached.\n" + parts + "--b3--\n"
    ).encode()


def mail_with_attachment(size: int) -> bytes:
    """A message with one ``size``-byte attachment that claims to be a PDF (generated at test time)."""
    message = _base_message(f"attachment {size} bytes")
    body = b"%PDF-1.4\n" + b"0" * (size - 9)
    message.add_attachment(body, maintype="application", subtype="pdf", filename="scan.pdf")
    _fix_boundaries(message)
    return _serialise(message)


def mail_nested_too_deep(depth: int = 14) -> bytes:
    """A document forwarded ``depth`` times: deeper than the walker follows."""
    inner = _base_message("nested 0")
    inner.add_attachment(blank_png(200, 260), maintype="image", subtype="png", filename="notice.png")
    for level in range(1, depth):
        outer = _base_message(f"nested {level}")
        outer.add_attachment(inner)
        inner = outer
    _fix_boundaries(inner)
    return _serialise(inner)


# --------------------------------------------------------------------------- the corpus

# name -> (builder, parsing's error_reason)
SMALL: dict[str, tuple[object, str]] = {
    "empty.pdf": (lambda: b"", "empty"),
    "whitespace.tif": (lambda: b" \r\n\t\x00" * 64, "empty"),
    "truncated.pdf": (lambda: truncate(small_pdf(text="I-247A Immigration Detainer")), "truncated"),
    "truncated.tif": (lambda: truncate(multipage_tiff_for_truncation(), 0.4), "truncated"),
    "header_only.tif": (lambda: b"II*\x00\x08\x00\x00\x00", "truncated"),
    "header_only.png": (lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", "truncated"),
    "encrypted.pdf": (encrypted_pdf, "encrypted"),
    "huge_page.pdf": (lambda: small_pdf(200 * 72, 200 * 72), "too_large"),
    "bomb.tif": (lambda: g4_tiff(12_000, 12_000), "too_large"),  # 144 Mpx of white in a few KB
    "draft.docx": (docx, "unsupported_format"),
    "setup.exe": (exe, "unsupported_format"),
    "delivery_report.html": (html, "unsupported_format"),
    "broken_structure.eml": (mail_broken_structure, "malformed_message"),
    **{
        name: (build, "too_large" if name == "tiff_dimensions_huge.tif" else "truncated")
        for name, build in HOSTILE_TIFF_HEADERS.items()
    },
}
MAIL: dict[str, object] = {
    "broken_structure.eml": mail_broken_structure,
    "missing_boundary.eml": mail_missing_boundary,
    "undecodable_headers.eml": mail_undecodable_headers,
    "hostile_names.eml": mail_hostile_names,
    "nested_too_deep.eml": mail_nested_too_deep,
}


def build_small(name: str) -> bytes:
    if name in SMALL:
        return SMALL[name][0]()  # type: ignore[operator]
    return MAIL[name]()  # type: ignore[operator]


def write_small(folder: Path = HERE) -> list[Path]:
    """(Re)write the committed inputs."""
    written = []
    for name in sorted(set(SMALL) | set(MAIL)):
        path = folder / name
        path.write_bytes(build_small(name))
        written.append(path)
    return written


def thousands_of_pages(pages: int = 3000) -> bytes:
    return small_pdf(pages=pages)


def oversized(size: int) -> bytes:
    """``size`` bytes that start like a PDF: refused for its size before anything reads it."""
    return b"%PDF-1.4\n" + b"0" * (size - 9)


def noise_png(width: int = 1700, height: int = 2200, seed: int = 7) -> bytes:
    """A fax-sized page of random grey noise (a line hit, a scanner gone wrong)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8), "L").save(buffer, "PNG", dpi=(200, 200))
    return buffer.getvalue()


if __name__ == "__main__":
    for path in write_small(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(f"{path.stat().st_size:>8}  {path.name}")
