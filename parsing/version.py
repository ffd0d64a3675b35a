"""The parser's version: a digest of the parsing code and form templates.

Any change to them re-reads documents (the extraction cache is keyed by it) and is named in a
report's provenance."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path


@cache
def parser_version() -> str:
    root = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".toml", ".json", ".txt")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
