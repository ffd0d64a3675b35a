"""The intake pipeline as plain steps: poll -> archive -> parse -> commit -> source action.

No Prefect here: ``flows.daily`` wraps each step in a task, and the tests call the steps
directly. Steps pass content hashes and ledger outcomes between them, never extracted
personal data: extraction results go to the on-disk ``ExtractionCache``.

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core.channels import Channel
from core.config import FolderChannelSettings, Settings
from core.logs import REGISTRY
from flows.crashpoints import reached
from flows.extraction_cache import ExtractionCache
from ingest.archive import Archive
from ingest.folders import FolderArrival, complete_arrival, poll_fax_folder
from ingest.mailbox import MailboxSession
from ingest.models import MailMessage, ReceivedDocument
from ledger.db import open_ledger
from ledger.dedupe import DedupeConfig
from ledger.store import Ledger, RecordOutcome
from parsing.extract import extract_document
from parsing.models import ExtractionResult

log = logging.getLogger(__name__)

FAX_CHANNELS = (Channel.dedicated_fax, Channel.station_fax)


@dataclass
class Intake:
    """What every step needs: the settings and the stores they point at."""

    settings: Settings
    ledger: Ledger
    archive: Archive
    cache: ExtractionCache

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

    channel: Channel
    files: list[FolderArrival] = field(default_factory=list)
    messages: list[MailMessage] = field(default_factory=list)

    @property
    def documents(self) -> list[ReceivedDocument]:
        docs = [arrival.document for arrival in self.files]
        for message in self.messages:
            docs.extend(message.documents)
        return docs


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


# --------------------------------------------------------------------------- poll


def folder_settings(settings: Settings, channel: Channel) -> FolderChannelSettings:
    return settings.channels.dedicated_fax if channel is Channel.dedicated_fax else settings.channels.station_fax


def channel_enabled(settings: Settings, channel: Channel) -> bool:
    if channel is Channel.bfs_email:
        mail = settings.channels.bfs_email
        return mail.enabled and (mail.maildir is not None or mail.host is not None)
    folder = folder_settings(settings, channel)
    return folder.enabled and folder.path is not None


def poll_fax(intake: Intake, channel: Channel) -> ChannelPoll:
    """New complete files of a fax channel, each stored in the archive before it is returned."""
    poll = ChannelPoll(channel)
    for arrival in poll_fax_folder(folder_settings(intake.settings, channel), channel, intake.ledger, tz=intake.tz):
        intake.archive.store(arrival.document.content)
        reached("poll.stored")
        poll.files.append(arrival)
    log.info("%s: %d new file(s)", channel.value, len(poll.files))
    return poll


def poll_mail(intake: Intake) -> ChannelPoll:
    """New messages of the BFS mailbox; raw message and documents stored in the archive."""
    poll = ChannelPoll(Channel.bfs_email)
    with MailboxSession(intake.settings.channels.bfs_email) as session:
        for message in session.poll(intake.ledger, intake.tz):
            intake.archive.store_message(message)
            reached("mail.stored")
            poll.messages.append(message)
    log.info(
        "bfs_email: %d message(s), %d document(s)",
        len(poll.messages),
        sum(len(m.documents) for m in poll.messages),
    )
    return poll


# --------------------------------------------------------------------------- parse


def needs_parsing(intake: Intake, sha256: str) -> bool:
    return intake.cache.get(sha256) is None and intake.ledger.extraction_for(sha256) is None


def parse_document(settings: Settings, sha256: str, file_name: str) -> str:
    """Read one archived document into the extraction cache; returns its hash.

    Takes only the settings (picklable) so that it can run on a Dask worker.
    """
    cache = ExtractionCache(settings.archive.extraction_cache_path, settings.parsing)
    if cache.get(sha256) is not None:
        return sha256
    content = Archive(settings.archive.path).load(sha256)
    reached("parse.start")
    result = extract_document(content, file_name=file_name, settings=settings.parsing, tz=settings.department.timezone)
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


def _record_args(intake: Intake, document: ReceivedDocument) -> tuple[ExtractionResult, tuple[str, str] | None]:
    extraction = extraction_of(intake, document.receipt.sha256)
    quarantine = None
    if extraction.error:
        quarantine = (extraction.error_reason or "unreadable", extraction.error)
    return extraction, quarantine


# --------------------------------------------------------------------------- commit + source action


def commit_file(intake: Intake, arrival: FolderArrival) -> CommitSummary:
    """Commit one received file, then (only then) run the folder's post-commit action."""
    extraction, quarantine = _record_args(intake, arrival.document)
    reached("commit.before")
    outcome = intake.ledger.record(arrival.receipt, extraction, quarantine=quarantine)
    reached("commit.after")
    complete_arrival(folder_settings(intake.settings, arrival.receipt.channel), arrival)
    return CommitSummary.of(arrival.receipt.channel.value, [outcome])


def commit_message(intake: Intake, message: MailMessage) -> CommitSummary:
    """Commit one mail message (all its documents, or its failed attempt) in one transaction."""
    if message.error is not None:
        intake.ledger.record_message(message)
        return CommitSummary(channel=Channel.bfs_email.value, messages_failed=1)
    documents = []
    for document in message.documents:
        extraction, quarantine = _record_args(intake, document)
        documents.append((document.receipt, extraction, quarantine))
    reached("mail.commit.before")
    outcomes = intake.ledger.record_message(message, documents)
    reached("mail.commit.after")
    return CommitSummary.of(Channel.bfs_email.value, outcomes, messages_handled=1)


def complete_messages(intake: Intake, messages: Iterable[MailMessage]) -> int:
    """Flag or move committed messages (post-commit action); returns how many were done."""
    handled = [m for m in messages if intake.ledger.mail_handled(m.message_key)]
    if not handled:
        return 0
    done = 0
    with MailboxSession(intake.settings.channels.bfs_email) as session:
        for message in handled:
            done += bool(session.complete(message))
            reached("mail.action.after")
    return done


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
        return ChannelPoll(
            poll.channel,
            files=[a for a in poll.files if self.admits(a.receipt.received_at)],
            messages=[m for m in poll.messages if m.received_at is None or self.admits(m.received_at)],
        )


def with_folder(settings: Settings, channel: Channel, folder: Path) -> Settings:
    """Settings reading one fax channel from ``folder`` instead of its configured path."""
    if channel is Channel.bfs_email:
        mail = settings.channels.bfs_email.model_copy(update={"maildir": folder, "enabled": True, "action": "none"})
        channels = settings.channels.model_copy(update={"bfs_email": mail})
    else:
        name = channel.value
        updated = folder_settings(settings, channel).model_copy(update={"path": folder, "enabled": True})
        channels = settings.channels.model_copy(update={name: updated})
    return settings.model_copy(update={"channels": channels})


def run_once(intake: Intake) -> list[CommitSummary]:
    """The whole pipeline, sequentially and without Prefect (tests, and the reference for scale-out).

    Mirrors ``flows.daily``: poll every enabled channel, parse, commit, then the source actions.
    """
    polls = []
    for channel in Channel:
        if channel_enabled(intake.settings, channel):
            polls.append(poll_mail(intake) if channel is Channel.bfs_email else poll_fax(intake, channel))
    for poll in polls:
        for document in poll.documents:
            if needs_parsing(intake, document.receipt.sha256):
                parse_document(intake.settings, document.receipt.sha256, document.receipt.file_name)
    summaries = []
    for poll in polls:
        summaries += [commit_file(intake, arrival) for arrival in poll.files]
        summaries += [commit_message(intake, message) for message in poll.messages]
        complete_messages(intake, poll.messages)
    return summaries


def years_in_ledger(intake: Intake) -> list[int]:
    """Calendar years (department zone) that have at least one request, oldest first."""
    zone = intake.settings.department.zone
    years = {view.first_received_at.astimezone(zone).year for view in intake.ledger.requests()}
    return sorted(years)
