"""What arrived, how and when: the provenance every later stage keeps.

Source keys (``Receipt.source_key``) identify one arrival uniquely:

- fax folders: ``file:<channel>:<relative path>:<size>:<mtime_ns>`` where the path is
  relative to the channel folder, with ``/`` separators (``C-6/fax000123.tif`` for a
  station). A file re-dropped with another size or mtime is a new arrival.
- IMAP: ``imap:<account>@<host>/<folder>;UIDVALIDITY=<v>;UID=<u>;MID=<message-id>;part=<n>``.
- Maildir: ``maildir:<maildir dir name>/<file name without ":2,<flags>">;MID=<message-id>;part=<n>``.

``part`` is the 0-based index of the document among the documents of its message, in
MIME depth-first order (forwarded messages included); ``MID`` is the outer message's
Message-ID (``-`` when it has none). The message-level key (``MailMessage.message_key``)
is the source key without ``;MID=...;part=...``.

When a mailbox's UIDVALIDITY changes (mailbox recreated, restored or migrated), every
message gets a new key and is fetched again. Its documents are not new arrivals: a mail
document whose (Message-ID, part) is already among the committed source keys (any
``imap:`` or ``maildir:`` key) comes back in ``MailMessage.already_received`` instead of
``documents``, so it is not counted twice; its content is content-addressed (archive and
ledger by SHA-256), so it is not stored or parsed twice either. Committing the message
record under the new key stops it from being fetched again. (Messages without a
Message-ID cannot be recognised this way.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.channels import Channel

STATION_CODES: tuple[str, ...] = (
    "A-1", "A-7", "B-2", "B-3", "C-6", "C-11", "D-4", "D-14", "E-5", "E-13", "E-18",
)

# Where received_at came from (same slugs as sample_faxes/truth.json "received_from").
ReceivedFrom = Literal["tiff_datetime", "sidecar", "mtime", "received_header", "internaldate", "date_header"]


class Receipt(BaseModel):
    """One arrival of one document on one channel. Never personal data."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    station: str | None = None
    # Unique per arrival; formats in the module docstring.
    source_key: str
    received_at: datetime  # timezone-aware, UTC
    file_name: str  # sanitised original name (attachment file name for mail)
    sender: str | None = None  # fax sender number, or e-mail From address
    sha256: str
    size: int
    message_id: str | None = None  # e-mail Message-ID, for mail arrivals
    received_from: ReceivedFrom | None = None  # which clue received_at was taken from

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        return value


class ReceivedDocument(BaseModel):
    """A receipt together with the bytes that arrived."""

    receipt: Receipt
    content: bytes = Field(repr=False)

    @classmethod
    def build(cls, content: bytes, **receipt_fields: object) -> ReceivedDocument:
        receipt = Receipt(sha256=sha256_hex(content), size=len(content), **receipt_fields)  # type: ignore[arg-type]
        return cls(receipt=receipt, content=content)


@dataclass(frozen=True)
class RejectedPart:
    """A MIME part that is not a document (body text, signature, .docx, ...). Reported, never dropped.

    Its bytes stay in the archived raw message; ``sha256`` identifies them.
    """

    name: str  # sanitised file name, or "part-<n>" for unnamed parts
    reason: str  # slug: body_text | unsupported_format | empty | too_large | nested_too_deep
    content_type: str = "application/octet-stream"  # as declared
    size: int = 0
    part: str = ""  # MIME part number, e.g. "1.2"
    sha256: str = ""


@dataclass
class MailMessage:
    """One e-mail message as fetched from the BFS mailbox (IMAP or Maildir).

    A message without any document still comes back (``documents == []``) so the ledger
    records that it was seen. A message that could not be fetched or parsed comes back with
    ``error`` set; ``quarantined`` says this was its last allowed attempt.
    """

    message_key: str  # imap:<account>@<host>/<folder>;UIDVALIDITY=<v>;UID=<u> | maildir:<dir>/<name>
    received_at: datetime | None  # aware UTC; None only when nothing could be read
    message_id: str | None = None
    sender: str | None = None  # From address (addr-spec only)
    raw_sha256: str | None = None
    raw: bytes = field(default=b"", repr=False)  # the whole message, for the archive
    documents: list[ReceivedDocument] = field(default_factory=list)  # new arrivals
    # Documents committed before under another key (mailbox renumbered): not new arrivals.
    already_received: list[ReceivedDocument] = field(default_factory=list)
    rejected_parts: list[RejectedPart] = field(default_factory=list)
    error: str | None = None  # short reason without personal data
    attempt: int = 1  # which attempt this was (1 = first)
    quarantined: bool = False  # error and attempt >= max_attempts: record it, do not retry
    # Where the message lives, for the post-commit action.
    folder: str | None = None  # IMAP folder
    uidvalidity: int | None = None
    uid: int | None = None
    path: str | None = None  # Maildir file path at fetch time
    received_from: ReceivedFrom | None = None


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
