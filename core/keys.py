"""Typed keys the stages share, so no one splits a key string by hand.

A *copy key* names one detainer copy: the SHA-256 of the document it was read from and the
0-based index of the copy within that document, written ``<sha256>:<index>`` in the ledger,
the review queue and the command line. It carries no personal data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COPY_KEY = re.compile(r"([0-9a-f]{64}):(\d{1,6})")


@dataclass(frozen=True, order=True)
class CopyKey:
    document_sha256: str
    index: int

    def __str__(self) -> str:
        return f"{self.document_sha256}:{self.index}"

    @classmethod
    def parse(cls, text: str) -> CopyKey:
        """The key written as ``text``; ValueError (naming only the shape) when it is not one."""
        match = _COPY_KEY.fullmatch(text.strip().lower())
        if match is None:
            raise ValueError("a copy key is <64 hex digits of the document's SHA-256>:<copy index>")
        return cls(match.group(1), int(match.group(2)))
