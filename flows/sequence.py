"""The run, written once: poll every channel, parse each new content once, commit, complete, publish.

``run_sequence`` is the order of the steps (``flows.steps``); a ``StepRunner`` says how each
step runs. ``InProcess`` calls the steps directly and lets any failure end the run (the tests'
and the reference run, ``run_once``); ``flows.tasks.PrefectSteps`` runs them as Prefect tasks
with retries, parses in parallel on the task runner and records a failed step instead of
raising, so the other channels and arrivals still go on. No Prefect here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from flows import steps
from flows.crashpoints import reached
from flows.steps import ChannelPoll, CommitSummary, DateWindow, Intake
from ingest.channel import Arrival, IntakeChannel
from ingest.configured import open_channels


class StepRunner(Protocol):
    """How each step of the sequence runs. A runner that records a failure returns None (or the failed hashes)."""

    def poll(self, intake: Intake, channel: IntakeChannel) -> ChannelPoll | None: ...

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
class RunResult:
    polls: list[ChannelPoll]
    summaries: list[CommitSummary]
    unparsed: set[str]  # content hashes that could not be read this run (their arrivals wait)

    @property
    def documents(self) -> int:
        return sum(len(poll.documents) for poll in self.polls)


def run_sequence(
    intake: Intake,
    runner: StepRunner,
    channels: Sequence[IntakeChannel] | None = None,
    window: DateWindow | None = None,
) -> RunResult:
    """One run over ``channels`` (default: every enabled channel), arrivals limited to ``window``.

    Order of effects per arrival: archived (in the poll) -> parsed -> committed -> source action.
    An arrival whose document could not be parsed is not committed: the next run takes it again.
    """
    polls: list[ChannelPoll] = []
    for channel in open_channels(intake.settings) if channels is None else channels:
        poll = runner.poll(intake, channel)
        if poll is not None:
            polls.append(window.apply(poll) if window else poll)

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
    return RunResult(polls, summaries, unparsed)


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


def run_once(intake: Intake) -> list[CommitSummary]:
    """The whole pipeline, sequentially and without Prefect (tests, and the reference for scale-out)."""
    return run_sequence(intake, InProcess()).summaries
