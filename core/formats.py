"""Recognise document formats by their magic numbers, never by name or declared type."""

from __future__ import annotations

from enum import StrEnum


class Format(StrEnum):
    """An input's format, recognised by content. ``eml`` is a whole e-mail message given as a file."""

    pdf = "pdf"
    tiff = "tiff"
    png = "png"
    jpeg = "jpeg"
    eml = "eml"

    @property
    def extension(self) -> str:
        return {"pdf": ".pdf", "tiff": ".tif", "png": ".png", "jpeg": ".jpg", "eml": ".eml"}[self.value]


_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PDF_MAGIC = b"%PDF-"
_PDF_SEARCH = 1024  # readers accept junk before the header within the first KiB


def sniff_document(content: bytes) -> Format | None:
    """The document format of ``content``, or None when it is not a PDF, TIFF, PNG or JPEG."""
    head = content[:_PDF_SEARCH]
    if head.startswith(_TIFF_MAGIC):
        return Format.tiff
    if head.startswith(_PNG_MAGIC):
        return Format.png
    if head.startswith(_JPEG_MAGIC):
        return Format.jpeg
    if _PDF_MAGIC in head:
        return Format.pdf
    return None
