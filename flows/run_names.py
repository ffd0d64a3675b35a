"""Readable names for flow and task runs in the Prefect UI: what ran, on which channel, when.

Names carry only channel names, dates and short content hashes (never a file or person's
name). Prefect's default run names are random word pairs, which say nothing to an operator.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from prefect.runtime import flow_run, task_run


def dated(prefix: str) -> Callable[[], str]:
    """``<prefix>-YYYY-MM-DD-HHMM`` in the machine's local time, when the run starts."""

    def name() -> str:
        return f"{prefix}-{datetime.now().astimezone():%Y-%m-%d-%H%M}"

    return name


def backfill_run_name() -> str:
    parameters = flow_run.parameters
    channel = getattr(parameters.get("channel"), "value", parameters.get("channel") or "configured")
    window = "-".join(str(parameters[key]) for key in ("since", "until") if parameters.get(key))
    return f"backfill-{channel}" + (f"-{window}" if window else "") + f"-{datetime.now().astimezone():%Y-%m-%d-%H%M}"


def commit_run_name() -> str:
    """``commit-<channel>-<first 12 hex of the first document>`` (``-message`` when it has none)."""
    arrival = task_run.parameters["arrival"]
    documents = arrival.documents
    short = documents[0].receipt.sha256[:12] if documents else "message"
    return f"commit-{arrival.channel.value}-{short}"


def complete_run_name() -> str:
    return f"complete-{task_run.parameters['channel'].name.value}"
