"""Format sniffing from content bytes (magic numbers), never from the file name."""

from __future__ import annotations

import re

from core.errors import EmptyInput, UnsupportedFormat
from core.formats import Format, sniff_document

# RFC 5322 header field names that open an e-mail message (or an mbox "From " line).
_MAIL_HEADER = re.compile(
    rb"^(?:From |(?:Return-Path|Received|From|To|Subject|Date|Message-ID|MIME-Version|Delivered-To|"
    rb"X-[A-Za-z0-9-]+|Content-Type|Reply-To|Sender|Cc|DKIM-Signature|Authentication-Results"
    rb"|ARC-[A-Za-z-]+):)",
    re.IGNORECASE,
)


def sniff(content: bytes) -> Format:
    """The input's format; EmptyInput for zero bytes, UnsupportedFormat for anything else.

    The document magic numbers are the core's (``core.formats``); parsing adds e-mail
    messages (``.eml`` inputs) and the typed errors.
    """
    if not content or not content.strip(b"\x00 \t\r\n"):
        raise EmptyInput("the input is empty")
    document = sniff_document(content)
    if document is not None:
        return document
    head = content[:1024]
    if _looks_like_mail(head):
        return Format.eml
    kind = _describe(head)
    raise UnsupportedFormat(f"the input is not a PDF, TIFF, PNG, JPEG or e-mail message ({kind})")


def _looks_like_mail(head: bytes) -> bool:
    lines = head.lstrip(b"\r\n").splitlines()[:8]
    if not lines or not _MAIL_HEADER.match(lines[0]):
        return False
    headers = [line for line in lines if re.match(rb"^[A-Za-z0-9-]+:", line)]
    return len(headers) >= 2 or lines[0].startswith(b"From ")


def _describe(head: bytes) -> str:
    """A short, content-free description of an unsupported input for the quarantine message."""
    if head.startswith(b"PK\x03\x04"):
        return "ZIP container, e.g. an Office document"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "OLE container, e.g. a legacy Office document"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF image"
    if head.startswith(b"BM"):
        return "BMP image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP image"
    return "unrecognised content"
