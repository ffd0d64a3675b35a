"""Incremental fetch on a real Dovecot: a poll searches ``UID n+1:*`` above the ledger's high-water mark
of the folder (and re-reads only older messages not handled), with the receive window in the SEARCH,
so old mail is never fetched; every IMAP command the intake sends is seen by a proxy and counted."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.config import MailChannelSettings
from ingest.mailbox import MailboxSession, search_window
from ingest.models import MailMessage
from ingest.state import MemoryState
from tests.imap_server import RelayProxy
from tests.test_ingest_mailbox import with_pdf

if TYPE_CHECKING:
    from ledger.store import Ledger
    from tests.imap_server import DovecotServer

pytest_plugins = ["tests.imap_server"]

TZ = "America/New_York"
_UID_FETCH = re.compile(rb"^\S+ UID FETCH (\S+) \((.*)\)\r?$", re.MULTILINE)
_UID_SEARCH = re.compile(rb"^\S+ UID SEARCH (.*)\r?$", re.MULTILINE)


class CommandLog(RelayProxy):
    """A TCP proxy in front of the real server noting every command the client sends."""

    def __init__(self, upstream_port: int) -> None:
        self.sent = bytearray()
        self._lock = threading.Lock()
        super().__init__(upstream_port)

    def relay(self, data: bytes, from_server: bool) -> bytes:
        if not from_server:
            with self._lock:
                self.sent.extend(data)
        return data

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()

    def fetched(self, body: bool = True) -> list[int]:
        """The UIDs the client FETCHed (their bodies, or anything at all)."""
        uids: list[int] = []
        for uid_set, items in _UID_FETCH.findall(bytes(self.sent)):
            if body and b"BODY" not in items:
                continue
            for part in uid_set.split(b","):
                low, _, high = part.partition(b":")
                uids.extend(range(int(low), int(high or low) + 1))
        return uids

    def fetch_commands(self) -> int:
        return len(_UID_FETCH.findall(bytes(self.sent)))

    def searches(self) -> list[bytes]:
        return _UID_SEARCH.findall(bytes(self.sent))


@pytest.fixture
def commands(dovecot: DovecotServer) -> Iterator[CommandLog]:
    log = CommandLog(dovecot.port)
    yield log
    log.close()


def _note(number: int) -> bytes:
    message = EmailMessage()
    message["From"] = "desk@dept.example"
    message["To"] = "bfs@dept.example"
    message["Subject"] = f"note {number}"
    message["Message-ID"] = f"<note-{number}@dept.example>"
    message["Date"] = "Tue, 04 Mar 2025 09:21:40 -0500"
    message.set_content("Nothing attached.\n")
    return bytes(message)


def _poll_and_commit(settings: MailChannelSettings, state: MemoryState, **window: date) -> list[MailMessage]:
    with MailboxSession(settings) as session:
        messages = list(session.poll(state, TZ, **window))
    for message in messages:
        state.record_message(message)
    return messages


def test_a_second_run_after_a_thousand_old_messages_fetches_only_the_new_uids(
    dovecot: DovecotServer, commands: CommandLog
) -> None:
    for number in range(1000):  # straight into the Maildir: Dovecot numbers them at the first SELECT
        path = dovecot.maildir / "new" / f"{1740000000 + number}.M{number}P1.old.example"
        path.write_bytes(_note(number).replace(b"\r\n", b"\n"))
    dovecot.fix_ownership()
    settings = dovecot.settings(port=commands.port, action="none")
    state = MemoryState()
    first = _poll_and_commit(settings, state)
    assert len(first) == 1000 and len(state.handled) == 1000
    assert len(commands.fetched()) == 1000

    new = [dovecot.append(with_pdf(f"new-{n}")) for n in range(3)]
    commands.clear()
    second = _poll_and_commit(settings, state)
    assert [m.uid for m in second] == new
    assert commands.fetched() == new  # bodies of the three new messages only
    assert sorted(set(commands.fetched(body=False))) == new  # nor any other FETCH of an old one
    assert commands.fetch_commands() == 4  # their INTERNALDATEs in one, then one body each

    commands.clear()
    assert _poll_and_commit(settings, state) == [] and commands.fetch_commands() == 0


def test_older_messages_not_handled_are_read_again_and_nothing_else(
    dovecot: DovecotServer, commands: CommandLog
) -> None:
    uids = [dovecot.append(with_pdf(f"m-{n}")) for n in range(6)]
    settings = dovecot.settings(port=commands.port, action="none")
    state = MemoryState()
    with MailboxSession(settings) as session:
        messages = list(session.poll(state, TZ))
    # A run that ended early: the 2nd message never committed; the 4th failed once (its retry is due).
    for message in messages:
        if message.uid == uids[1]:
            continue
        if message.uid == uids[3]:
            state.record_message(MailMessage(message_key=message.message_key, received_at=None, error="fetch_failed",
                                             attempt=1))
            continue
        state.record_message(message)
    commands.clear()
    again = _poll_and_commit(settings, state)
    assert sorted(m.uid for m in again) == [uids[1], uids[3]]
    assert sorted(commands.fetched()) == [uids[1], uids[3]]
    assert sorted(set(commands.fetched(body=False))) == [uids[1], uids[3]]  # the handled ones not even listed
    assert len(state.handled) == 6


def test_max_age_days_is_a_server_side_search(dovecot: DovecotServer, commands: CommandLog) -> None:
    now = datetime.now(UTC)
    old = [dovecot.append(with_pdf(f"old-{n}"), internal_date=now - timedelta(days=400 + n)) for n in range(3)]
    recent = [dovecot.append(with_pdf(f"recent-{n}"), internal_date=now - timedelta(days=n)) for n in range(2)]
    settings = dovecot.settings(port=commands.port, action="none", max_age_days=30)
    state = MemoryState()
    taken = _poll_and_commit(settings, state)
    assert sorted(m.uid for m in taken) == recent
    assert not set(commands.fetched(body=False)) & set(old)  # never fetched, not even their dates
    assert all(b"SINCE" in search for search in commands.searches())
    commands.clear()
    assert _poll_and_commit(settings, state) == [] and commands.fetch_commands() == 0


def test_a_backfill_window_is_searched_on_the_server_a_day_wider(dovecot: DovecotServer, commands: CommandLog) -> None:
    days = [datetime(2025, 3, d, 15, 0, tzinfo=UTC) for d in (1, 5, 10, 20)]
    uids = [dovecot.append(with_pdf(f"w-{n}"), internal_date=day) for n, day in enumerate(days)]
    settings = dovecot.settings(port=commands.port, action="none")
    state = MemoryState()
    taken = _poll_and_commit(settings, state, since=date(2025, 3, 5), until=date(2025, 3, 10))
    assert sorted(m.uid for m in taken) == uids[1:3]
    assert all(b"SINCE 04-Mar-2025 BEFORE 12-Mar-2025" in search for search in commands.searches())
    # The messages outside it stay for a later run.
    assert sorted(m.uid for m in _poll_and_commit(settings, state)) == [uids[0], uids[3]]


def test_search_window_bounds() -> None:
    settings = MailChannelSettings(max_age_days=10)
    assert search_window(settings, today=date(2025, 3, 20)) == ["SINCE", date(2025, 3, 9)]
    assert search_window(settings, since=date(2025, 3, 15), until=date(2025, 3, 16), today=date(2025, 3, 20)) == [
        "SINCE", date(2025, 3, 14), "BEFORE", date(2025, 3, 18),
    ]
    assert search_window(MailChannelSettings()) == []


def test_the_ledger_gives_the_status_of_a_folders_messages(ledger: Ledger) -> None:
    folder = "imap:bfs_1@mail.example/IN_BOX;UIDVALIDITY=7;UID="
    ledger.record_mail_handled(folder + "1", "<a@x>", None, 0)
    ledger.record_mail_failure(folder + "2", "fetch_failed: refused")
    ledger.record_mail_failure(folder + "3", "malformed_message: x", quarantined=True)
    ledger.record_mail_handled("imap:bfs_1@mail.example/IN_BOX;UIDVALIDITY=8;UID=1", None, None, 0)
    ledger.record_mail_handled("imap:bfsX1@mail.example/INXBOX;UIDVALIDITY=7;UID=4", None, None, 0)  # _ is no wildcard
    assert ledger.mail_statuses(folder) == {
        folder + "1": "handled", folder + "2": "failed", folder + "3": "quarantined",
    }


def test_the_mail_channel_within_a_window_searches_it(dovecot: DovecotServer, commands: CommandLog) -> None:
    from core.channels import Channel
    from core.config import Settings
    from ingest.mail_channel import MailArrival, MailChannel

    days = [datetime(2025, 3, d, 15, 0, tzinfo=UTC) for d in (1, 10)]
    uids = [dovecot.append(with_pdf(f"c-{n}"), internal_date=day) for n, day in enumerate(days)]
    settings = Settings(channels={"bfs_email": dovecot.settings(port=commands.port, action="none")})
    channel = MailChannel(Channel.bfs_email, settings).within(date(2025, 3, 9), None)
    arrivals = list(channel.poll(MemoryState()))
    assert [a.message.uid for a in arrivals if isinstance(a, MailArrival)] == uids[1:]
    assert commands.fetched() == uids[1:]


def test_a_backfill_run_hands_its_window_to_the_mailbox_search(
    dovecot: DovecotServer, commands: CommandLog, tmp_path: Path
) -> None:
    """The run sequence gives its window to every channel (``IntakeChannel.within``): the mailbox searches
    it on the server, so a backfill of a month fetches that month's messages only."""
    from zoneinfo import ZoneInfo

    from core.config import Settings
    from flows.sequence import InProcess, run_sequence
    from flows.steps import DateWindow, Intake

    days = [datetime(2025, 3, d, 15, 0, tzinfo=UTC) for d in (1, 10, 25)]
    # no Received header: the receive time is the server's INTERNALDATE
    uids = [dovecot.append(with_pdf(f"b-{n}", received=None), internal_date=day) for n, day in enumerate(days)]
    settings = Settings(
        ledger={"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        archive={"path": tmp_path / "archive"},
        channels={"bfs_email": dovecot.settings(port=commands.port, action="none")},
    )
    intake = Intake.open(settings)
    try:
        window = DateWindow(date(2025, 3, 9), date(2025, 3, 11), ZoneInfo("America/New_York"))
        result = run_sequence(intake, InProcess(), window=window)
    finally:
        intake.close()
    assert result.documents == 1
    assert commands.fetched() == uids[1:2]  # the other two were never fetched
    assert any(b"SINCE 08-Mar-2025 BEFORE 13-Mar-2025" in search for search in commands.searches())
