"""The ledger's facade: the system of record's public calls, each one unit of work over one part.

Every call that writes runs in ONE transaction (``ledger.unit_of_work``): all or nothing,
writers serialised. The parts it calls are functions over that transaction's session:

- ``recording``: an arrival and what was read from it, a document read again;
- ``mail_state``: the mailbox's messages (handled, failed, quarantined);
- ``regrouping`` (with ``components``): copies into requests, recomputed for a change's component;
- ``review_queue``: the items the ledger opens and closes itself;
- ``corrections``, ``rulings``, ``dispositions``: what operators record, each act a new row
  (``decisions``: the append-only log; the current state is its latest row);
- ``channel_polls``: every poll of every channel (read / failed / disabled), and the coverage it gives;
- reads: ``read_model`` (metrics, requests, reports) and ``review_reads`` (the review queue),
  also reachable as ``Ledger.read_model`` and ``Ledger.review_reads`` for the application layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from ingest.models import MailMessage
from ingest.models import Receipt as ReceiptModel
from ledger import (
    audit_reads,
    channel_polls,
    corrections,
    decisions,
    dispositions,
    lock,
    mail_state,
    recording,
    regrouping,
    rulings,
)
from ledger.audit_reads import RequestStory
from ledger.channel_polls import Coverage, PollRecord
from ledger.copy_rows import apply_corrections
from ledger.decisions import DecisionView
from ledger.dedupe import DedupeConfig
from ledger.metrics import with_coverage
from ledger.read_model import ReadModel
from ledger.review_reads import ReviewReads
from ledger.uncertainty import Effect
from ledger.unit_of_work import UnitOfWork
from ledger.views import CHANNEL_ORDER, RecordOutcome, RequestView, ReviewView, arrival_key
from parsing.models import ExtractionResult

__all__ = [
    "CHANNEL_ORDER",
    "Coverage",
    "DecisionView",
    "Ledger",
    "PollRecord",
    "RecordOutcome",
    "RequestStory",
    "RequestView",
    "ReviewView",
    "apply_corrections",
    "arrival_key",
]

LedgerInput = tuple[ReceiptModel, ExtractionResult | None, tuple[str, str] | None]


class Ledger:
    """The system of record. Thread-safe: each call uses its own session."""

    def __init__(self, engine: Engine, dedupe_config: DedupeConfig | None = None) -> None:
        self.engine = engine
        self.config = dedupe_config or DedupeConfig()
        self.work = UnitOfWork(engine, self.config)
        self.read_model = ReadModel(self.work)
        self.review_reads = ReviewReads(self.work)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ recording

    def record(
        self,
        receipt: ReceiptModel,
        extraction: ExtractionResult | None,
        *,
        quarantine: tuple[str, str] | None = None,
        format: str | None = None,
    ) -> RecordOutcome:
        """Record one arrival and what was read from it, atomically and idempotently (``recording.record``)."""
        with self.work.write() as session:
            return recording.record(session, self.config, receipt, extraction, quarantine, format)

    def reprocess(self, extraction: ExtractionResult) -> None:
        """Replace a known document's extraction (e.g. a better parser); corrections survive."""
        with self.work.write() as session:
            recording.reprocess(session, self.config, extraction)

    def regroup(self) -> None:
        """Re-run dedupe over every copy (a migration gave copies a new identity column, new rules)."""
        with self.work.write() as session:
            regrouping.regroup(session, self.config)

    def rebuild(self) -> int:
        """Recompute every request from scratch (e.g. after changing dedupe settings). Returns copies seen."""
        with self.work.write() as session:
            return regrouping.rebuild(session, self.config)

    def extraction_for(self, sha256: str) -> ExtractionResult | None:
        """What was read from these bytes before (so nothing is OCR'd twice); None if never read."""
        with self.work.read() as session:
            return recording.extraction_for(session, sha256)

    def is_known(self, source_key: str) -> bool:
        with self.work.read() as session:
            return recording.is_known(session, source_key)

    # ------------------------------------------------------------------ mail state (ingest.state.IntakeState)

    def known_source_keys(self, prefix: str) -> set[str]:
        """Source keys of every recorded arrival starting with ``prefix``."""
        with self.work.read() as session:
            return mail_state.known_source_keys(session, prefix)

    def mail_attempts(self, message_key: str) -> int:
        with self.work.read() as session:
            return mail_state.mail_attempts(session, message_key)

    def mail_statuses(self, prefix: str) -> dict[str, str]:
        """Status of every recorded mail message whose key starts with ``prefix`` (a mailbox folder's)."""
        with self.work.read() as session:
            return mail_state.mail_statuses(session, prefix)

    def mail_handled(self, message_key: str) -> bool:
        """True once the message's record is committed (with or without documents), or it is quarantined."""
        with self.work.read() as session:
            return mail_state.mail_handled(session, message_key)

    def record_mail_failure(
        self, message_key: str, reason: str, *, quarantined: bool = False, message: str = ""
    ) -> int:
        """Count one failed attempt at a message; returns the attempts so far (``mail_state.mail_failure``)."""
        with self.work.write() as session:
            return mail_state.mail_failure(session, message_key, reason, quarantined, message)

    def reset_mail_attempts(self, message_key: str) -> None:
        """Release a quarantined (or failing) message: the next run fetches it again from scratch."""
        with self.work.write() as session:
            mail_state.reset_mail_attempts(session, message_key)

    def record_mail_handled(
        self, message_key: str, message_id: str | None, sha256: str | None, n_documents: int
    ) -> None:
        with self.work.write() as session:
            mail_state.mark_handled(session, message_key, message_id, sha256, n_documents)

    def record_unreadable(
        self, source_key: str, channel: str, reason: str, received_at: datetime, slug: str = "unreadable_file"
    ) -> None:
        """A listed file its channel did not read: quarantined by source key (``recording.record_unreadable``)."""
        with self.work.write() as session:
            recording.record_unreadable(session, source_key, channel, reason, received_at, slug)

    def record_message(self, message: MailMessage, documents: Sequence[LedgerInput] = ()) -> list[RecordOutcome]:
        """Commit one mail message and its documents in ONE transaction (``mail_state.record_message``)."""
        with self.work.write() as session:
            return mail_state.record_message(session, self.config, message, documents)

    # ------------------------------------------------------------------ channel polls

    def record_poll(
        self, channel: str, at: datetime, outcome: str, reason: str | None = None, items: int = 0
    ) -> None:
        """Record one poll of ``channel`` that began at ``at``: read, failed (PII-free ``reason``) or disabled."""
        with self.work.write() as session:
            channel_polls.record_poll(session, PollRecord(channel, at, outcome, reason, items))

    def poll_records(self, channel: str | None = None) -> list[PollRecord]:
        """Every recorded poll (of ``channel``, or of every channel), oldest first."""
        with self.work.read() as session:
            return channel_polls.poll_records(session, channel)

    def channel_coverage(
        self,
        year: int,
        tz: str | ZoneInfo = "America/New_York",
        configuration: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> dict[str, Coverage]:
        """Per channel, the days of ``year`` it was read and its gaps (``channel_polls.coverage``).

        ``configuration``: channel -> enabled | disabled | not_configured, as the settings stand.
        """
        zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        return channel_polls.channel_coverage(
            self.poll_records(), year, zone, now or datetime.now(UTC), configuration
        )

    # ------------------------------------------------------------------ operator actions

    # Every act is appended with its actor (``decisions.actor``: ``who`` as given, the OS user and
    # host running it, ``why``); nothing an operator recorded is changed or deleted (``ledger.decisions``).

    def correct(self, copy: int | str, field: str, new_value: Any, who: str, *, why: str | None = None) -> None:
        """Correct one field of one detainer copy (by id or ``"<sha256>:<index>"``); audited, lasting."""
        with self.work.write() as session:
            corrections.correct(session, self.config, copy, field, new_value, decisions.actor(who, why))

    def decide(self, copy: int | str, other: int | str, same: bool, who: str, *, why: str | None = None) -> None:
        """Operator ruling: these two copies are (``same=True``) or are not the same request."""
        with self.work.write() as session:
            rulings.decide(session, self.config, copy, other, same, decisions.actor(who, why))

    def merge(self, copy: int | str, other: int | str, who: str, *, why: str | None = None) -> None:
        self.decide(copy, other, True, who, why=why)

    def separate(self, copy: int | str, other: int | str, who: str, *, why: str | None = None) -> None:
        self.decide(copy, other, False, who, why=why)

    def resolve_review(self, item_id: int, resolution: str, who: str, *, why: str | None = None) -> None:
        """Close a review item (``rulings.resolve_review``: matches record the operator's decision)."""
        with self.work.write() as session:
            rulings.resolve_review(session, self.config, item_id, resolution, decisions.actor(who, why))

    def set_disposition(
        self,
        request_id: str,
        outcome: str,
        who: str,
        *,
        reimbursement: Decimal | float | str | None = None,
        note: str | None = None,
        why: str | None = None,
    ) -> None:
        """Record a disposition (a new decision; ``why`` defaults to ``note``)."""
        with self.work.write() as session:
            dispositions.set_disposition(
                session, request_id, outcome, decisions.actor(who, why), reimbursement, note
            )

    def disposition(self, request_id: str) -> dict[str, Any] | None:
        """The request's current disposition: its latest."""
        with self.work.read() as session:
            return dispositions.disposition(session, request_id)

    def disposition_history(self, request_id: str) -> list[dict[str, Any]]:
        """Every disposition recorded for the request, oldest first (``dispositions.history``)."""
        with self.work.read() as session:
            return dispositions.history(session, request_id)

    # ------------------------------------------------------------------ audit

    def request_story(self, request_id: str) -> RequestStory:
        """The request's copies, arrivals, grouping rules, acts and disposition history (``audit_reads``)."""
        with self.work.read() as session:
            return audit_reads.request_story(session, request_id)

    def activity(self, since: datetime) -> list[DecisionView]:
        """Every operator act recorded at or after ``since``, oldest first."""
        with self.work.read() as session:
            return audit_reads.activity(session, since)

    def archive_references(self) -> dict[str, int | None]:
        """SHA-256 -> expected size of every file the archive must hold (``audit_reads.archive_references``)."""
        with self.work.read() as session:
            return audit_reads.archive_references(session)

    # ------------------------------------------------------------------ reading

    def review_items(self, status: str | None = "open", kind: str | None = None) -> list[ReviewView]:
        return self.review_reads.review_items(status, kind)

    def requests(self) -> list[RequestView]:
        """Every unique request with its arrivals, in order of first arrival."""
        return self.read_model.requests()

    def copies(self, sha256: str) -> list[dict[str, Any]]:
        """The document's detainer copies (personal data!), as ``ReadModel.copies`` describes them."""
        return self.read_model.copies(sha256)

    def metrics(
        self,
        year: int,
        tz: str | ZoneInfo = "America/New_York",
        configuration: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Channel-usage metrics for ``year`` in zone ``tz`` (samplegen/TRUTH.md, "Metric definitions"), with
        each channel's coverage of the year (``channel_coverage``; ``configuration`` as it describes)."""
        return with_coverage(self.read_model.metrics(year, tz), self.channel_coverage(year, tz, configuration, now))

    def review_effects(self, tz: str | ZoneInfo = "America/New_York") -> dict[int, Effect]:
        """Open review item id -> how far its decision could move the count (``ledger.uncertainty``)."""
        return self.read_model.review_effects(tz)

    def run_lock(self, name: str = "daily_intake", wait_seconds: float = 0) -> AbstractContextManager[Any]:
        """Hold the named run lock for the ``with`` block; RunLocked if another run holds it."""
        return lock.run_lock(self.engine, name, wait_seconds)
