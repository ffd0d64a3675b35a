"""Prefect flows: ``daily_intake`` (and ``backfill`` over other folders) around ``flows.sequence``.

The flow adds the run lock, the task runner (threads, or Dask for scale-out), the tasks'
retries (``flows.tasks``), the auditor artifacts and the final state. The task runner is the
one the run's configuration names (``task_runner_for``), entered once the flow has loaded it:
a served or deployed run, which Prefect starts with the flow's default runner, honours
``[flows]`` and is bounded by ``[parsing] workers`` like an in-process one; the order of the steps
is ``flows.sequence.run_sequence``, the same one the in-process run follows. A rerun of a
failed flow run (UI, ``prefect flow-run retry``, ``prefect deployment run`` or
``detainer-intake run``) does only the remaining work: the ledger knows what was committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.context import FlowRunContext
from prefect.flow_engine import FlowRunTimeoutError
from prefect.logging.handlers import APILogHandler
from prefect.states import Completed, Failed, State
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.utilities.timeout import timeout

from core.channels import Channel
from core.config import Settings, load_settings
from core.errors import RunLocked
from core.logs import configure_console, install_redaction, redact
from flows.run_names import backfill_run_name, dated
from flows.sequence import run_sequence
from flows.steps import DateWindow, Intake
from flows.storage_probe import unshared_storage
from flows.tasks import PrefectSteps
from ingest.channel import IntakeChannel
from ingest.configured import channel_for
from parsing.extract import worker_count


def task_runner_for(settings: Settings) -> Any:
    """Dask on request; else threads, one per page read at once (``[parsing] workers``, 0 = one per
    core): the parse tasks share one pool of that many Tesseract processes, so no more run at once."""
    if settings.flows.task_runner == "dask":
        from prefect_dask import DaskTaskRunner  # imported lazily: only scale-out needs dask

        if settings.flows.dask_address:
            return DaskTaskRunner(address=settings.flows.dask_address)
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": settings.flows.dask_workers, "threads_per_worker": 1, "processes": True}
        )
    return ThreadPoolTaskRunner(max_workers=worker_count(settings.parsing))


class FromConfiguration(ThreadPoolTaskRunner):
    """The flows' default task runner, a stand-in: a run parses on the runner its configuration
    names (``task_runner_for``), known only once the flow has loaded it. A runner given with
    ``with_options(task_runner=...)`` is used as given."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)

    def duplicate(self) -> FromConfiguration:
        return type(self)()

    @classmethod
    def default(cls) -> Any:  # typed for ``@flow(task_runner=...)``, whose future type it does not share
        return cls()


def _task_runner(settings: Settings) -> AbstractContextManager[TaskRunner[Any]]:
    """This run's task runner, to enter: the configured one, unless the flow was given its own."""
    context = FlowRunContext.get()
    given = context.task_runner if context is not None else None
    if given is not None and not isinstance(given, FromConfiguration):
        return nullcontext(given)  # already entered by the flow engine
    return task_runner_for(settings)  # type: ignore[no-any-return]


# The project's own loggers (``logging.getLogger(__name__)`` in each layer): their lines (per channel
# poll, per document, per commit; ids, hashes and counts only, redacted by ``core.logs``) belong in
# the flow run's logs in the Prefect UI, however the run was started.
PROJECT_LOGGERS = ("core", "ingest", "parsing", "ledger", "application", "flows")


@contextmanager
def project_logs_to_prefect() -> Iterator[None]:
    """Send the project's log lines to the Prefect API for the duration of a flow run.

    Prefect sends only its own loggers' lines (and ``PREFECT_LOGGING_EXTRA_LOGGERS``, which a served or
    worker process would have to be started with); attached here, in the flow, they reach the run's
    logs in the UI for in-process, served and deployed runs alike. Detached at the end, so lines
    logged outside a run are not sent (Prefect would warn that there is no run to send them to).
    """
    attached: list[tuple[logging.Logger, APILogHandler]] = []
    for name in PROJECT_LOGGERS:
        logger = logging.getLogger(name)
        if any(isinstance(handler, APILogHandler) for handler in logger.handlers):
            continue  # already there (PREFECT_LOGGING_EXTRA_LOGGERS)
        handler = APILogHandler()
        logger.addHandler(handler)
        attached.append((logger, handler))
    install_redaction()  # the handlers just added get the redacting filter too
    try:
        yield
    finally:
        for logger, handler in attached:
            handler.flush()
            logger.removeHandler(handler)


def _lock_wait_seconds(settings: Settings, wait_for_lock: bool) -> float:
    return settings.flows.lock_wait_minutes * 60.0 if wait_for_lock else 0.0


@contextmanager
def _run_lock(intake: Intake, wait_seconds: float, logger: Any) -> Iterator[None]:
    """Hold the run lock; when another run holds it, say so in the run's log and wait up to
    ``wait_seconds`` (0: refused at once, ``RunLocked``)."""
    with ExitStack() as stack:
        try:
            stack.enter_context(intake.ledger.run_lock("daily_intake"))
        except RunLocked as held:
            if wait_seconds <= 0:
                raise
            logger.info(
                "%s: waiting up to %g minute(s) for it ([flows] lock_wait_minutes)",
                redact(held.message),
                wait_seconds / 60,
            )
            stack.enter_context(intake.ledger.run_lock("daily_intake", wait_seconds))
            logger.info("run lock acquired")
        yield


def intake_pipeline(
    settings: Settings,
    channels: list[IntakeChannel] | None = None,
    window: DateWindow | None = None,
    wait_for_lock: bool = True,
) -> State:
    """The body shared by ``daily_intake`` and ``backfill``: run inside a flow.

    The run ends TimedOut (a Failed state) after ``[flows] timeout_minutes``. Unless
    ``wait_for_lock`` is false (an operator's in-process run, which is refused at once), a run that
    finds the run lock held (a backfill and the daily run at once) waits up to
    ``[flows] lock_wait_minutes`` for it: the two queue behind one another.
    """
    configure_console()
    logger = get_run_logger()
    with project_logs_to_prefect(), timeout(settings.flows.timeout_minutes * 60.0, FlowRunTimeoutError):
        intake = Intake.open(settings)
        try:
            with (
                _run_lock(intake, _lock_wait_seconds(settings, wait_for_lock), logger),
                _task_runner(settings) as task_runner,
            ):
                unreachable = _unreachable(task_runner)
                if unreachable is not None:
                    return Failed(message=unreachable)
                unshared = unshared_storage(task_runner, intake)  # every Dask worker sees the archive and cache
                if unshared is not None:
                    return Failed(message=unshared)
                return _run(intake, PrefectSteps(logger, task_runner), channels, window)
        finally:
            intake.close()


def _unreachable(task_runner: TaskRunner[Any]) -> str | None:
    """Connect a Dask runner now, so that a scheduler that cannot be reached fails the run at its
    start, before anything is polled, and also when there is nothing to parse (the runner would
    only connect at the first parse). None when the runner is ready."""
    if isinstance(task_runner, ThreadPoolTaskRunner):
        return None
    from prefect_dask import DaskTaskRunner

    if not isinstance(task_runner, DaskTaskRunner):
        return None
    where = f"the Dask scheduler at {task_runner.address}" if task_runner.address else "a local Dask cluster"
    try:
        task_runner.client  # noqa: B018 - connects (or starts the local cluster)
    except (OSError, TimeoutError) as exc:
        return (
            f"{where} cannot be reached ({type(exc).__name__}): start the scheduler and its workers, or set "
            '[flows] task_runner = "thread"; nothing was polled, parsed or committed'
        )
    return None


def _run(
    intake: Intake, runner: PrefectSteps, channels: list[IntakeChannel] | None, window: DateWindow | None
) -> State:
    result = run_sequence(intake, runner, channels, window)
    failures = runner.failures
    if failures or result.unparsed:
        causes = [*failures, runner.parse_causes()] if result.unparsed else failures
        return Failed(
            message=f"{len(failures)} channel/commit failure(s), {len(result.unparsed)} parse failure(s): "
            + "; ".join(causes)[:800]
        )
    return Completed(message=f"{result.documents} new document(s) committed")


@flow(
    name="daily_intake",
    flow_run_name=dated("intake"),
    task_runner=FromConfiguration.default(),
    log_prints=False,
    persist_result=False,
)
def daily_intake(config_path: str | None = None, wait_for_lock: bool = True) -> State:
    """Poll the three channels, parse what is new, commit it to the ledger, publish metrics.

    ``config_path`` empty: ``$DETAINER_INTAKE_CONFIG`` of the process that runs it, read at run time.
    ``wait_for_lock``: wait up to ``[flows] lock_wait_minutes`` for a run holding the run lock.
    """
    settings = load_settings(Path(config_path) if config_path else None)
    return intake_pipeline(settings, wait_for_lock=wait_for_lock)


def run_daily_intake(settings_path: Path | None, settings: Settings) -> State:
    """Run ``daily_intake`` in-process (ephemeral Prefect by default); it picks the configured task runner."""
    try:
        # an operator at a terminal is told at once that another run holds the lock (exit 7)
        return daily_intake(str(settings_path) if settings_path else None, wait_for_lock=False, return_state=True)
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


@flow(
    name="backfill",
    flow_run_name=backfill_run_name,
    task_runner=FromConfiguration.default(),
    log_prints=False,
    persist_result=False,
)
def backfill(
    config_path: str | None = None,
    folder: str | None = None,
    channel: Channel = Channel.station_fax,
    since: date | None = None,
    until: date | None = None,
    wait_for_lock: bool = True,
) -> State:
    """The daily pipeline over a folder of historical exports and/or a date range.

    ``folder`` replaces the channel's configured folder (for station_fax: one subfolder per
    station); without it the configured channels are read. Only arrivals received between
    ``since`` and ``until`` (inclusive, department time zone) are taken; others are left for a
    later run. Already-committed arrivals are skipped as always. ``wait_for_lock`` as for
    ``daily_intake``: a backfill started from the UI waits for a daily run, and the daily run for it.
    """
    settings = load_settings(Path(config_path) if config_path else None)
    channels = None
    if folder is not None:
        channels = [channel_for(channel, settings).reading(Path(folder))]
    window = DateWindow(since, until, settings.department.zone) if (since or until) else None
    return intake_pipeline(settings, channels, window, wait_for_lock)


def run_backfill(settings_path: Path | None, settings: Settings, **parameters: Any) -> State:
    try:
        return backfill(
            str(settings_path) if settings_path else None, wait_for_lock=False, return_state=True, **parameters
        )
    finally:
        stop_temporary_server()
