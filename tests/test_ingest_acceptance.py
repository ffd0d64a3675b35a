"""Acceptance: the channels over sample_faxes/ yield exactly the receipts of truth.json.

Fax folders, the Maildir read directly, and the same Maildir served by a real Dovecot. A
second run with the state updated yields nothing new.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from core.channels import Channel
from core.config import FolderChannelSettings, MailChannelSettings, StationChannelSettings
from ingest.folders import FolderArrival, poll_fax_folder
from ingest.mailbox import MailboxSession
from ingest.models import MailMessage, Receipt
from ingest.names import sanitize_filename
from ingest.state import MemoryState
from tests.conftest import SAMPLE_ROOT

if TYPE_CHECKING:
    from tests.imap_server import DovecotServer

pytest_plugins = ["tests.imap_server"]

FIELDS = ("channel", "station", "received_at", "sender", "sha256", "size", "file_name")


@pytest.fixture(scope="module")
def corpus(truth: dict[str, Any]) -> Iterator[dict[str, Any]]:
    from samplegen.mtimes import restore_mtimes

    restore_mtimes(SAMPLE_ROOT)  # git drops mtimes; bin/test does the same before pytest
    yield truth


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fields(receipt: Receipt) -> dict[str, Any]:
    return {
        "channel": receipt.channel.value, "station": receipt.station, "received_at": iso(receipt.received_at),
        "sender": receipt.sender, "sha256": receipt.sha256, "size": receipt.size, "file_name": receipt.file_name,
    }


def expected(entry: dict[str, Any]) -> dict[str, Any]:
    values = {name: entry[name] for name in FIELDS}
    values["file_name"] = sanitize_filename(entry["file_name"])  # truth keeps the name as declared ("../x.pdf")
    return values


def poll_folders(state: MemoryState, tz: str) -> list[FolderArrival]:
    dedicated = FolderChannelSettings(path=SAMPLE_ROOT / "dedicated", quiet_seconds=0)
    stations = StationChannelSettings(path=SAMPLE_ROOT / "stations", quiet_seconds=0)
    return [
        *poll_fax_folder(dedicated, Channel.dedicated_fax, state, tz=tz),
        *poll_fax_folder(stations, Channel.station_fax, state, tz=tz),
    ]


def test_fax_folders_match_truth(corpus: dict[str, Any]) -> None:
    state = MemoryState()
    arrivals = poll_folders(state, corpus["timezone"])
    got = {a.path.relative_to(SAMPLE_ROOT).as_posix(): fields(a.receipt) for a in arrivals}
    want = {
        r["path"]: expected(r) for r in corpus["receipts"] if r["channel"] in ("dedicated_fax", "station_fax")
    }
    assert got == want
    for arrival in arrivals:
        state.commit_document(arrival.document)
    assert poll_folders(state, corpus["timezone"]) == []


def poll_mail(settings: MailChannelSettings, state: MemoryState, tz: str) -> list[MailMessage]:
    messages = []
    with MailboxSession(settings) as session:
        for message in session.poll(state, tz):
            state.record_message(message)
            messages.append(message)
    return messages


def check_mail(messages: list[MailMessage], truth: dict[str, Any]) -> None:
    assert [m.error for m in messages if m.error] == []
    by_mid = {m.message_id: m for m in messages}
    assert sorted(by_mid) == sorted(t["message_id"] for t in truth["messages"])
    got, rejected = {}, {}
    for m in messages:
        for d in m.documents:
            got[(m.message_id, int(d.receipt.source_key.rsplit(";part=", 1)[1]))] = fields(d.receipt)
        rejected[m.message_id] = {p.sha256: p.reason for p in m.rejected_parts}
    want = {
        (r["message_id"], r["attachment_index"]): expected(r) for r in truth["receipts"] if r["channel"] == "bfs_email"
    }
    assert got == want  # attached non-documents (the .docx) arrive too, to be quarantined downstream
    assert all(reason != "unsupported_format" or not sha for mid in rejected for sha, reason in rejected[mid].items()
               if sha in {r["sha256"] for r in truth["receipts"]})
    for t in truth["messages"]:
        message = by_mid[t["message_id"]]
        assert iso(message.received_at or datetime.min) == t["received_at"]
        assert message.sender == t["from"]
        if t["no_document"]:
            assert message.documents == []


def test_sample_maildir_matches_truth(corpus: dict[str, Any]) -> None:
    settings = MailChannelSettings(enabled=True, maildir=SAMPLE_ROOT / "mailbox")
    state = MemoryState()
    messages = poll_mail(settings, state, corpus["timezone"])
    check_mail(messages, corpus)
    paths = sorted(Path(m.path or "").relative_to(SAMPLE_ROOT).as_posix() for m in messages)
    assert paths == sorted(t["path"] for t in corpus["messages"])
    assert poll_mail(settings, state, corpus["timezone"]) == []


@pytest.mark.imap
def test_sample_maildir_served_by_dovecot_matches_truth(corpus: dict[str, Any], dovecot: DovecotServer) -> None:
    assert dovecot.deliver_maildir(SAMPLE_ROOT / "mailbox") == len(corpus["messages"])
    settings = dovecot.settings(action="flag")
    before = dovecot.flags()
    state = MemoryState()
    messages = []
    with MailboxSession(settings) as session:
        for message in session.poll(state, corpus["timezone"]):
            state.record_message(message)
            session.complete(message)
            messages.append(message)
    check_mail(messages, corpus)
    assert poll_mail(settings, state, corpus["timezone"]) == []
    # flagged after the commit; \\Seen (set in cur/ by a mail client) left exactly as it was
    assert dovecot.flags() == {uid: flags | {b"$DetainerIntake"} for uid, flags in before.items()}
