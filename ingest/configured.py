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


def configured_state(name: Channel, settings: Settings) -> str:
    """``enabled``; ``disabled`` (its section names a source but says ``enabled = false``); ``not_configured``
    (it names no folder, host or maildir). A run records the last two as a disabled poll, named in every summary."""
    if channel_for(name, settings).enabled:
        return "enabled"
    section = getattr(settings.channels, name.value)
    named = any(getattr(section, key, None) is not None for key in ("path", "host", "maildir"))
    return "disabled" if named else "not_configured"


def configured_states(settings: Settings) -> dict[str, str]:
    """``configured_state`` of every channel, by name, in ``Channel`` order."""
    return {name.value: configured_state(name, settings) for name in Channel}
