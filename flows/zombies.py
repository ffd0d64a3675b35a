"""A run whose process was killed (SIGKILL, the OOM killer, a lost machine) is marked Crashed promptly.

Nothing is left for the flow run itself to report then: it stays ``Running`` and keeps its
deployment's concurrency slot (limit 1, ENQUEUE), so the next daily runs queue behind it for
good (Prefect's own lease on the slot only lapses after minutes and leaves the run Running).
Prefect's remedy, set up here for a self-hosted server: every flow run sends a heartbeat event
every ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` seconds (``HEARTBEAT_SECONDS`` for the project's
deployments: ``prefect.yaml``'s job variables, ``serve``), and an automation marks a run of the
project's flows Crashed when ``MISSED_BEATS`` heartbeats in a row do not come, which releases
its concurrency slot; the next run starts. The ledger's run lock is released by the kernel or
the database server as soon as the process dies (``ledger.lock``), and its Tesseract children
die with it (``parsing.limits``).

``serve`` creates the automation; with ``prefect deploy``, once per server::

    python -m flows.zombies        # PREFECT_API_URL set; creates or updates the automation
"""

from __future__ import annotations

import os
from datetime import timedelta
from uuid import UUID

from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification

AUTOMATION_NAME = "detainer-intake: crash runs that stopped sending heartbeats"
HEARTBEAT_ENV = "PREFECT_FLOWS_HEARTBEAT_FREQUENCY"
HEARTBEAT_SECONDS = 30  # Prefect's minimum; its default is 180
MISSED_BEATS = 3
FLOW_NAMES = ("daily_intake", "backfill", "annual_report", "archive_verify")
_FINAL = ("Completed", "Failed", "Cancelled", "Crashed", "TimedOut")


def heartbeat_seconds() -> int:
    """The heartbeat frequency the project's flow runs are started with (``HEARTBEAT_ENV``)."""
    try:
        return max(int(os.environ.get(HEARTBEAT_ENV, HEARTBEAT_SECONDS)), 30)
    except ValueError:
        return HEARTBEAT_SECONDS


def crash_zombies_automation(heartbeat: int | None = None) -> AutomationCore:
    """The automation: a run of one of ``FLOW_NAMES`` without a heartbeat, nor a final state, for
    ``MISSED_BEATS`` heartbeats after its last one is set Crashed."""
    beat = heartbeat or heartbeat_seconds()
    return AutomationCore(
        name=AUTOMATION_NAME,
        description=(
            f"A detainer-intake flow run that sent no heartbeat for {MISSED_BEATS * beat} s (its process was "
            "killed or its machine lost) is marked Crashed, which releases its deployment's concurrency slot."
        ),
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", *(f"prefect.flow-run.{state}" for state in _FINAL)},
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            match_related=ResourceSpecification(
                {"prefect.resource.role": "flow", "prefect.resource.name": list(FLOW_NAMES)}
            ),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=MISSED_BEATS * beat),
        ),
        actions=[
            ChangeFlowRunState(
                name="Crashed",
                state=StateType.CRASHED,
                force=False,
                message=f"no heartbeat for {MISSED_BEATS * beat} s: the run's process was killed or its machine "
                "lost; rerun it (nothing is counted twice)",
            )
        ],
    )


def ensure_crash_zombies_automation(heartbeat: int | None = None) -> UUID:
    """Create the automation on the configured Prefect server (``PREFECT_API_URL``), replacing any
    of that name; its id."""
    from prefect.client.orchestration import get_client

    wanted = crash_zombies_automation(heartbeat)
    with get_client(sync_client=True) as client:
        for existing in client.read_automations_by_name(AUTOMATION_NAME):
            client.delete_automation(existing.id)
        return client.create_automation(wanted)


def main() -> None:  # pragma: no cover - the command line wrapper
    created = ensure_crash_zombies_automation()
    print(f"automation {AUTOMATION_NAME!r} ({created}): runs without a heartbeat for "
          f"{MISSED_BEATS * heartbeat_seconds()} s are marked Crashed")


if __name__ == "__main__":  # pragma: no cover
    main()
