"""At a Dask run's start: does every worker see the archive and the extraction cache the flow sees?

A parse task reads its document from the archive and writes what it read to the extraction
cache, which the flow then commits; both must be one folder shared by the flow's machine and
every worker (README, "Running on several machines"). Checked before anything is polled: the flow
writes a probe file of a random name into each folder, every worker connected to the scheduler
reads it back (``Client.run``: once per worker, outside the task queue), and a worker that does
not find it, with its content, fails the run with ``StorageNotShared`` naming the folder. The
probes are removed afterwards, whatever the outcome.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from core.files import write_private
from flows.steps import Intake
from flows.tasks import StorageNotShared

PROBE_PREFIX = ".storage-probe-"


def probe_sees(probes: dict[str, str], token: str) -> list[str]:
    """On a worker: the folders (by label) whose probe file this worker cannot read as written."""
    unseen = []
    for label, path in probes.items():
        try:
            seen = Path(path).read_text(encoding="utf-8") == token
        except OSError:
            seen = False
        if not seen:
            unseen.append(label)
    return unseen


def _folders(intake: Intake) -> dict[str, Path]:
    return {
        f"the archive ([archive] path {intake.archive.root})": intake.archive.root,
        f"the extraction cache ([archive] extraction_cache {intake.cache.root})": intake.cache.root,
    }


def unshared_storage(task_runner: Any, intake: Intake) -> str | None:
    """None when every worker of a Dask runner sees the flow's archive and extraction cache (and
    for any other runner, whose tasks run in this process); else the run's failure message."""
    from prefect_dask import DaskTaskRunner

    if not isinstance(task_runner, DaskTaskRunner):
        return None
    token = secrets.token_hex(16)
    probes = {label: folder / f"{PROBE_PREFIX}{token}" for label, folder in _folders(intake).items()}
    try:
        for path in probes.values():
            write_private(path, token, durable=False)
        unseen: dict[str, list[str]] = task_runner.client.run(
            probe_sees, {label: str(path) for label, path in probes.items()}, token
        )
    finally:
        for path in probes.values():
            path.unlink(missing_ok=True)
    blind: dict[str, list[str]] = {}
    for worker, labels in sorted(unseen.items()):
        for label in labels:
            blind.setdefault(label, []).append(worker)
    if not blind:
        return None
    what = "; ".join(
        f"the Dask worker(s) at {', '.join(workers)} cannot see {label}" for label, workers in blind.items()
    )
    cause = StorageNotShared(
        f"{what}: it must be one folder shared, at the same path, by the flow and every worker; "
        "nothing was polled, parsed or committed"
    )
    return f"{type(cause).__name__}: {cause.message}"
