"""The intake pipeline's steps as plain functions: poll -> archive -> parse -> commit -> source action.

No Prefect here: ``flows.sequence`` runs the steps in order (in-process, or with each step as a
Prefect task: ``flows.tasks``). Nothing here knows one channel from another: the channels
(``ingest.channel``) do. Steps pass content hashes and ledger outcomes between them, never
extracted personal data: extraction results go to the on-disk ``ExtractionCache``.

Order of effects for one arrival, so that nothing received is lost or counted twice:
1. the bytes are stored in the content-addressed archive (before anything else);
2. the document is parsed once per content hash (cached; skipped when the ledger has it);
3. receipt + document + detainer copies + request assignment commit in one transaction;
4. only then the source action runs (move the file to processed/, flag or move the mail).
A crash anywhere repeats at most steps 2-4 for that arrival; the ledger's unique source
key turns a repeated step 3 into a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.config import Settings
from core.logs import REGISTRY
from flows.crashpoints import reached
from flows.extraction_cache import ExtractionCache
from ingest.archive import Archive
from ingest.channel import Arrival, Committed, IntakeChannel, Reading
from ingest.models import ReceivedDocument
from ledger.db import open_ledger
from ledger.dedupe import DedupeConfig
from ledger.store import Ledger, RecordOutcome
from parsing.extract import extract_document
from parsing.models import ExtractionResult

log = logging.getLogger(__name__)


@dataclass
class Intake:
    """What every step needs: the settings and the stores they point at."""

    settings: Settings
    ledger: Ledger
    archive: Archive
    cache: ExtractionCache
    # Source keys whose commit failure this run already counted (a retry within a run is the same attempt).
    commit_failures_counted: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, settings: Settings) -> Intake:
        archive_root = settings.archive.path
        ledger = open_ledger(settings.ledger_url, DedupeConfig.from_settings(settings.dedupe))
        return cls(
            settings=settings,
            ledger=ledger,
            archive=Archive(archive_root),
            cache=ExtractionCache(settings.archive.extraction_cache_path, settings.parsing),
        )

    def close(self) -> None:
        self.ledger.close()

    @property
    def tz(self) -> str:
        return self.settings.department.timezone


@dataclass
class ChannelPoll:
    """New arrivals on one channel. Their bytes are already in the archive."""

    channel: IntakeChannel
    arrivals: list[Arrival] = field(default_factory=list)

    @property
    def documents(self) -> list[ReceivedDocument]:
        return [document for arrival in self.arrivals for document in arrival.documents]


@dataclass(frozen=True)
class CommitSummary:
    """What one commit step did, with no personal data (safe for logs and artifacts)."""

    channel: str
    receipts_new: int = 0
    documents_new: int = 0
    detainer_copies: int = 0
    quarantined: int = 0
    possible_detainers: int = 0  # documents with detainer evidence but no recognised detainer (review items)
    request_ids: tuple[str, ...] = ()
    messages_handled: int = 0
    messages_failed: int = 0

    @classmethod
    def of(cls, channel: str, outcomes: Iterable[RecordOutcome], **extra: Any) -> CommitSummary:
        outs = [o for o in outcomes if o.status != "already_known"]
        return cls(
            channel=channel,
            receipts_new=sum(1 for o in outs if o.status == "recorded"),
            documents_new=sum(1 for o in outs if o.new_document),
            detainer_copies=sum(o.copies for o in outs),
            quarantined=sum(1 for o in outs if o.parse_status == "quarantined"),
            possible_detainers=sum(1 for o in outs if o.new_document and o.possible_detainer),
            request_ids=tuple(sorted({r for o in outs for r in o.request_ids})),
            **extra,
        )


# --------------------------------------------------------------------------- poll + archive


def poll_channel(intake: Intake, channel: IntakeChannel) -> ChannelPoll:
    """New arrivals of one channel, each stored in the archive before it is returned."""
    poll = ChannelPoll(channel)
    for arrival in channel.poll(intake.ledger):
        arrival.store(intake.archive, reached)
        poll.arrivals.append(arrival)
    log.info("%s: %s", channel.name.value, channel.describe(poll.arrivals))
    return poll


# --------------------------------------------------------------------------- parse


def needs_parsing(intake: Intake, sha256: str) -> bool:
    return intake.cache.get(sha256) is None and intake.ledger.extraction_for(sha256) is None


def documents_to_parse(intake: Intake, polls: Iterable[ChannelPoll]) -> dict[str, str]:
    """Content hash -> file name of every distinct document not read before (each is read once)."""
    to_parse: dict[str, str] = {}
    for poll in polls:
        for document in poll.documents:
            sha = document.receipt.sha256
            if sha not in to_parse and needs_parsing(intake, sha):
                to_parse[sha] = document.receipt.file_name
    return to_parse


def parse_document(settings: Settings, sha256: str, file_name: str) -> str:
    """Read one archived document into the extraction cache; returns its hash.

    Takes only the settings (picklable) so that it can run on a Dask worker.
    """
    cache = ExtractionCache(settings.archive.extraction_cache_path, settings.parsing)
    if cache.get(sha256) is not None:
        return sha256
    content = Archive(settings.archive.path).load(sha256)
    reached("parse.start")
    result = _read_or_give_up(cache, settings, content, sha256, file_name)
    register_personal_values(result)
    cache.put(result)
    reached("parse.cached")
    log.info(
        "parsed %s: %d page(s), %d detainer(s)%s",
        sha256[:12],
        len(result.pages),
        len(result.detainers),
        f", quarantined ({result.error_reason})" if result.error else "",
    )
    return sha256


def _read_or_give_up(
    cache: ExtractionCache, settings: Settings, content: bytes, sha256: str, file_name: str
) -> ExtractionResult:
    """The one place where a document's unexpected reading failure is handled, whatever raised it.

    Bad input never raises (parsing quarantines it with its reason); anything else is a failure
    of this reading. It is counted and raised, so the arrival waits and the next run tries again
    (a transient fault heals); the ``max_parse_attempts``-th failure becomes the document's own
    quarantine record instead, so one document can neither block its channel nor loop forever.
    Only the exception's class is kept: its message may quote the document.
    """
    try:
        zone = settings.department.timezone
        return extract_document(content, file_name=file_name, settings=settings.parsing, tz=zone)
    except Exception as exc:
        error_class = type(exc).__name__
        attempts = cache.record_failure(sha256, error_class)
        if attempts < settings.parsing.max_parse_attempts:
            log.warning("reading %s failed (%s), attempt %d of %d", sha256[:12], error_class, attempts,
                        settings.parsing.max_parse_attempts)
            raise
        log.error("reading %s failed %d times (%s): quarantined", sha256[:12], attempts, error_class)
        return ExtractionResult(
            sha256=sha256,
            error=f"reading failed {attempts} times ({error_class}); quarantined for review",
            error_reason="parse_failed",
        )


def register_personal_values(result: ExtractionResult) -> None:
    """Teach the log filter the personal values of this document so no log line can carry them."""
    for detainer in result.detainers:
        REGISTRY.add(
            [
                detainer.subject_name,
                detainer.file_number,
                detainer.event_number,
                detainer.subject_id,
                detainer.date_of_birth.isoformat() if detainer.date_of_birth else None,
            ]
        )
        if detainer.subject_name:
            REGISTRY.add(part for part in detainer.subject_name.replace(",", " ").split() if len(part) >= 4)


def extraction_of(intake: Intake, sha256: str) -> ExtractionResult:
    cached = intake.cache.get(sha256) or intake.ledger.extraction_for(sha256)
    if cached is None:
        parse_document(intake.settings, sha256, file_name="input")
        cached = intake.cache.get(sha256)
    assert cached is not None
    register_personal_values(cached)
    return cached


def reading_of(intake: Intake, document: ReceivedDocument) -> Reading[ExtractionResult]:
    """What the ledger records of one document: its extraction, and its quarantine when it could not be read."""
    extraction = extraction_of(intake, document.receipt.sha256)
    quarantine = None
    if extraction.error:
        quarantine = (extraction.error_reason or "unreadable", extraction.error)
    return Reading(document.receipt, extraction, quarantine)


# --------------------------------------------------------------------------- commit + source action


def commit_arrival(intake: Intake, channel: IntakeChannel, arrival: Arrival) -> CommitSummary:
    """Commit one arrival in one transaction; a channel that completes with the commit then (only then) acts."""
    committed = _commit_or_give_up(intake, arrival)
    if channel.completes_with_commit:
        channel.complete([arrival], intake.ledger, reached)
    return CommitSummary.of(
        arrival.channel.value,
        committed.outcomes,
        messages_handled=committed.messages_handled,
        messages_failed=committed.messages_failed,
    )


def _commit_or_give_up(intake: Intake, arrival: Arrival) -> Committed[RecordOutcome]:
    """The one place where an arrival's unexpected commit failure is handled, whatever raised it.

    Like ``_read_or_give_up`` for a reading: the failure is counted per source key (at most once a
    run: Prefect's retries within a run are the same attempt) and raised, so the arrival waits and
    the next run tries again (a transient fault heals); the ``flows.max_commit_attempts``-th run's
    failure records the arrival with every document quarantined (``commit_failed``) instead, with
    nothing read from it. Its bytes stay in the archive; only the exception's class is kept.
    """
    try:
        readings = [reading_of(intake, document) for document in arrival.documents]
        return arrival.commit(intake.ledger, readings, reached)
    except Exception as exc:
        key = "|".join(document.receipt.source_key for document in arrival.documents)
        if not key or key in intake.commit_failures_counted:
            raise
        intake.commit_failures_counted.add(key)
        error_class = type(exc).__name__
        attempts = intake.cache.record_commit_failure(key, error_class)
        limit = intake.settings.flows.max_commit_attempts
        if attempts < limit:
            log.warning("committing an arrival of %s failed (%s), attempt %d of %d", arrival.channel.value,
                        error_class, attempts, limit)
            raise
        log.error("committing an arrival of %s failed %d times (%s): quarantined", arrival.channel.value,
                  attempts, error_class)
    message = f"committing failed {attempts} times ({error_class}); quarantined for review"
    quarantined = [
        Reading(
            document.receipt,
            ExtractionResult(sha256=document.receipt.sha256, error=message, error_reason="commit_failed"),
            ("commit_failed", message),
        )
        for document in arrival.documents
    ]
    return arrival.commit(intake.ledger, quarantined, reached)


def complete_arrivals(intake: Intake, channel: IntakeChannel, arrivals: Sequence[Arrival]) -> int:
    """The post-commit source action for committed arrivals (flag or move mail); returns how many were done."""
    return channel.complete(arrivals, intake.ledger, reached)


@dataclass(frozen=True)
class DateWindow:
    """Receive dates to take, inclusive, in the department's zone (backfills)."""

    since: date | None
    until: date | None
    zone: ZoneInfo

    def admits(self, received_at: datetime) -> bool:
        day = received_at.astimezone(self.zone).date()
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)

    def apply(self, poll: ChannelPoll) -> ChannelPoll:
        """The poll's arrivals received inside the window (one whose time could not be read is kept)."""
        kept = [a for a in poll.arrivals if a.received_at is None or self.admits(a.received_at)]
        return ChannelPoll(poll.channel, kept)


def years_in_ledger(intake: Intake) -> list[int]:
    """Calendar years (department zone) that have at least one request, oldest first."""
    zone = intake.settings.department.zone
    years = {view.first_received_at.astimezone(zone).year for view in intake.ledger.requests()}
    return sorted(years)
