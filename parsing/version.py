"""The parser's version: a digest of the parsing code, form templates and OCR models.

Any change to them re-reads documents (the extraction cache is keyed by it) and is named in a
report's provenance."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

# What decides a reading: code, templates, word lists and the project's Tesseract models.
SUFFIXES = (".py", ".toml", ".json", ".txt", ".traineddata")


@cache
def parser_version() -> str:
    return tree_digest(Path(__file__).parent)


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
