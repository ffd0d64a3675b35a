"""The Channel protocol's implementations: which channels a configuration opens, a channel over
another folder (backfills), and the post-commit action each mail setting picks."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.channels import Channel
from core.config import ChannelsSettings, FolderChannelSettings, MailChannelSettings, Settings
from ingest.configured import channel_for, open_channels
from ingest.fax_channel import FaxFolderChannel
from ingest.folders import LeaveInPlace, MoveToProcessed, folder_action
from ingest.mail_actions import AddKeyword, MoveToFolder, MoveToMaildirFolder, NoAction, imap_action, maildir_action
from ingest.mail_channel import MailChannel


def settings_with(tmp_path: Path, *, mail: MailChannelSettings | None = None, station: bool = True) -> Settings:
    channels = ChannelsSettings(
        dedicated_fax=FolderChannelSettings(path=tmp_path / "line"),
        station_fax={"path": tmp_path / "stations"} if station else {"enabled": False},  # type: ignore[arg-type]
        bfs_email=mail or MailChannelSettings(),
    )
    return Settings(channels=channels)


def test_open_channels_takes_the_enabled_ones_in_channel_order(tmp_path: Path) -> None:
    mail = MailChannelSettings(enabled=True, maildir=tmp_path / "mailbox")
    names = [c.name for c in open_channels(settings_with(tmp_path, mail=mail))]
    assert names == [Channel.dedicated_fax, Channel.station_fax, Channel.bfs_email]
    # a mailbox without host or maildir, a folder switched off: not opened
    names = [c.name for c in open_channels(settings_with(tmp_path, station=False))]
    assert names == [Channel.dedicated_fax]
    assert [c.name for c in open_channels(settings_with(tmp_path), [Channel.station_fax])] == [Channel.station_fax]


def test_each_channel_has_its_implementation(tmp_path: Path) -> None:
    settings = settings_with(tmp_path)
    assert isinstance(channel_for(Channel.dedicated_fax, settings), FaxFolderChannel)
    assert isinstance(channel_for(Channel.station_fax, settings), FaxFolderChannel)
    assert isinstance(channel_for(Channel.bfs_email, settings), MailChannel)
    # files are moved one by one with their commit; mail is flagged or moved after every commit
    assert channel_for(Channel.dedicated_fax, settings).completes_with_commit
    assert not channel_for(Channel.bfs_email, settings).completes_with_commit


def test_a_channel_reading_another_folder_is_enabled_there(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, station=False)
    station = channel_for(Channel.station_fax, settings)
    assert not station.enabled
    export = station.reading(tmp_path / "stations-2024")
    assert export.enabled and isinstance(export, FaxFolderChannel)
    assert export.folder.path == tmp_path / "stations-2024"

    mail = channel_for(Channel.bfs_email, settings).reading(tmp_path / "mail-export")
    assert mail.enabled and isinstance(mail, MailChannel)
    assert mail.mail.maildir == tmp_path / "mail-export"
    assert mail.mail.action == "none"  # an export is read, never changed


@pytest.mark.parametrize(
    ("action", "imap", "maildir"),
    [("flag", AddKeyword, NoAction), ("move", MoveToFolder, MoveToMaildirFolder), ("none", NoAction, NoAction)],
)
def test_each_mail_setting_picks_its_action(action: str, imap: type, maildir: type) -> None:
    settings = MailChannelSettings(action=action)  # type: ignore[arg-type]
    assert type(imap_action(settings)) is imap
    assert type(maildir_action(settings)) is maildir


def test_a_mail_action_is_pending_until_it_shows() -> None:
    keyword = AddKeyword("$DetainerIntake")
    assert keyword.pending({b"\\Seen"})
    assert not keyword.pending({b"\\Seen", b"$DetainerIntake"})
    assert MoveToFolder("Processed").pending(set())
    assert not NoAction().pending(set())
    assert not NoAction().touches_mailbox


def test_folder_action_follows_move_processed() -> None:
    assert isinstance(folder_action(FolderChannelSettings(move_processed=True)), MoveToProcessed)
    assert isinstance(folder_action(FolderChannelSettings()), LeaveInPlace)
