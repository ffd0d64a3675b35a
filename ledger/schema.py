"""The ledger's tables (SQLAlchemy 2.0 typed declarative).

Personal data (names, dates of birth, A-numbers, event numbers, OCR text) lives in
these tables only: ``documents.extraction``, ``detainer_copies``, ``corrections`` and
``decisions.why`` / ``dispositions.note`` (free text an operator typed).
Everything else carries ids, hashes, counts and reason slugs.

The migrations under ``ledger/migrations/versions`` create exactly this schema;
``tests/test_ledger_store.py`` checks that they agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ledger: every time must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JsonType}


class Document(Base):
    """One distinct content (by SHA-256), however many times it arrived."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    format: Mapped[str | None] = mapped_column(String(32))
    page_count: Mapped[int | None] = mapped_column(Integer)
    parse_status: Mapped[str] = mapped_column(String(16))  # parsed | quarantined | pending
    error_reason: Mapped[str | None] = mapped_column(String(64))  # slug, no personal data
    # The full ExtractionResult as JSON: personal data, stays in this database.
    extraction: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Receipt(Base):
    """One arrival of one document on one channel."""

    __tablename__ = "receipts"
    __table_args__ = (Index("ix_receipts_received_at", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_key: Mapped[str] = mapped_column(String(2048), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    station: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column()
    file_name: Mapped[str] = mapped_column(String(512))
    sender: Mapped[str | None] = mapped_column(String(320))
    message_id: Mapped[str | None] = mapped_column(String(998))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    size: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailMessage(Base):
    """One e-mail message of the BFS mailbox: retried, handled or quarantined as a whole."""

    __tablename__ = "mail_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_key: Mapped[str] = mapped_column(String(2048), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(998))
    sha256: Mapped[str | None] = mapped_column(String(64))  # of the raw message
    status: Mapped[str] = mapped_column(String(16))  # handled | failed | quarantined
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(256))  # reason slug/text, no personal data
    n_documents: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DetainerCopy(Base):
    """One detainer form found in one document.

    ``fields`` holds the DetainerRequest as extracted (OCR values); the identity
    columns hold the *effective* values: OCR with operator corrections applied.
    """

    __tablename__ = "detainer_copies"
    __table_args__ = (UniqueConstraint("document_id", "index", name="uq_detainer_copies_document_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)  # 0-based, in page order
    form_type: Mapped[str] = mapped_column(String(16))
    fields: Mapped[dict[str, Any]] = mapped_column(JsonType)
    file_number: Mapped[str | None] = mapped_column(String(32), index=True)
    event_number: Mapped[str | None] = mapped_column(String(64), index=True)
    subject_id: Mapped[str | None] = mapped_column(String(64), index=True)
    issued_date: Mapped[date | None] = mapped_column(Date)
    name: Mapped[str | None] = mapped_column(String(256))  # normalised for matching
    dob: Mapped[date | None] = mapped_column(Date, index=True)
    cancels_previous: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_detainer_date: Mapped[date | None] = mapped_column(Date)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # Identity fields OCR read with low confidence, comma-separated ("event_number,file_number"):
    # dedupe lets them support a match but not veto one. Corrected fields are never listed.
    unsure: Mapped[str] = mapped_column(String(64), default="")


class CopyToken(Base):
    """The words of a copy's normalised name (``ledger.dedupe.name_tokens``): finds copies whose
    identifiers were misread but whose name was not."""

    __tablename__ = "copy_tokens"
    __table_args__ = (UniqueConstraint("copy_id", "token", name="uq_copy_tokens_copy_token"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("detainer_copies.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), index=True)


class Request(Base):
    """One unique detainer request. ``id`` is stable: derived from its founding copy."""

    __tablename__ = "requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    founding_copy_id: Mapped[int] = mapped_column(ForeignKey("detainer_copies.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RequestLink(Base):
    """Which request a detainer copy belongs to, and why."""

    __tablename__ = "request_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"), index=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("detainer_copies.id", ondelete="CASCADE"), unique=True)
    rule: Mapped[str] = mapped_column(String(32))  # first | same_identity | fuzzy | operator_merge
    score: Mapped[float] = mapped_column(Float)


class Cancellation(Base):
    """A cancellation notice (cancel box checked) and the request it cancels, when found."""

    __tablename__ = "cancellations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    copy_id: Mapped[int] = mapped_column(ForeignKey("detainer_copies.id", ondelete="CASCADE"), unique=True)
    request_id: Mapped[str | None] = mapped_column(ForeignKey("requests.id", ondelete="SET NULL"), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)


class MatchDecision(Base):
    """An operator's ruling that two copies are (or are not) the same request. Survives reprocessing.
    The latest ``match`` decision of the pair (``ledger.decisions``), which keeps every ruling."""

    __tablename__ = "match_decisions"
    __table_args__ = (UniqueConstraint("copy_a", "copy_b", name="uq_match_decisions_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    copy_a: Mapped[str] = mapped_column(String(80))  # stable copy key "<sha256>:<index>", a < b
    copy_b: Mapped[str] = mapped_column(String(80))
    same: Mapped[bool] = mapped_column(Boolean)
    who: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Quarantine(Base):
    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    input_ref: Mapped[str] = mapped_column(String(2048), unique=True)  # "sha256:<hex>" or "mail:<message_key>"
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    reason: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(512))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Correction(Base):
    """An operator's correction of one field of one detainer copy. Applied over OCR values, always.

    Append-only (migration 0004: the database refuses UPDATE and DELETE): the latest row of a
    field wins, a reversal is a new correction."""

    __tablename__ = "corrections"
    __table_args__ = (Index("ix_corrections_copy", "document_sha256", "copy_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_sha256: Mapped[str] = mapped_column(String(64))
    copy_index: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    os_user: Mapped[str | None] = mapped_column(String(128))  # the account that ran the command (None: before 0004)
    host: Mapped[str | None] = mapped_column(String(255))
    why: Mapped[str | None] = mapped_column(Text)


class Decision(Base):
    """One operator act (``ledger.decisions``): a ruling on two copies, a review item's resolution, a
    disposition. Append-only (migration 0004: the database refuses UPDATE and DELETE); the current
    state (``match_decisions``, ``dispositions``, a review item's resolution) is the latest row's.

    ``old_value`` / ``new_value`` are JSON. ``os_user`` / ``host`` are None on rows moved over
    from before the decision log (migration 0004)."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_subject", "subject"),
        Index("ix_decisions_request_id", "request_id"),
        Index("ix_decisions_copy_key", "copy_key"),
        Index("ix_decisions_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # match | review | disposition
    subject: Mapped[str] = mapped_column(String(300))  # "<copy a>|<copy b>", a review item's key, a request id
    copy_key: Mapped[str | None] = mapped_column(String(80))
    other_copy_key: Mapped[str | None] = mapped_column(String(80))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(32))  # the request it concerned when decided
    field: Mapped[str | None] = mapped_column(String(64))  # same | resolution | disposition
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(128))
    os_user: Mapped[str | None] = mapped_column(String(128))
    host: Mapped[str | None] = mapped_column(String(255))
    why: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Disposition(Base):
    """What the department did with a request: the latest ``disposition`` decision (``ledger.decisions``)."""

    __tablename__ = "dispositions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(32), unique=True)  # no FK: survives re-identification
    founding_copy_key: Mapped[str] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(32))  # not_acted_upon | detained | transferred
    reimbursement: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    note: Mapped[str | None] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewItem(Base):
    """Something a person must look at: an uncertain match, a doubtful copy, a quarantined input."""

    __tablename__ = "review_items"
    __table_args__ = (Index("ix_review_items_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)  # stable: kind + subject keys
    kind: Mapped[str] = mapped_column(String(32))  # match | cancellation | copy | quarantine
    status: Mapped[str] = mapped_column(String(16))  # open | resolved
    reason: Mapped[str] = mapped_column(String(128))  # slug(s), no personal data
    score: Mapped[float | None] = mapped_column(Float)
    default_decision: Mapped[str | None] = mapped_column(String(16))  # merge | separate | link | none
    copy_key: Mapped[str | None] = mapped_column(String(80))
    other_copy_key: Mapped[str | None] = mapped_column(String(80))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime | None] = mapped_column()  # first arrival of the subject (year filters)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    resolution: Mapped[str | None] = mapped_column(String(32))


class RunLock(Base):
    """Who holds (or last held) a named run lock; the lock itself is advisory/flock."""

    __tablename__ = "run_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_pid: Mapped[int | None] = mapped_column(Integer)
    owner_host: Mapped[str | None] = mapped_column(String(255))
    acquired_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column()


class ChannelPoll(Base):
    """One poll of one channel by a run (``ledger.channel_polls``): the days each channel was read."""

    __tablename__ = "channel_polls"
    __table_args__ = (Index("ix_channel_polls_channel_polled_at", "channel", "polled_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    polled_at: Mapped[datetime] = mapped_column()  # UTC, when the poll began
    outcome: Mapped[str] = mapped_column(String(16))  # read | failed | disabled
    reason: Mapped[str | None] = mapped_column(String(256))  # slug or scrubbed sentence, no personal data
    items: Mapped[int] = mapped_column(Integer, default=0)  # new arrivals the poll found
