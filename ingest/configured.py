"""The channel implementations the configuration asks for: the one place that maps a channel's name to its reader."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.channels import Channel
from core.config import Settings
from ingest.channel import IntakeChannel
from ingest.fax_channel import FaxFolderChannel
from ingest.mail_channel import MailChannel

_IMPLEMENTATIONS: dict[Channel, Callable[[Channel, Settings], IntakeChannel]] = {
    Channel.dedicated_fax: FaxFolderChannel,
    Channel.station_fax: FaxFolderChannel,
    Channel.bfs_email: MailChannel,
}


def channel_for(name: Channel, settings: Settings) -> IntakeChannel:
    """The channel ``name`` as configured (enabled or not)."""
    return _IMPLEMENTATIONS[name](name, settings)


def open_channels(settings: Settings, only: Sequence[Channel] | None = None) -> list[IntakeChannel]:
    """The enabled channels among ``only`` (default: all), in ``Channel`` order."""
    channels = (channel_for(name, settings) for name in (only or list(Channel)))
    return [channel for channel in channels if channel.enabled]
