"""The BFS mailbox as a channel (IMAP or Maildir, ``ingest.mailbox``): arrivals are whole messages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from core.channels import Channel
from core.config import MailChannelSettings, Settings
from ingest.archive import Archive
from ingest.channel import Arrival, Committed, PollRetries, Reached, Reading, Recorder, nowhere
from ingest.mailbox import MailboxSession
from ingest.models import MailMessage, ReceivedDocument
from ingest.state import IntakeState

ExtractionT = TypeVar("ExtractionT")
OutcomeT = TypeVar("OutcomeT")


@dataclass(frozen=True)
class MailArrival:
    """One fetched message (``Arrival``): its documents, or the failed attempt to read it."""

    message: MailMessage

    @property
    def channel(self) -> Channel:
        return Channel.bfs_email

    @property
    def documents(self) -> Sequence[ReceivedDocument]:
        return self.message.documents

    @property
    def received_at(self) -> datetime | None:
        return self.message.received_at

    def store(self, archive: Archive, reached: Reached = nowhere) -> None:
        archive.store_message(self.message)
        reached("mail.stored")

    def commit(
        self,
        recorder: Recorder[ExtractionT, OutcomeT],
        readings: Sequence[Reading[ExtractionT]],
        reached: Reached = nowhere,
    ) -> Committed[OutcomeT]:
        """The message and all its documents in one transaction; a failed attempt counts one attempt."""
        if self.message.error is not None:
            recorder.record_message(self.message)
            return Committed([], messages_failed=1)
        documents = [(r.receipt, r.extraction, r.quarantine) for r in readings]
        reached("mail.commit.before")
        outcomes = recorder.record_message(self.message, documents)
        reached("mail.commit.after")
        return Committed(outcomes, messages_handled=1)


class MailChannel:
    """The BFS mailbox (``IntakeChannel``). Its actions share one connection, so they run once every
    message of the poll is committed."""

    name = Channel.bfs_email
    completes_with_commit = False
    poll_retries = PollRetries(retries=3, first_delay_seconds=10, jitter_factor=0.5)

    def __init__(self, name: Channel, settings: Settings) -> None:
        self._settings = settings
        self.mail: MailChannelSettings = settings.channels.bfs_email
        self.since: date | None = None  # a backfill's window, searched on the server (``within``)
        self.until: date | None = None

    @property
    def enabled(self) -> bool:
        return self.mail.enabled and (self.mail.maildir is not None or self.mail.host is not None)

    def reading(self, folder: Path) -> MailChannel:
        """A Maildir export instead of the mailbox; the export is left as it is (no action)."""
        mail = self.mail.model_copy(update={"maildir": folder, "enabled": True, "action": "none"})
        channels = self._settings.channels.model_copy(update={"bfs_email": mail})
        return MailChannel(self.name, self._settings.model_copy(update={"channels": channels}))

    def within(self, since: date | None, until: date | None) -> MailChannel:
        """This channel fetching only messages the server received in ``since``..``until`` (a day wider: the
        caller still applies the exact window); IMAP searches it, so nothing outside it is fetched."""
        channel = MailChannel(self.name, self._settings)
        channel.since, channel.until = since, until
        return channel

    def poll(self, state: IntakeState) -> Iterator[Arrival]:
        with MailboxSession(self.mail) as session:
            for message in session.poll(state, self._settings.department.timezone, self.since, self.until):
                yield MailArrival(message)

    def describe(self, arrivals: Sequence[Arrival]) -> str:
        return f"{len(arrivals)} message(s), {sum(len(a.documents) for a in arrivals)} document(s)"

    def complete(self, arrivals: Sequence[Arrival], state: IntakeState, reached: Reached = nowhere) -> int:
        """Flag or move the committed messages over one connection; returns how many were done."""
        messages = [arrival.message for arrival in arrivals if isinstance(arrival, MailArrival)]
        handled = [message for message in messages if state.mail_handled(message.message_key)]
        if not handled:
            return 0
        done = 0
        with MailboxSession(self.mail) as session:
            for message in handled:
                done += bool(session.complete(message))
                reached("mail.action.after")
        return done
