"""Value types the ledger hands out, and the order of arrivals every part and every reader shares.

No personal data of a subject in any of them: keys, slugs, channels and times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from core.channels import Channel

CHANNEL_ORDER: tuple[str, ...] = tuple(c.value for c in Channel)  # dedicated_fax, station_fax, bfs_email


def channel_rank(channel: str) -> int:
    return CHANNEL_ORDER.index(channel) if channel in CHANNEL_ORDER else len(CHANNEL_ORDER)


def arrival_key(received_at: datetime, channel: str, source_key: str) -> tuple[datetime, int, str]:
    """Total order of arrivals: time, then channel (dedicated, station, mail), then source key."""
    return (received_at, channel_rank(channel), source_key)


@dataclass(frozen=True)
class RecordOutcome:
    status: Literal["recorded", "already_known", "completed"]
    receipt_id: int
    document_sha256: str
    new_document: bool
    parse_status: str  # parsed | quarantined | pending
    copies: int  # detainer forms in the document
    request_ids: tuple[str, ...] = ()  # requests the document's copies belong to (cancellations excluded)
    possible_detainer: bool = False  # read with detainer evidence but no recognised detainer (on the review queue)


@dataclass(frozen=True)
class ReviewView:
    id: int
    kind: str
    status: str
    reason: str
    score: float | None
    default_decision: str | None
    copy_key: str | None
    other_copy_key: str | None
    document_sha256: str | None
    received_at: datetime | None
    resolution: str | None
    resolved_by: str | None = None  # the person who closed it (None while open or closed by the ledger)
    key: str = ""  # its stable key (ledger.review_queue): ``quarantine:mail:<message key>``, ``disposition:<id>``...


@dataclass(frozen=True)
class RequestView:
    id: str
    first_received_at: datetime
    first_channel: str
    first_station: str | None
    channels: tuple[str, ...]
    receipt_keys: tuple[str, ...]  # source keys of every arrival carrying a copy, in arrival order
    # Why each arrival counts as this request: first | same_content (identical bytes arrived before)
    # | same_identity | fuzzy | operator_merge (the rule that linked its copy).
    receipt_rules: tuple[str, ...]
    copy_keys: tuple[str, ...]
    cancelled_by: tuple[str, ...]  # copy keys of cancellation notices linked to it
