"""The steps of ``flows.steps`` as Prefect tasks, and ``PrefectSteps``: the sequence's runner under Prefect.

Correctness never depends on Prefect's caching: the ledger knows what was committed, so a
rerun of a failed flow run does only the remaining work. Tasks persist no results and take
or return only hashes, counts, ledger ids and the arrivals in memory; exception text is
scrubbed before it becomes a Prefect state message. A failed task is recorded (``failures``)
and the run goes on with the other channels and arrivals.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, as_completed
from prefect.states import State
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import NotSet

from core.config import Settings
from core.errors import ChannelUnavailable, IntakeError, LedgerError
from core.logs import redact
from flows import steps
from flows.artifacts import publish_run_artifacts
from flows.progress import Progress
from flows.run_names import commit_run_name, complete_run_name
from flows.sequence import PollFailed, poll_failure_reason
from flows.steps import ChannelPoll, CommitSummary, Intake
from ingest.channel import Arrival, IntakeChannel

P = ParamSpec("P")
R = TypeVar("R")

class StepFailed(IntakeError):
    """A pipeline step failed; the message is scrubbed of personal data."""


class TransientStepFailed(StepFailed):
    """A step failed for a reason a later attempt can fix (an I/O hiccup, a timeout); scrubbed too."""


# What a retry can fix. OSError and TimeoutError reach Prefect as TransientStepFailed (``scrubbed``
# replaces every untyped error so that no message carries personal data), so the class is decided
# before the scrubbing, from the original error.
TRANSIENT_CAUSES = (OSError, TimeoutError)
TRANSIENT = (ChannelUnavailable, LedgerError, TransientStepFailed, *TRANSIENT_CAUSES)


def scrubbed(func: Callable[P, R]) -> Callable[P, R]:
    """Re-raise any failure as a PII-free error, so Prefect's state message and logs stay clean.

    Typed errors keep their class (for retry decisions); anything else becomes StepFailed, or
    TransientStepFailed when a retry can fix it (``TRANSIENT_CAUSES``).
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except IntakeError as exc:
            raise type(exc)(redact(exc.message)) from None
        except Exception as exc:
            scrubbed_class = TransientStepFailed if isinstance(exc, TRANSIENT_CAUSES) else StepFailed
            raise scrubbed_class(f"{type(exc).__name__}: {redact(str(exc))}") from None

    return wrapper


def _transient(task: Any, task_run: Any, state: State) -> bool:
    """Retry only what a later attempt can fix: connections, a busy database, I/O hiccups."""
    try:
        state.result()
    except TRANSIENT:
        return True
    except Exception:
        return False
    return False


TASK_DEFAULTS: dict[str, Any] = {"persist_result": False, "cache_policy": NO_CACHE}


# Retries are the channel's (``IntakeChannel.poll_retries``): see ``PrefectSteps.poll``.
@task(name="poll-channel", retry_condition_fn=_transient, **TASK_DEFAULTS)
@scrubbed
def poll_task(intake: Intake, channel: IntakeChannel) -> ChannelPoll:
    return steps.poll_channel(intake, channel)


@task(name="parse-document", task_run_name="parse-{sha256:.12}", **TASK_DEFAULTS)
@scrubbed
def parse_task(settings: Settings, sha256: str, file_name: str) -> str:
    return steps.parse_document(settings, sha256, file_name)


@task(
    name="commit-arrival",
    task_run_name=commit_run_name,
    retries=3,
    retry_delay_seconds=exponential_backoff(2),
    retry_condition_fn=_transient,
    **TASK_DEFAULTS,
)
@scrubbed
def commit_task(intake: Intake, channel: IntakeChannel, arrival: Arrival) -> CommitSummary:
    return steps.commit_arrival(intake, channel, arrival)


@task(
    name="complete-committed",
    task_run_name=complete_run_name,
    retries=2,
    retry_delay_seconds=exponential_backoff(5),
    retry_condition_fn=_transient,
    **TASK_DEFAULTS,
)
@scrubbed
def complete_task(intake: Intake, channel: IntakeChannel, arrivals: list[Arrival]) -> int:
    return steps.complete_arrivals(intake, channel, arrivals)


@task(name="publish-metrics", task_run_name="publish-metrics", **TASK_DEFAULTS)
@scrubbed
def publish_metrics_task(intake: Intake, summaries: list[CommitSummary], failures: list[str]) -> dict[str, Any]:
    return publish_run_artifacts(intake, summaries, failures)


def _poll_failure(state: State[Any]) -> str:
    """The PII-free reason of a failed poll task, for the ledger's poll record."""
    try:
        error = state.result(raise_on_failure=False)
    except Exception:  # no result to look at
        error = None
    if isinstance(error, StepFailed):  # an untyped error, scrubbed: only its class is kept
        return error.message.split(":", 1)[0]
    return poll_failure_reason(error if isinstance(error, BaseException) else None, state.message)


class PrefectSteps:
    """Runs each step of ``flows.sequence`` as a Prefect task (``StepRunner``); records what failed."""

    def __init__(self, logger: Any) -> None:
        self.logger = logger
        self.failures: list[str] = []  # PII-free: "<channel>: <scrubbed state message>"
        self.progress: Progress | None = None

    def poll(self, intake: Intake, channel: IntakeChannel) -> ChannelPoll | PollFailed:
        retries = channel.poll_retries
        polling = poll_task.with_options(
            name=f"poll-{channel.name.value}",
            task_run_name=f"poll-{channel.name.value}",
            retries=retries.retries,
            retry_delay_seconds=exponential_backoff(retries.first_delay_seconds),
            retry_jitter_factor=NotSet if retries.jitter_factor is None else retries.jitter_factor,
        )
        state: State[ChannelPoll] = polling(intake, channel, return_state=True)
        if state.is_completed():
            return state.result()
        self.failures.append(f"{channel.name.value}: {state.message or 'could not be read'}")
        return PollFailed(channel, _poll_failure(state))

    def begin(self, total: int) -> None:
        self.progress = Progress(total=total)

    def parse(self, intake: Intake, documents: dict[str, str]) -> set[str]:
        """Each document in parallel on the task runner.

        A pathological page is bounded inside parsing (per-page Tesseract timeout, pixel and page
        limits): a Prefect timeout cannot interrupt a task running in a worker thread.
        """
        parsing: dict[str, PrefectFuture[str]] = {
            sha: parse_task.submit(intake.settings, sha, name) for sha, name in documents.items()
        }
        for done in as_completed(list(parsing.values())):
            done.wait()  # records the final state locally: ``.state`` would ask the API, which may lag behind
            self._advance()
        failed = {sha for sha, future in parsing.items() if not future.state.is_completed()}
        if failed:
            self.logger.warning("%d document(s) could not be parsed this run; they stay in the archive", len(failed))
        return failed

    def commit(self, intake: Intake, channel: IntakeChannel, arrival: Arrival) -> CommitSummary | None:
        state: State[CommitSummary] = commit_task(intake, channel, arrival, return_state=True)
        self._advance()
        if state.is_completed():
            return state.result()
        self.failures.append(f"{arrival.channel.value} commit: {state.message or 'failed'}")
        return None

    def complete(self, intake: Intake, channel: IntakeChannel, arrivals: Sequence[Arrival]) -> None:
        state = complete_task(intake, channel, list(arrivals), return_state=True)
        if not state.is_completed():
            self.logger.warning("%s post-commit action failed; it is redone on the next run", channel.name.value)

    def publish(self, intake: Intake, summaries: list[CommitSummary]) -> None:
        publish_metrics_task(intake, summaries, self.failures)

    def _advance(self) -> None:
        if self.progress is not None:
            self.progress.advance()
