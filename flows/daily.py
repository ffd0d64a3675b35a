"""Prefect flows: ``daily_intake`` (and ``backfill`` over other folders) around ``flows.steps``.

Correctness never depends on Prefect's caching: the ledger knows what was committed, so a
rerun of a failed flow run (UI, ``prefect flow-run retry``, ``prefect deployment run`` or
``detainer-intake run``) does only the remaining work. Tasks persist no results and take
or return only hashes, counts and ledger ids; exception text is scrubbed before it becomes
a Prefect state message.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, as_completed
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from core.channels import Channel
from core.config import Settings, load_settings
from core.errors import ChannelUnavailable, IntakeError, LedgerError
from core.logs import configure_console, redact
from flows import steps
from flows.crashpoints import reached
from flows.progress import Progress
from flows.steps import ChannelPoll, CommitSummary, Intake
from ledger.uncertainty import range_text

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger(__name__)

TRANSIENT = (ChannelUnavailable, LedgerError, OSError, TimeoutError)


class StepFailed(IntakeError):
    """A pipeline step failed; the message is scrubbed of personal data."""


def scrubbed(func: Callable[P, R]) -> Callable[P, R]:
    """Re-raise any failure as a PII-free error, so Prefect's state message and logs stay clean.

    Typed errors keep their class (for retry decisions); anything else becomes StepFailed.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except IntakeError as exc:
            raise type(exc)(redact(exc.message)) from None
        except Exception as exc:
            raise StepFailed(f"{type(exc).__name__}: {redact(str(exc))}") from None

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


@task(
    name="poll-fax-folder",
    retries=2,
    retry_delay_seconds=exponential_backoff(5),
    retry_condition_fn=_transient,
    **TASK_DEFAULTS,
)
@scrubbed
def poll_fax_task(intake: Intake, channel: Channel) -> ChannelPoll:
    return steps.poll_fax(intake, channel)


@task(
    name="poll-bfs-mailbox",
    retries=3,
    retry_delay_seconds=exponential_backoff(10),
    retry_jitter_factor=0.5,
    retry_condition_fn=_transient,
    **TASK_DEFAULTS,
)
@scrubbed
def poll_mail_task(intake: Intake) -> ChannelPoll:
    return steps.poll_mail(intake)


@task(name="parse-document", **TASK_DEFAULTS)
@scrubbed
def parse_task(settings: Settings, sha256: str, file_name: str) -> str:
    return steps.parse_document(settings, sha256, file_name)


@task(
    name="commit-file",
    retries=3,
    retry_delay_seconds=exponential_backoff(2),
    retry_condition_fn=_transient,
    **TASK_DEFAULTS,
)
@scrubbed
def commit_file_task(intake: Intake, arrival: steps.FolderArrival) -> CommitSummary:
    return steps.commit_file(intake, arrival)


@task(
    name="commit-message",
    retries=3,
    retry_delay_seconds=exponential_backoff(2),
    retry_condition_fn=_transient,
    **TASK_DEFAULTS,
)
@scrubbed
def commit_message_task(intake: Intake, message: steps.MailMessage) -> CommitSummary:
    return steps.commit_message(intake, message)


@task(
    name="flag-committed-mail",
    retries=2,
    retry_delay_seconds=exponential_backoff(5),
    retry_condition_fn=_transient,
    **TASK_DEFAULTS,
)
@scrubbed
def complete_mail_task(intake: Intake, messages: list[steps.MailMessage]) -> int:
    return steps.complete_messages(intake, messages)


@task(name="publish-metrics", **TASK_DEFAULTS)
@scrubbed
def publish_metrics_task(intake: Intake, summaries: list[CommitSummary], failures: list[str]) -> dict[str, Any]:
    return publish_run_artifacts(intake, summaries, failures)


def task_runner_for(settings: Settings) -> Any:
    """Threads by default (Tesseract already runs one process per core underneath); Dask on request."""
    if settings.flows.task_runner == "dask":
        from prefect_dask import DaskTaskRunner  # imported lazily: only scale-out needs dask

        if settings.flows.dask_address:
            return DaskTaskRunner(address=settings.flows.dask_address)
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": settings.flows.dask_workers, "threads_per_worker": 1, "processes": True}
        )
    return ThreadPoolTaskRunner(max_workers=4)


def intake_pipeline(
    settings: Settings, channels: list[Channel] | None = None, window: steps.DateWindow | None = None
) -> State:
    """The body shared by ``daily_intake`` and ``backfill``: run inside a flow."""
    configure_console()
    logger = get_run_logger()
    intake = Intake.open(settings)
    try:
        with intake.ledger.run_lock("daily_intake"):
            return _run(intake, settings, channels, logger, window)
    finally:
        intake.close()


def _run(
    intake: Intake, settings: Settings, channels: list[Channel] | None, logger: Any, window: steps.DateWindow | None
) -> State:
    wanted = [c for c in (channels or list(Channel)) if steps.channel_enabled(settings, c)]
    failures: list[str] = []
    polls: list[ChannelPoll] = []
    for channel in wanted:
        state: State[ChannelPoll]
        if channel is Channel.bfs_email:
            state = poll_mail_task(intake, return_state=True)
        else:
            state = poll_fax_task(intake, channel, return_state=True)
        if state.is_completed():
            poll = state.result()
            polls.append(window.apply(poll) if window else poll)
        else:
            failures.append(f"{channel.value}: {state.message or 'could not be read'}")

    # Parse each distinct new content once, in parallel on the task runner.
    to_parse: dict[str, str] = {}
    for poll in polls:
        for document in poll.documents:
            sha = document.receipt.sha256
            if sha not in to_parse and steps.needs_parsing(intake, sha):
                to_parse[sha] = document.receipt.file_name
    # A pathological page is bounded inside parsing (per-page Tesseract timeout, pixel and page
    # limits): a Prefect timeout cannot interrupt a task running in a worker thread.
    parsing: dict[str, PrefectFuture[str]] = {
        sha: parse_task.submit(settings, sha, name) for sha, name in to_parse.items()
    }
    progress = Progress(total=len(parsing) + sum(len(p.files) + len(p.messages) for p in polls))
    for done in as_completed(list(parsing.values())):
        done.wait()  # records the final state locally: ``.state`` would ask the API, which may lag behind
        progress.advance()
    parse_failed = {sha for sha, fut in parsing.items() if not fut.state.is_completed()}
    if parse_failed:
        logger.warning("%d document(s) could not be parsed this run; they stay in the archive", len(parse_failed))

    summaries: list[CommitSummary] = []
    committed_messages = []
    for poll in polls:
        for arrival in poll.files:
            if arrival.receipt.sha256 in parse_failed:
                continue  # not committed: the next run takes the file again
            file_state = commit_file_task(intake, arrival, return_state=True)
            _collect(file_state, summaries, failures, arrival.receipt.channel.value)
            progress.advance()
        for message in poll.messages:
            if any(d.receipt.sha256 in parse_failed for d in message.documents):
                continue
            mail_state = commit_message_task(intake, message, return_state=True)
            if _collect(mail_state, summaries, failures, Channel.bfs_email.value):
                committed_messages.append(message)
            progress.advance()
    if committed_messages:
        action_state = complete_mail_task(intake, committed_messages, return_state=True)
        if not action_state.is_completed():
            logger.warning("mail post-commit action failed; it is redone on the next run")

    reached("metrics.before")
    publish_metrics_task(intake, summaries, failures)
    documents = sum(len(p.documents) for p in polls)
    if failures or parse_failed:
        return Failed(
            message=f"{len(failures)} channel/commit failure(s), {len(parse_failed)} parse failure(s): "
            + "; ".join(failures)[:800]
        )
    return Completed(message=f"{documents} new document(s) committed")


def _collect(state: State[CommitSummary], summaries: list[CommitSummary], failures: list[str], channel: str) -> bool:
    if state.is_completed():
        summaries.append(state.result())
        return True
    failures.append(f"{channel} commit: {state.message or 'failed'}")
    return False


def publish_run_artifacts(intake: Intake, summaries: list[CommitSummary], failures: list[str]) -> dict[str, Any]:
    """Auditor artifacts: the current year's channel table and a run summary. No personal data."""
    tz = intake.settings.department.timezone
    year = datetime.now(intake.settings.department.zone).year
    metrics = intake.ledger.metrics(year, tz)
    count_text = range_text(metrics["unique_requests"], metrics["unique_requests_range"],
                            metrics["open_items_moving_count"])
    rate_low, rate_high = metrics["dedicated_line_rate_range"]
    count_low, count_high = metrics["unique_requests_range"]
    rows = [
        {
            "channel": channel,
            "first_arrivals": metrics["first_channel_counts"][channel],
            "any_arrival": metrics["any_channel_counts"][channel],
            "copies": metrics["copies_per_channel"][channel],
        }
        for channel in ("dedicated_fax", "station_fax", "bfs_email")
    ]
    create_table_artifact(
        key="channel-usage",
        table=rows,
        description=(
            f"Detainer requests {year} by channel ({tz}). Unique requests: {count_text}. "
            f"Dedicated-line rate (first arrival): {metrics['dedicated_line_rate']:.1%} "
            f"({rate_low:.1%}–{rate_high:.1%}); "
            f"any arrival: {metrics['dedicated_line_any_rate']:.1%}. "
            f"Reproduce: detainer-intake metrics --year {year} --json"
        ),
    )
    new_requests = {r for s in summaries for r in s.request_ids}
    lines = [
        f"# Intake run summary ({datetime.now(intake.settings.department.zone):%Y-%m-%d %H:%M %Z})",
        "",
        "| figure | value |",
        "|---|---|",
        f"| new arrivals recorded | {sum(s.receipts_new for s in summaries)} |",
        f"| new distinct documents | {sum(s.documents_new for s in summaries)} |",
        f"| detainer forms found | {sum(s.detainer_copies for s in summaries)} |",
        f"| requests touched by this run | {len(new_requests)} |",
        f"| quarantined this run | {sum(s.quarantined for s in summaries)} |",
        f"| possible detainers this run (to review) | {sum(s.possible_detainers for s in summaries)} |",
        f"| mail messages handled / failed | {sum(s.messages_handled for s in summaries)} / "
        f"{sum(s.messages_failed for s in summaries)} |",
        f"| awaiting review (ledger) | {metrics.get('awaiting_review', 0)} |",
        f"| possible requests awaiting review {year} | {metrics['possible_requests_awaiting_review']} |",
        f"| unreadable inputs awaiting review {year} | {metrics['unreadable_inputs']} |",
        f"| unique requests {year} | {count_text} |",
        f"| unique requests range {year} | {count_low}–{count_high} |",
        f"| dedicated-line rate {year} | {metrics['dedicated_line_rate']:.1%} ({rate_low:.1%}–{rate_high:.1%}) |",
    ]
    if failures:
        lines += ["", "## Failures", *[f"- {redact(f)}" for f in failures]]
    create_markdown_artifact(key="intake-run-summary", markdown="\n".join(lines))
    return {
        "year": year,
        "unique_requests": metrics["unique_requests"],
        "unique_requests_range": metrics["unique_requests_range"],
        "dedicated_line_rate_range": metrics["dedicated_line_rate_range"],
        "possible_requests_awaiting_review": metrics["possible_requests_awaiting_review"],
    }


@flow(name="daily_intake", log_prints=False, persist_result=False)
def daily_intake(config_path: str | None = None) -> State:
    """Poll the three channels, parse what is new, commit it to the ledger, publish metrics."""
    settings = load_settings(Path(config_path) if config_path else None)
    return intake_pipeline(settings)


def run_daily_intake(settings_path: Path | None, settings: Settings) -> State:
    """Run ``daily_intake`` in-process with the configured task runner (ephemeral Prefect by default)."""
    configured = daily_intake.with_options(task_runner=task_runner_for(settings))
    try:
        return configured(str(settings_path) if settings_path else None, return_state=True)
    finally:
        stop_temporary_server()


def stop_temporary_server(flush_seconds: float = 3.0) -> None:
    """Stop Prefect's ephemeral API server now, not at interpreter exit.

    Stopped at exit it is cut off while recording task-run events and prints tracebacks after
    our summary. A short pause lets it flush first. No-op when a real server is configured.
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    if get_current_settings().api.url:
        return  # a configured server (or a test harness's): not ours to stop
    servers = list(SubprocessASGIServer._instances.values())  # Prefect keeps no public handle on them
    if servers:
        time.sleep(flush_seconds)
    for server in servers:
        server.stop()


@flow(name="backfill", log_prints=False, persist_result=False)
def backfill(
    config_path: str | None = None,
    folder: str | None = None,
    channel: Channel = Channel.station_fax,
    since: date | None = None,
    until: date | None = None,
) -> State:
    """The daily pipeline over a folder of historical exports and/or a date range.

    ``folder`` replaces the channel's configured folder (for station_fax: one subfolder per
    station); without it the configured channels are read. Only arrivals received between
    ``since`` and ``until`` (inclusive, department time zone) are taken; others are left for a
    later run. Already-committed arrivals are skipped as always.
    """
    settings = load_settings(Path(config_path) if config_path else None)
    channels = None
    if folder is not None:
        settings = steps.with_folder(settings, channel, Path(folder))
        channels = [channel]
    window = steps.DateWindow(since, until, settings.department.zone) if (since or until) else None
    return intake_pipeline(settings, channels, window)


def run_backfill(settings_path: Path | None, settings: Settings, **parameters: Any) -> State:
    configured = backfill.with_options(task_runner=task_runner_for(settings))
    try:
        return configured(str(settings_path) if settings_path else None, return_state=True, **parameters)
    finally:
        stop_temporary_server()
