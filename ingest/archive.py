"""Content-addressed archive of everything received: ``<root>/ab/cd/<sha256>``.

Each distinct content is stored once, written atomically (temporary file, fsync, rename,
fsync of the folder), with folders 0700 and files 0600. The raw ``.eml`` of every mail
message is stored as well (by its own hash), so a message can always be re-read even when
its parts were rejected or the mailbox has since been emptied.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.errors import IntakeError
from core.files import write_private
from ingest.models import MailMessage, sha256_hex

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ArchiveCorrupt(IntakeError):
    """An archived file no longer matches its SHA-256 (disk or manual damage)."""

    remedy = "Restore the archive folder from backup; the ledger keeps the expected hashes."


class Archive:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError("not a lower-case hex SHA-256")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def __contains__(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def store(self, content: bytes) -> Path:
        """Store ``content`` (idempotent) and return its path."""
        path = self.path_for(sha256_hex(content))
        try:
            if path.stat().st_size == len(content):
                return path
        except FileNotFoundError:
            pass
        return write_private(path, content)

    def store_message(self, message: MailMessage) -> None:
        """Store a mail message's raw bytes and every document's bytes."""
        if message.raw:
            self.store(message.raw)
        for document in message.documents:
            self.store(document.content)

    def load(self, sha256: str) -> bytes:
        """The stored bytes; FileNotFoundError when absent, ArchiveCorrupt when damaged."""
        content = self.path_for(sha256).read_bytes()
        if sha256_hex(content) != sha256:
            raise ArchiveCorrupt("archived content does not match its SHA-256")
        return content
