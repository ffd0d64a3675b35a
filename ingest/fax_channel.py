"""The fax folders as channels: the dedicated detainer line and the booking stations (``ingest.folders``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

from core.channels import Channel
from core.config import FolderChannelSettings, Settings
from ingest.channel import Arrival, PollRetries, Reached, nowhere
from ingest.folders import FolderArrival, folder_action, poll_fax_folder
from ingest.state import IntakeState


class FaxFolderChannel:
    """A fax channel read from a folder (``IntakeChannel``). Its post-commit action moves one file at a
    time, so each arrival is completed right after its own commit."""

    completes_with_commit = True
    poll_retries = PollRetries(retries=2, first_delay_seconds=5)

    def __init__(self, name: Channel, settings: Settings) -> None:
        self._name = name
        self._settings = settings
        self.folder: FolderChannelSettings = getattr(settings.channels, name.value)

    @property
    def name(self) -> Channel:
        return self._name

    @property
    def enabled(self) -> bool:
        return self.folder.enabled and self.folder.path is not None

    def within(self, since: date | None, until: date | None) -> FaxFolderChannel:
        return self  # a folder is listed whole: the run's window picks the files by their receive time

    def reading(self, folder: Path) -> FaxFolderChannel:
        updated = self.folder.model_copy(update={"path": folder, "enabled": True})
        channels = self._settings.channels.model_copy(update={self._name.value: updated})
        return FaxFolderChannel(self._name, self._settings.model_copy(update={"channels": channels}))

    def poll(self, state: IntakeState) -> Iterator[Arrival]:
        yield from poll_fax_folder(self.folder, self._name, state, tz=self._settings.department.timezone,
                                   max_bytes=self._settings.archive.max_file_bytes)

    def describe(self, arrivals: Sequence[Arrival]) -> str:
        return f"{len(arrivals)} new file(s)"

    def complete(self, arrivals: Sequence[Arrival], state: IntakeState, reached: Reached = nowhere) -> int:
        action = folder_action(self.folder)
        done = 0
        for arrival in arrivals:
            if isinstance(arrival, FolderArrival):  # an UnreadableFile stays where it is: nothing was taken
                action.complete(arrival)
                done += 1
        return done
