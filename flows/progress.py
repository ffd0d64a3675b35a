"""Progress of a run: a Prefect progress artifact, and an optional in-process listener (the CLI's bar)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact

Listener = Callable[[int, int], None]  # (done, total)
_listener: Listener | None = None


def set_listener(listener: Listener | None) -> None:
    """Set by the CLI before it runs a flow in-process, so it can draw a progress bar."""
    global _listener
    _listener = listener


class Progress:
    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self._artifact: UUID | None = None
        if total:
            created = create_progress_artifact(
                progress=0.0, key="intake-progress", description="documents parsed and committed"
            )
            self._artifact = created if isinstance(created, UUID) else None
        self._notify()

    def advance(self) -> None:
        self.done += 1
        if self._artifact is not None and (self.done == self.total or self.done % 5 == 0):
            update_progress_artifact(self._artifact, progress=100.0 * self.done / max(1, self.total))
        self._notify()

    def _notify(self) -> None:
        if _listener is not None:
            _listener(self.done, self.total)
