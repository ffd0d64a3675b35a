"""What the mailbox's server allows, checked on a real Dovecot: a folder that keeps no new keywords
(``PERMANENTFLAGS`` without ``\\*``, as a proxy in front of Dovecot reports it) stops ``action = "flag"``
before anything is read, instead of flagging the same messages again on every run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from ingest.mail_actions import KeywordsNotSupported
from ingest.mailbox import MailboxSession
from ingest.state import MemoryState
from tests.imap_server import RelayProxy
from tests.test_ingest_mailbox import with_pdf

if TYPE_CHECKING:
    from tests.imap_server import DovecotServer

pytest_plugins = ["tests.imap_server"]

TZ = "America/New_York"


class RewritingProxy(RelayProxy):
    """A TCP proxy in front of the real server that rewrites what the server says (``old`` -> ``new``)."""

    def __init__(self, upstream_port: int, old: bytes, new: bytes) -> None:
        self.old, self.new = old, new
        self.rewrites = 0
        super().__init__(upstream_port)

    def relay(self, data: bytes, from_server: bool) -> bytes:
        if from_server and self.old in data:
            self.rewrites += 1
            data = data.replace(self.old, self.new)
        return data


@pytest.fixture
def no_keywords(dovecot: DovecotServer) -> Iterator[RewritingProxy]:
    """Dovecot behind a proxy whose folders keep only the system flags (Dovecot says ``... \\Draft \\*)]``)."""
    proxy = RewritingProxy(dovecot.port, b" \\*)]", b")]")
    yield proxy
    proxy.close()


def test_flag_action_on_a_folder_without_keywords_falls_back_to_the_ledger(
    dovecot: DovecotServer, no_keywords: RewritingProxy, caplog: pytest.LogCaptureFixture
) -> None:
    """The channel is still read (a folder's flags never silence it); nothing is flagged, the run
    says so once, and the ledger's record keeps the next run from reading the message again."""
    dovecot.append(with_pdf("kw-1"))
    settings = dovecot.settings(port=no_keywords.port, action="flag")
    state = MemoryState()
    with caplog.at_level(logging.WARNING):
        with MailboxSession(settings) as session:
            (message,) = list(session.poll(state, TZ))
            state.record_message(message)
            session.complete(message)
    warnings = [r.getMessage() for r in caplog.records if "keeps no new keywords" in r.getMessage()]
    assert len(warnings) == 1 and 'action = "move"' in warnings[0]
    assert no_keywords.rewrites >= 1
    assert all(not flags for flags in dovecot.flags().values())  # no keyword the server would drop
    with MailboxSession(settings) as session:
        assert list(session.poll(state, TZ)) == []  # handled: the ledger knows it
    assert KeywordsNotSupported.remedy.startswith("To mark handled messages")


def test_move_action_works_on_a_folder_without_keywords(dovecot: DovecotServer, no_keywords: RewritingProxy) -> None:
    dovecot.append(with_pdf("kw-2"))
    settings = dovecot.settings(port=no_keywords.port, action="move", move_to="Processed")
    state = MemoryState()
    with MailboxSession(settings) as session:
        messages = list(session.poll(state, TZ))
        assert len(messages) == 1
        state.record_message(messages[0])
        assert session.complete(messages[0])
    assert dovecot.uids() == [] and len(dovecot.uids("Processed")) == 1


def test_flag_action_where_the_folder_keeps_keywords(dovecot: DovecotServer) -> None:
    dovecot.append(with_pdf("kw-3"))
    settings = dovecot.settings(action="flag")
    state = MemoryState()
    with MailboxSession(settings) as session:
        (message,) = list(session.poll(state, TZ))
        state.record_message(message)
        assert session.complete(message)
    assert [flags for flags in dovecot.flags().values()] == [{b"$DetainerIntake"}]
