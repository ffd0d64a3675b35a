"""Scheduled deployments of ``daily_intake``.

Two set-ups (README, "Scheduling"):
- one machine: ``prefect server start`` in one terminal, ``detainer-intake serve`` in another
  (``flow.serve``: the deployment, its cron schedule and a runner in one process);
- a Prefect server on PostgreSQL with a worker: ``prefect deploy`` from ``prefect.yaml`` and
  ``prefect worker start --pool detainer-intake``.
Either way a run takes its task runner from the configuration it loads (``[flows]``, bounded
by ``[parsing] workers``: ``flows.daily.task_runner_for``), not from the deployment.
Prefect's cron schedules default to UTC, so the time zone is always given explicitly. A
deployment concurrency limit of 1 (ENQUEUE) keeps two daily runs from overlapping; the
ledger's run lock backs it up for runs started outside Prefect.
"""

from __future__ import annotations

from pathlib import Path

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron, Schedule

from core.config import Settings
from flows.daily import daily_intake

DEPLOYMENT_NAME = "daily-intake"


def daily_schedule(settings: Settings) -> Schedule:
    return Cron(settings.flows.schedule_cron, timezone=settings.flows.schedule_timezone)


def serve_daily(config_path: Path | None, settings: Settings) -> None:
    """Register the deployment with its schedule and run scheduled/triggered runs until stopped."""
    daily_intake.serve(
        name=DEPLOYMENT_NAME,
        schedules=[daily_schedule(settings)],
        parameters={"config_path": str(config_path.resolve()) if config_path else None},
        global_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
        description="Poll the dedicated fax line, station faxes and BFS mailbox; commit to the ledger.",
    )
