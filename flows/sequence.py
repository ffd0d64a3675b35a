"""The run, written once: poll every channel, parse each new content once, commit, complete, publish.

``run_sequence`` is the order of the steps (``flows.steps``); a ``StepRunner`` says how each
step runs. ``InProcess`` calls the steps directly and lets any failure end the run (the tests'
and the reference run, ``run_once``); ``flows.tasks.PrefectSteps`` runs them as Prefect tasks
with retries, parses in parallel on the task runner and records a failed step instead of
raising, so the other channels and arrivals still go on. No Prefect here.

A run over the configured channels records in the ledger one poll per channel
(``ledger.channel_polls``): ``read`` with the new arrivals it found, ``failed`` with a PII-free
reason, or ``disabled`` ("enabled = false" / "not configured"), so that no channel is silent
and ``metrics`` can tell the days each channel was read. A backfill over a folder of exports
(``channels`` given) is not a poll of a channel and records none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from core.channels import Channel
from core.errors import IntakeError
from core.logs import redact
from flows import steps
from flows.crashpoints import reached
from flows.steps import ChannelPoll, CommitSummary, DateWindow, Intake
from ingest.channel import Arrival, IntakeChannel
from ingest.configured import channel_for, configured_state

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
REASON_MAX = 200


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PollFailed:
    """A poll a runner recorded as failed (the run goes on): the channel and a PII-free reason."""

    channel: IntakeChannel
    reason: str


def poll_failure_reason(error: BaseException | None, message: str | None = None) -> str:
    """What the ledger keeps of a failed poll: a typed error's own message (written PII-free, scrubbed
    again, without its ``<channel>: `` prefix), else only the error's class: an untyped message may
    quote a file name."""
    if isinstance(error, IntakeError) and error.message:
        text = error.message
        for channel in Channel:
            text = text.removeprefix(f"{channel.value}: ")
        return redact(text)[:REASON_MAX]
    if error is not None:
        return type(error).__name__
    return redact(message or "could not be read")[:REASON_MAX]


class StepRunner(Protocol):
    """How each step of the sequence runs. A runner that records a failure returns None, ``PollFailed`` (or the
    failed hashes)."""

    def poll(self, intake: Intake, channel: IntakeChannel) -> ChannelPoll | PollFailed:
        """The channel's new arrivals; a runner that goes on after a failed poll returns ``PollFailed``."""
        ...

    def begin(self, total: int) -> None:
        """``total`` units of work follow: each document to parse and each arrival to commit."""
        ...

    def parse(self, intake: Intake, documents: dict[str, str]) -> set[str]:
        """Read every document (hash -> file name) into the cache; returns the hashes that could not be."""
        ...

    def commit(self, intake: Intake, channel: IntakeChannel, arrival: Arrival) -> CommitSummary | None: ...

    def complete(self, intake: Intake, channel: IntakeChannel, arrivals: Sequence[Arrival]) -> None: ...

    def publish(self, intake: Intake, summaries: list[CommitSummary]) -> None: ...


@dataclass(frozen=True)
class PollOutcome:
    """What a run recorded of one channel's poll (no personal data): for the summaries."""

    channel: str
    outcome: str  # read | failed | disabled
    reason: str | None = None
    items: int = 0

    @property
    def text(self) -> str:
        """``bfs_email disabled (not configured)``, ``station_fax failed: ...``, ``dedicated_fax read (3 new)``."""
        if self.outcome == "read":
            return f"{self.channel} read ({self.items} new)"
        if self.outcome == "disabled":
            return f"{self.channel} disabled ({self.reason})"
        return f"{self.channel} failed: {self.reason}"


@dataclass(frozen=True)
class RunResult:
    polls: list[ChannelPoll]
    summaries: list[CommitSummary]
    unparsed: set[str]  # content hashes that could not be read this run (their arrivals wait)
    channels: list[PollOutcome] = field(default_factory=list)  # every configured channel's poll (not a backfill's)

    @property
    def documents(self) -> int:
        return sum(len(poll.documents) for poll in self.polls)


def run_sequence(
    intake: Intake,
    runner: StepRunner,
    channels: Sequence[IntakeChannel] | None = None,
    window: DateWindow | None = None,
    clock: Clock = utcnow,
) -> RunResult:
    """One run over ``channels`` (default: every configured channel, the disabled ones recorded as such),
    arrivals limited to ``window``. ``clock`` dates the polls recorded in the ledger.

    Order of effects per arrival: archived (in the poll) -> parsed -> committed -> source action.
    An arrival whose document could not be parsed is not committed: the next run takes it again.
    """
    polls, outcomes = _poll_all(intake, runner, channels, clock, window)
    polls = [window.apply(poll) for poll in polls] if window else polls

    to_parse = steps.documents_to_parse(intake, polls)
    runner.begin(len(to_parse) + sum(len(poll.arrivals) for poll in polls))
    unparsed = runner.parse(intake, to_parse)

    summaries: list[CommitSummary] = []
    for poll in polls:
        committed = []
        for arrival in poll.arrivals:
            if any(document.receipt.sha256 in unparsed for document in arrival.documents):
                continue  # not committed: the next run takes it again
            summary = runner.commit(intake, poll.channel, arrival)
            if summary is not None:
                summaries.append(summary)
                committed.append(arrival)
        if committed and not poll.channel.completes_with_commit:
            runner.complete(intake, poll.channel, committed)

    reached("metrics.before")
    runner.publish(intake, summaries)
    return RunResult(polls, summaries, unparsed, outcomes)


def _poll_all(
    intake: Intake, runner: StepRunner, channels: Sequence[IntakeChannel] | None, clock: Clock,
    window: DateWindow | None = None,
) -> tuple[list[ChannelPoll], list[PollOutcome]]:
    """Poll each channel; over the configured channels, record every poll (a disabled one too) in the ledger.

    A runner that raises (``InProcess``) ends the run; its failed poll is recorded first.
    """
    live = channels is None
    polls: list[ChannelPoll] = []
    outcomes: list[PollOutcome] = []

    def record(outcome: PollOutcome, at: datetime) -> None:
        outcomes.append(outcome)
        if live:
            intake.ledger.record_poll(outcome.channel, at, outcome.outcome, outcome.reason, outcome.items)

    try:
        for channel in [channel_for(name, intake.settings) for name in Channel] if live else channels or []:
            if window is not None:  # what the source can leave unread, it does (the mailbox's SEARCH)
                channel = channel.within(window.since, window.until)
            name, at = channel.name.value, clock()
            if live and not channel.enabled:
                state = configured_state(channel.name, intake.settings)
                reason = "enabled = false" if state == "disabled" else "not configured"
                record(PollOutcome(name, "disabled", reason), at)
                continue
            try:
                poll = runner.poll(intake, channel)
            except Exception as exc:
                record(PollOutcome(name, "failed", poll_failure_reason(exc)), at)
                raise
            if isinstance(poll, PollFailed):
                record(PollOutcome(name, "failed", poll.reason), at)
                continue
            record(PollOutcome(name, "read", items=len(poll.arrivals)), at)
            polls.append(poll)
    finally:
        if outcomes:
            log.info("channels: %s", "; ".join(o.text for o in outcomes))
    return polls, outcomes


class InProcess:
    """Every step called directly, in order; the first failure ends the run (``StepRunner``)."""

    def poll(self, intake: Intake, channel: IntakeChannel) -> ChannelPoll:
        return steps.poll_channel(intake, channel)

    def begin(self, total: int) -> None:
        pass

    def parse(self, intake: Intake, documents: dict[str, str]) -> set[str]:
        for sha256, file_name in documents.items():
            steps.parse_document(intake.settings, sha256, file_name)
        return set()

    def commit(self, intake: Intake, channel: IntakeChannel, arrival: Arrival) -> CommitSummary:
        return steps.commit_arrival(intake, channel, arrival)

    def complete(self, intake: Intake, channel: IntakeChannel, arrivals: Sequence[Arrival]) -> None:
        steps.complete_arrivals(intake, channel, arrivals)

    def publish(self, intake: Intake, summaries: list[CommitSummary]) -> None:
        pass  # the auditors' artifacts are Prefect's (flows.artifacts)


def run_once(intake: Intake, clock: Clock = utcnow) -> list[CommitSummary]:
    """The whole pipeline, sequentially and without Prefect (tests, and the reference for scale-out)."""
    return run_sequence(intake, InProcess(), clock=clock).summaries
