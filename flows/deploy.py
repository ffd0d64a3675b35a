"""Deployments: ``daily_intake`` on its schedule, ``backfill`` and ``annual_report`` to run from the UI,
``archive_verify`` monthly.

Two set-ups (README, "Scheduling"):
- one machine: ``prefect server start`` in one terminal, ``detainer-intake serve`` in another
  (``prefect.serve``: the deployments, their schedules and a runner in one process). The served
  deployments are named ``<name>-served`` (``SERVED_NAMES``), so that a ``prefect deploy`` from
  ``prefect.yaml`` (``<name>``) never silently replaces one, nor one of them a deployed one.
  Stopping ``serve`` pauses the served schedules (Prefect's ``pause_on_shutdown``); the next
  ``serve`` resumes them.
- a Prefect server on PostgreSQL with a worker: ``prefect deploy --all`` from ``prefect.yaml`` and
  ``prefect worker start --pool detainer-intake``.
Either way a run takes its task runner from the configuration it loads (``[flows]``, bounded
by ``[parsing] workers``: ``flows.daily.task_runner_for``), not from the deployment, and reads
the configuration when it runs: ``serve --config FILE`` passes FILE's path (never its content);
``prefect.yaml`` passes nothing, so the worker's ``$DETAINER_INTAKE_CONFIG`` is read at run time.

The daily schedule is ``[flows] schedule_cron`` / ``schedule_timezone`` for ``serve``; ``prefect.yaml``
cannot read the configuration and spells out their defaults (``DAILY_CRON``, ``SCHEDULE_TIMEZONE``;
a test keeps the two equal). Prefect's cron schedules default to UTC, so the zone is always given.
A deployment concurrency limit of 1 (ENQUEUE) keeps two runs of a deployment from overlapping;
a daily run and a backfill queue behind one another on the ledger's run lock
(``[flows] lock_wait_minutes``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType
from prefect.schedules import Cron, Schedule

from core.config import FlowSettings, Settings
from flows.daily import backfill, daily_intake
from flows.report import annual_report
from flows.zombies import HEARTBEAT_ENV, HEARTBEAT_SECONDS, ensure_crash_zombies_automation

DAILY_CRON = FlowSettings().schedule_cron  # prefect.yaml's daily schedule (tests/test_deployment.py)
SCHEDULE_TIMEZONE = FlowSettings().schedule_timezone
ARCHIVE_VERIFY_CRON = "0 3 1 * *"  # monthly, the 1st at 03:00 (department time zone)

DEPLOYMENT_NAME = "daily-intake-served"
SERVED_NAMES = {
    "daily_intake": DEPLOYMENT_NAME,
    "backfill": "backfill-served",
    "annual_report": "annual-report-served",
    "archive_verify": "archive-verify-served",
}


# A served run imports its flow as ``flows.daily`` (not the file ``flows/daily.py`` as a module named
# ``daily``), so that what it sends to Dask workers refers to modules the scheduler can import.
MODULE_PATH = EntrypointType.MODULE_PATH


def daily_schedule(settings: Settings) -> Schedule:
    return Cron(settings.flows.schedule_cron, timezone=settings.flows.schedule_timezone)


def _one_at_a_time() -> ConcurrencyLimitConfig:
    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)


def served_deployments(config_path: Path | None, settings: Settings) -> list[Any]:
    """The deployments ``serve`` registers: the scheduled ones and those run from the UI with parameters."""
    config = {"config_path": str(config_path.resolve()) if config_path else None}
    deployments = [
        daily_intake.to_deployment(
            entrypoint_type=MODULE_PATH,
            name=SERVED_NAMES["daily_intake"],
            schedules=[daily_schedule(settings)],
            parameters=config,
            concurrency_limit=_one_at_a_time(),
            description="Poll the dedicated fax line, station faxes and BFS mailbox; commit to the ledger.",
        ),
        backfill.to_deployment(
            entrypoint_type=MODULE_PATH,
            name=SERVED_NAMES["backfill"],
            parameters=config,
            concurrency_limit=_one_at_a_time(),
            description="The daily pipeline over a folder of exports (folder, channel) and/or a date range "
            "(since, until); waits for a daily run holding the run lock.",
        ),
        annual_report.to_deployment(
            entrypoint_type=MODULE_PATH,
            name=SERVED_NAMES["annual_report"],
            parameters=config,
            description="The auditors' report for a year (year, out: a folder on the serving machine); the "
            "figures and channel coverage are the run's annual-report-<year> artifact.",
        ),
    ]
    try:
        from flows.archive import archive_verify
    except ImportError:  # pragma: no cover - the archive check is a separate piece of work
        return deployments
    deployments.append(
        archive_verify.to_deployment(
            entrypoint_type=MODULE_PATH,
            name=SERVED_NAMES["archive_verify"],
            schedules=[Cron(ARCHIVE_VERIFY_CRON, timezone=settings.flows.schedule_timezone)],
            parameters=config,
            concurrency_limit=_one_at_a_time(),
            description="Re-hash every archived file against the ledger (missing, corrupt, unreferenced).",
        )
    )
    return deployments


def serve_daily(config_path: Path | None, settings: Settings) -> None:
    """Register the deployments with their schedules and run their runs until stopped.

    Stopping pauses the served schedules (Prefect's default), so no scheduled run piles up
    unserved; ``serve`` again resumes them. The served runs send a heartbeat every
    ``flows.zombies.HEARTBEAT_SECONDS`` (unless ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` says otherwise)
    and the server's automation marks a killed one Crashed, which frees its concurrency slot.
    """
    os.environ.setdefault(HEARTBEAT_ENV, str(HEARTBEAT_SECONDS))  # the runs' processes inherit it
    ensure_crash_zombies_automation()
    serve(*served_deployments(config_path, settings))
