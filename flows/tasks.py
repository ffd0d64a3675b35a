"""The steps of ``flows.steps`` as Prefect tasks, and ``PrefectSteps``: the sequence's runner under Prefect.

Correctness never depends on Prefect's caching: the ledger knows what was committed, so a
rerun of a failed flow run does only the remaining work. Tasks persist no results and take
or return only hashes, counts, ledger ids and the arrivals in memory; exception text is
scrubbed before it becomes a Prefect state message. A failed task is recorded (``failures``,
``parse_failures``) and the run goes on with the other channels and arrivals.

Parse tasks run on the run's task runner (threads here, or Dask workers on other machines):
they need only the settings, the archive and the extraction cache, which every worker must
share (``StorageNotShared`` says which, when one does not).
"""

from __future__ import annotations

import functools
import logging
import re
import socket
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, as_completed
from prefect.states import State
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import NotSet

from core.config import Settings
from core.errors import ChannelUnavailable, ConfigError, IntakeError, LedgerError
from core.logs import redact
from flows import steps
from flows.artifacts import publish_run_artifacts
from flows.progress import Progress
from flows.run_names import commit_run_name, complete_run_name
from flows.sequence import PollFailed, poll_failure_reason
from flows.steps import ChannelPoll, CommitSummary, Intake
from ingest.archive import Archive
from ingest.channel import Arrival, IntakeChannel

log = logging.getLogger(__name__)  # the project's lines, in the flow run's logs (flows.daily.project_logs_to_prefect)
P = ParamSpec("P")
R = TypeVar("R")

class StepFailed(IntakeError):
    """A pipeline step failed; the message is scrubbed of personal data."""


class TransientStepFailed(StepFailed):
    """A step failed for a reason a later attempt can fix (an I/O hiccup, a timeout); scrubbed too."""


class StorageNotShared(ConfigError):
    """A worker and the flow do not see the same archive or extraction cache (scale-out set-up)."""

    remedy = (
        "Mount [archive] path and [archive] extraction_cache (default <path>-extractions) at the same "
        "path on the flow's machine and every Dask worker (README, Running on several machines)."
    )


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
    archive = Archive(settings.archive.path)
    if sha256 not in archive:  # stored by the poll before any parse: this worker sees another folder
        raise StorageNotShared(
            f"the worker on {socket.gethostname()} cannot see archived documents in the archive ([archive] path "
            f"{archive.root}): it must be one folder shared by the flow and every worker"
        )
    return steps.parse_document(settings, sha256, file_name)


def in_worker_parsing(settings: Settings) -> Settings:
    """The settings a parse task gets on a runner that runs tasks in processes of their own (Dask):
    each reads its pages in that process (``[parsing] workers = 1``); the runner is the parallelism."""
    return settings.model_copy(update={"parsing": settings.parsing.model_copy(update={"workers": 1})})


def runner_error(future: PrefectFuture[Any]) -> str | None:
    """Why the task runner itself failed a task that never ran (no state message): e.g. a Dask
    scheduler that cannot unpickle the task's graph. Its first line, class first; None if none."""
    wrapped = getattr(future, "wrapped_future", None)
    exception = getattr(wrapped, "exception", None)
    if exception is None:
        return None
    try:
        error = exception(timeout=0)
    except Exception:  # not done, cancelled: nothing to say
        return None
    if error is None:
        return None
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}"


_PREFECT_PREFIX = re.compile(r"^Task run encountered an exception ")
_HASH = re.compile(r"\b[0-9a-f]{12,64}\b")


def failure_cause(message: str | None) -> str:
    """A failed parse's state message as a class of cause: PII-free (scrubbed, then ``redact``),
    without Prefect's preamble, content hashes replaced so that one cause counts once."""
    text = _PREFECT_PREFIX.sub("", (message or "").strip()) or "failed (no message)"
    return _HASH.sub("<hash>", redact(text))[:300]


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
    summary = steps.commit_arrival(intake, channel, arrival)
    documents = arrival.documents
    log.info(
        "committed %s %s: %d new receipt(s), %d document(s), %d detainer copy(ies), %d quarantined",
        summary.channel,
        documents[0].receipt.sha256[:12] if documents else "message",
        summary.receipts_new,
        summary.documents_new,
        summary.detainer_copies,
        summary.quarantined,
    )
    return summary


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

    def __init__(self, logger: Any, task_runner: TaskRunner[Any]) -> None:
        self.logger = logger
        self.task_runner = task_runner  # entered by the flow; parse tasks are submitted to it
        self.failures: list[str] = []  # PII-free: "<channel>: <scrubbed state message>"
        self.parse_failures: Counter[str] = Counter()  # PII-free cause -> documents
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
        limits): a Prefect timeout cannot interrupt a task running in a worker thread. On threads
        the tasks share this process's pool of ``[parsing] workers`` Tesseract processes; on a
        runner with processes of its own (Dask) each task reads in its process. A document the
        flow cannot then find in the extraction cache counts as not parsed (``StorageNotShared``),
        rather than being read a second time here.
        """
        settings = intake.settings
        if not isinstance(self.task_runner, ThreadPoolTaskRunner):
            settings = in_worker_parsing(settings)
        parsing: dict[str, PrefectFuture[str]] = {
            sha: self.task_runner.submit(parse_task, {"settings": settings, "sha256": sha, "file_name": name})
            for sha, name in documents.items()
        }
        for done in as_completed(list(parsing.values())):
            done.wait()  # records the final state locally: ``.state`` would ask the API, which may lag behind
            self._advance()
        failed: set[str] = set()
        for sha, future in parsing.items():
            state = future.state
            if not state.is_completed():
                self.parse_failures[failure_cause(state.message or runner_error(future))] += 1
            elif not intake.cache.path_for(sha).is_file():
                cause = StorageNotShared(
                    f"the flow cannot see what a worker read in the extraction cache ([archive] extraction_cache "
                    f"{intake.cache.root}): it must be one folder shared by the flow and every worker"
                )
                self.parse_failures[f"{type(cause).__name__}: {cause.message}"] += 1
            else:
                continue
            failed.add(sha)
        if failed:
            self.logger.warning(
                "%d document(s) could not be parsed this run; they stay in the archive. Causes: %s",
                len(failed),
                self.parse_causes(),
            )
        return failed

    def parse_causes(self) -> str:
        """Each distinct cause of a failed parse with its count, most frequent first (PII-free)."""
        return "; ".join(f"{count} x {cause}" for cause, count in self.parse_failures.most_common())

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
        parse_failures = [f"parse: {count} x {cause}" for cause, count in self.parse_failures.most_common()]
        publish_metrics_task(intake, summaries, [*self.failures, *parse_failures])

    def _advance(self) -> None:
        if self.progress is not None:
            self.progress.advance()
