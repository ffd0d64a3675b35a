"""Prefect flows: ``daily_intake`` (and ``backfill`` over other folders) around ``flows.sequence``.

The flow adds the run lock, the task runner (threads, or Dask for scale-out), the tasks'
retries (``flows.tasks``), the auditor artifacts and the final state; the order of the steps
is ``flows.sequence.run_sequence``, the same one the in-process run follows. A rerun of a
failed flow run (UI, ``prefect flow-run retry``, ``prefect deployment run`` or
``detainer-intake run``) does only the remaining work: the ledger knows what was committed.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner

from core.channels import Channel
from core.config import Settings, load_settings
from core.logs import configure_console
from flows.run_names import backfill_run_name, dated
from flows.sequence import run_sequence
from flows.steps import DateWindow, Intake
from flows.tasks import PrefectSteps
from ingest.channel import IntakeChannel
from ingest.configured import channel_for


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
    settings: Settings, channels: list[IntakeChannel] | None = None, window: DateWindow | None = None
) -> State:
    """The body shared by ``daily_intake`` and ``backfill``: run inside a flow."""
    configure_console()
    logger = get_run_logger()
    intake = Intake.open(settings)
    try:
        with intake.ledger.run_lock("daily_intake"):
            return _run(intake, channels, logger, window)
    finally:
        intake.close()


def _run(intake: Intake, channels: list[IntakeChannel] | None, logger: Any, window: DateWindow | None) -> State:
    runner = PrefectSteps(logger)
    result = run_sequence(intake, runner, channels, window)
    failures = runner.failures
    if failures or result.unparsed:
        return Failed(
            message=f"{len(failures)} channel/commit failure(s), {len(result.unparsed)} parse failure(s): "
            + "; ".join(failures)[:800]
        )
    return Completed(message=f"{result.documents} new document(s) committed")


@flow(name="daily_intake", flow_run_name=dated("intake"), log_prints=False, persist_result=False)
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


@flow(name="backfill", flow_run_name=backfill_run_name, log_prints=False, persist_result=False)
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
        channels = [channel_for(channel, settings).reading(Path(folder))]
    window = DateWindow(since, until, settings.department.zone) if (since or until) else None
    return intake_pipeline(settings, channels, window)


def run_backfill(settings_path: Path | None, settings: Settings, **parameters: Any) -> State:
    configured = backfill.with_options(task_runner=task_runner_for(settings))
    try:
        return configured(str(settings_path) if settings_path else None, return_state=True, **parameters)
    finally:
        stop_temporary_server()
