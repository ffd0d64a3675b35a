"""The Channel protocol: what the orchestrator needs from any channel, whatever it reads.

A channel (the dedicated fax folder, the station folders, the BFS mailbox over IMAP or a
Maildir) is polled for *arrivals*: a fax file, or a mail message with its documents, each with
its provenance (``Receipt``). For every arrival the orchestrator then, in this order:

1. ``arrival.store(archive)``: its bytes into the content-addressed archive;
2. reads each of ``arrival.documents`` once per content hash (parsing knows nothing of channels);
3. ``arrival.commit(recorder, readings)``: one ledger transaction; the arrival knows which
   ledger call records it (a file's receipt, or a message with all its documents);
4. ``channel.complete(arrivals)``: the post-commit source action (``MoveToProcessed`` or
   ``LeaveInPlace`` in ``ingest.folders``; ``ingest.mail_actions``), only for committed arrivals.
   A channel whose action needs nothing but the arrival (a file's move) completes each arrival
   right after its commit (``completes_with_commit``); the mailbox's actions share one
   connection, after every commit of the poll.

``reached`` is the crash-point hook (``flows.crashpoints.reached``); the arrivals and channels
call it at the points that file lists, so the crash harness can stop a run between effects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from core.channels import Channel
from ingest.archive import Archive
from ingest.models import MailMessage, Receipt, ReceivedDocument
from ingest.state import IntakeState

Reached = Callable[[str], None]  # called with a crash point's name


def nowhere(point: str) -> None:
    """A ``Reached`` hook for callers without a crash harness."""


ExtractionT = TypeVar("ExtractionT")  # what the parser read from a document (parsing's ExtractionResult)
OutcomeT = TypeVar("OutcomeT")  # what the ledger reports for one recorded document
E_contra = TypeVar("E_contra", contravariant=True)
O_co = TypeVar("O_co", covariant=True)

Quarantine = tuple[str, str]  # (reason slug, message) of an input that could not be read


@dataclass(frozen=True)
class Reading(Generic[ExtractionT]):
    """What was read from one received document, as the ledger records it."""

    receipt: Receipt
    extraction: ExtractionT
    quarantine: Quarantine | None = None


class Recorder(Protocol[E_contra, O_co]):
    """The ledger's recording side, as the arrivals call it (``ledger.Ledger`` implements it)."""

    def record(self, receipt: Receipt, extraction: E_contra, *, quarantine: Quarantine | None = None) -> O_co: ...

    def record_message(
        self, message: MailMessage, documents: Sequence[tuple[Receipt, E_contra, Quarantine | None]] = ()
    ) -> Sequence[O_co]: ...

    def record_unreadable(
        self, source_key: str, channel: str, reason: str, received_at: datetime, slug: str = "unreadable_file"
    ) -> None:
        """A file listed but not read (unreadable, or over the input limit): a quarantine record by its source key."""
        ...


@dataclass(frozen=True)
class Committed(Generic[OutcomeT]):
    """What one arrival's commit recorded: the ledger's outcomes, and the mail messages it settled."""

    outcomes: Sequence[OutcomeT]
    messages_handled: int = 0
    messages_failed: int = 0


class Arrival(Protocol):
    """One arrival on a channel, with its provenance and bytes."""

    @property
    def channel(self) -> Channel: ...

    @property
    def documents(self) -> Sequence[ReceivedDocument]:
        """The new documents to read and record (none for a mail message that failed)."""
        ...

    @property
    def received_at(self) -> datetime | None: ...

    def store(self, archive: Archive, reached: Reached = nowhere) -> None:
        """Put every byte that arrived into the archive (before anything is committed)."""
        ...

    def commit(
        self,
        recorder: Recorder[ExtractionT, OutcomeT],
        readings: Sequence[Reading[ExtractionT]],
        reached: Reached = nowhere,
    ) -> Committed[OutcomeT]:
        """Record the arrival with what was read from ``documents`` (same order) in one transaction."""
        ...


class IntakeChannel(Protocol):
    """One channel: polled for arrivals; completed (source action) after their commit."""

    @property
    def name(self) -> Channel: ...

    @property
    def enabled(self) -> bool:
        """Configured and switched on."""
        ...

    @property
    def completes_with_commit(self) -> bool:
        """True: ``complete`` each arrival right after its commit; False: once, after every commit of the poll."""
        ...

    @property
    def poll_retries(self) -> PollRetries: ...

    def within(self, since: date | None, until: date | None) -> IntakeChannel:
        """This channel for a backfill of ``since``..``until``: a channel that can leave the rest unread at
        its source (the mailbox's server-side SEARCH) does; the run still applies the exact window."""
        ...

    def reading(self, folder: Path) -> IntakeChannel:
        """This channel reading ``folder`` instead of its configured place (backfills of exports)."""
        ...

    def poll(self, state: IntakeState) -> Iterator[Arrival]:
        """New arrivals, oldest first; ``ChannelUnavailable`` when the channel cannot be read at all."""
        ...

    def describe(self, arrivals: Sequence[Arrival]) -> str:
        """A PII-free count of what a poll found, for the log."""
        ...

    def complete(self, arrivals: Sequence[Arrival], state: IntakeState, reached: Reached = nowhere) -> int:
        """The post-commit source action for committed ``arrivals``; returns how many were done."""
        ...


@dataclass(frozen=True)
class PollRetries:
    """How often a failed poll is worth repeating within a run (a mailbox drops connections; a share rarely)."""

    retries: int
    first_delay_seconds: float
    jitter_factor: float | None = None
