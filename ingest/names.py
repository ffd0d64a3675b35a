"""Safe file names for receipts: no path traversal, no control characters, bounded length."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_CHARS = 120
MAX_EXTENSION_CHARS = 16
_RESERVED = re.compile(r'[<>:"/\\|?*]')
_SPACES = re.compile(r"\s+")


def sanitize_filename(name: str | None, fallback: str = "document") -> str:
    """Reduce ``name`` to a plain file name; ``fallback`` when nothing usable is left.

    Keeps the last path component only, drops control/format characters and undecodable
    bytes, replaces characters reserved on common file systems, strips leading dots (no
    hidden files, no ``..``) and limits the length while keeping the extension.
    """
    if not name:
        return fallback
    text = unicodedata.normalize("NFC", name.encode("utf-8", "replace").decode("utf-8"))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(
        ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn") and ch != "\ufffd"
    )
    text = _SPACES.sub(" ", _RESERVED.sub("_", text)).strip().rstrip(". ")
    if text.startswith(".") and "." not in text[1:] and len(text) - 1 <= MAX_EXTENSION_CHARS:
        text = fallback.rsplit(".", 1)[0] + text  # only an extension was left: ".pdf"
    text = text.lstrip(". ")
    if not text:
        return fallback
    if len(text) > MAX_NAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        if dot and stem and 0 < len(ext) <= MAX_EXTENSION_CHARS:
            text = stem[: MAX_NAME_CHARS - len(ext) - 1].rstrip(". ") + "." + ext
        else:
            text = text[:MAX_NAME_CHARS].rstrip(". ")
    return text or fallback
