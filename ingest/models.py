"""What arrived, how and when: the provenance every later stage keeps."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

STATION_CODES: tuple[str, ...] = (
    "A-1", "A-7", "B-2", "B-3", "C-6", "C-11", "D-4", "D-14", "E-5", "E-13", "E-18",
)


class Channel(StrEnum):
    """How a document reached the department."""

    dedicated_fax = "dedicated_fax"  # the Operations Division's dedicated detainer fax line
    station_fax = "station_fax"  # a district booking station's fax machine
    bfs_email = "bfs_email"  # the Bureau of Field Services mailbox


class Receipt(BaseModel):
    """One arrival of one document on one channel. Never personal data."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    station: str | None = None
    # Unique per arrival: "file:<channel>:<relative path>:<size>:<mtime_ns>" or
    # "imap:<account>@<host>/<folder>;UIDVALIDITY=<v>;UID=<u>;MID=<message-id>;part=<n>".
    source_key: str
    received_at: datetime  # timezone-aware, UTC
    file_name: str  # sanitised original name (attachment file name for mail)
    sender: str | None = None  # fax sender number, or e-mail From address
    sha256: str
    size: int
    message_id: str | None = None  # e-mail Message-ID, for mail arrivals

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


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
