"""ingest.mailbox against a real Dovecot IMAP server (and a local Maildir)."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.channels import Channel
from core.config import MailChannelSettings
from core.errors import ChannelUnavailable
from ingest.archive import Archive
from ingest.mailbox import MailboxSession, complete_message, poll_mailbox
from ingest.models import MailMessage, sha256_hex
from ingest.state import MemoryState

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.imap_server import DovecotServer, DroppingProxy

pytest_plugins = ["tests.imap_server"]  # dovecot, dovecot_imaps, dovecot_starttls, dropping_proxy

TZ = "America/New_York"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n%%EOF\n"
TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
DOCX = b"PK\x03\x04" + b"\x00" * 40
SEEN = b"\\Seen"


def mail(mid: str, *, received: str | None = "Tue, 04 Mar 2025 09:22:05 -0500", sender: str = "ero@ice.example",
         body: str = "Please see attached.\n") -> EmailMessage:
    msg = EmailMessage()
    if received:
        msg["Received"] = f"from mx.ice.example by mail.dept.example; {received}"
    msg["From"] = f"ERO Desk <{sender}>"
    msg["To"] = "bfs@dept.example"
    msg["Subject"] = "Detainer"
    msg["Message-ID"] = f"<{mid}@ice.example>"
    msg["Date"] = "Tue, 04 Mar 2025 09:21:40 -0500"
    msg.set_content(body)
    return msg


def with_pdf(mid: str, content: bytes = PDF, **kw: str) -> bytes:
    msg = mail(mid, **kw)
    msg.add_attachment(content, maintype="application", subtype="pdf", filename=f"{mid}.pdf")
    return bytes(msg)


def corpus() -> dict[str, bytes]:
    """Attachments, a forwarded message, an inline image, a .docx, and a message without document."""
    attached = mail("attached")
    attached.add_attachment(PDF, maintype="application", subtype="octet-stream", filename="I-247A.pdf")
    attached.add_attachment(b"BEGIN:VCARD\r\nEND:VCARD\r\n", maintype="text", subtype="vcard", filename="sig.vcf")
    forwarded_inner = mail("original", sender="officer@ice.example")
    forwarded_inner.add_attachment(TIFF, maintype="image", subtype="tiff", filename="fax.tif")
    forwarded = mail("forward", sender="lt.desk@dept.example", received="Wed, 05 Mar 2025 10:00:00 -0500")
    forwarded.add_attachment(forwarded_inner)
    inline = mail("inline", received=None)  # no Received: INTERNALDATE (or the Maildir file's mtime)
    inline.add_alternative("<p>photo below</p><img src='cid:photo'>", subtype="html")
    inline.get_payload()[1].add_related(PNG, maintype="image", subtype="png", cid="<photo>", filename="image001.png")
    docx = mail("docx")
    docx.add_attachment(DOCX, maintype="application", subtype="vnd.openxmlformats-officedocument"
                        ".wordprocessingml.document", filename="draft.docx")
    return {
        "attached": bytes(attached),
        "forward": bytes(forwarded),
        "inline": bytes(inline),
        "nodoc": bytes(mail("nodoc", body="Did you receive our fax?\n")),
        "docx": bytes(docx),
    }


INTERNAL = datetime(2025, 3, 6, 12, 0, 0, tzinfo=UTC)


def run(settings: MailChannelSettings, state: MemoryState, *, complete: bool = True,
        archive: Archive | None = None, **session_kw: object) -> list[MailMessage]:
    """What the orchestrator does: store, commit, then the post-commit action."""
    seen = []
    with MailboxSession(settings, **session_kw) as session:  # type: ignore[arg-type]
        for message in session.poll(state, TZ):
            if archive is not None:
                archive.store_message(message)
            state.record_message(message)
            if complete and (message.error is None or message.quarantined):
                session.complete(message)
            seen.append(message)
    return seen


def by_mid(messages: list[MailMessage]) -> dict[str, MailMessage]:
    return {(m.message_id or "?").strip("<>").split("@")[0]: m for m in messages}


@pytest.mark.imap
def test_poll_reads_every_kind_of_message_without_marking_it_seen(dovecot: DovecotServer, tmp_path: Path) -> None:
    uids = {name: dovecot.append(raw, internal_date=INTERNAL) for name, raw in corpus().items()}
    state, archive = MemoryState(), Archive(tmp_path / "archive")
    settings = dovecot.settings(action="none")
    messages = by_mid(run(settings, state, archive=archive))
    assert set(messages) == {"attached", "forward", "inline", "nodoc", "docx"}
    uidvalidity = dovecot.uidvalidity()
    base = f"imap:bfs@127.0.0.1/INBOX;UIDVALIDITY={uidvalidity}"

    attached = messages["attached"]
    assert attached.message_key == f"{base};UID={uids['attached']}"
    [doc] = attached.documents
    r = doc.receipt
    assert r.source_key == f"{base};UID={uids['attached']};MID=<attached@ice.example>;part=0"
    assert (r.channel, r.station, r.file_name, r.sender, r.message_id) == (
        Channel.bfs_email, None, "I-247A.pdf", "ero@ice.example", "<attached@ice.example>")
    assert r.received_at == datetime(2025, 3, 4, 14, 22, 5, tzinfo=UTC) and r.received_from == "received_header"
    assert r.sha256 == sha256_hex(PDF) and doc.content == PDF
    assert {(p.name, p.reason) for p in attached.rejected_parts} == {("part-1", "body_text"),
                                                                     ("sig.vcf", "unsupported_format")}

    forward = messages["forward"]
    assert [d.receipt.file_name for d in forward.documents] == ["fax.tif"]
    assert forward.documents[0].receipt.sender == "lt.desk@dept.example"  # the forwarder's message arrived
    assert forward.documents[0].receipt.message_id == "<forward@ice.example>"

    inline = messages["inline"]
    assert [d.receipt.file_name for d in inline.documents] == ["image001.png"]
    assert inline.received_at == INTERNAL and inline.received_from == "internaldate"

    assert messages["nodoc"].documents == [] and messages["nodoc"].error is None
    [docx] = messages["docx"].documents  # an attached file: it arrives, the ledger quarantines it
    assert docx.receipt.file_name == "draft.docx" and docx.content == DOCX
    assert [p.reason for p in messages["docx"].rejected_parts] == ["body_text"]

    assert all(SEEN not in flags for flags in dovecot.flags().values())  # BODY.PEEK[]
    for message in messages.values():
        assert archive.load(message.raw_sha256 or "") == message.raw  # the raw .eml is kept
    assert len(state.handled) == 5
    assert run(settings, state) == []  # handled messages are not fetched again


@pytest.mark.imap
def test_post_commit_flag(dovecot: DovecotServer) -> None:
    dovecot.append(with_pdf("one"))
    dovecot.append(with_pdf("two"))
    state = MemoryState()
    settings = dovecot.settings(action="flag", flag="$DetainerIntake")
    assert len(run(settings, state)) == 2
    assert all(flags == {b"$DetainerIntake"} for flags in dovecot.flags().values())
    assert run(settings, state) == []


@pytest.mark.imap
def test_post_commit_move_and_copy_delete_fallback(dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> None:
    dovecot.append(with_pdf("one"))
    state = MemoryState()
    settings = dovecot.settings(action="move", move_to="Processed")
    assert len(run(settings, state)) == 1
    assert dovecot.uids("INBOX") == [] and len(dovecot.uids("Processed")) == 1

    from imapclient import IMAPClient

    real = IMAPClient.has_capability
    monkeypatch.setattr(IMAPClient, "has_capability", lambda self, cap: cap != "MOVE" and real(self, cap))
    dovecot.append(with_pdf("two"))
    assert len(run(settings, state)) == 1
    assert dovecot.uids("INBOX") == [] and len(dovecot.uids("Processed")) == 2
    assert all(SEEN not in flags for flags in dovecot.flags("Processed").values())


@pytest.mark.imap
def test_action_missed_after_commit_is_done_on_the_next_poll(dovecot: DovecotServer) -> None:
    dovecot.append(with_pdf("one"))
    state = MemoryState()
    settings = dovecot.settings(action="flag")
    [message] = run(settings, state, complete=False)  # crash between the commit and the flag
    assert dovecot.flags() == {message.uid: set()}
    assert run(settings, state) == []  # nothing new ...
    assert dovecot.flags() == {message.uid: {b"$DetainerIntake"}}  # ... but the flag is caught up


@pytest.mark.imap
def test_complete_message_on_its_own_connection(dovecot: DovecotServer) -> None:
    dovecot.append(with_pdf("one"))
    state = MemoryState()
    settings = dovecot.settings(action="flag")
    [message] = list(poll_mailbox(settings, state, TZ))
    state.record_message(message)
    assert complete_message(settings, message) is True
    assert dovecot.flags() == {message.uid: {b"$DetainerIntake"}}


@pytest.mark.imap
def test_uidvalidity_change_does_not_count_twice(dovecot: DovecotServer) -> None:
    for raw in corpus().values():
        dovecot.append(raw, internal_date=INTERNAL)
    state = MemoryState()
    settings = dovecot.settings(action="none")
    first = run(settings, state)
    counted = list(state.receipts)
    assert len(counted) == 4 and len(first) == 5  # the .docx arrives too (quarantined later)

    dovecot.set_uidvalidity(dovecot.uidvalidity() + 1000)  # the mailbox was recreated/restored
    again = run(settings, state)
    assert len(again) == 5  # new keys: every message is read again ...
    assert all(m.message_key not in {f.message_key for f in first} for m in again)
    assert [d for m in again for d in m.documents] == []  # ... but no document is a new arrival
    assert sorted(d.receipt.sha256 for m in again for d in m.already_received) == sorted(
        r.sha256 for r in counted)
    assert state.receipts == counted
    assert run(settings, state) == []  # and the new keys are handled from now on


@pytest.mark.imap
def test_failed_message_is_retried_then_quarantined_without_blocking(dovecot: DovecotServer) -> None:
    broken = (
        b"From: a@ice.example\r\nMessage-ID: <broken@ice.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed\r\n\r\nJVBERi0xLjQK base64 without any delimiter\r\n"
    )
    bad_uid = dovecot.append(broken)
    dovecot.append(with_pdf("good"))
    state = MemoryState()
    settings = dovecot.settings(action="flag", max_attempts=3)

    first = run(settings, state)
    assert [(m.uid == bad_uid, m.error is not None, m.attempt, m.quarantined) for m in first] == [
        (True, True, 1, False), (False, False, 1, False)]
    assert first[0].error is not None and first[0].error.startswith("malformed_message")
    assert first[0].raw_sha256 == sha256_hex(broken)  # kept for the archive
    second = run(settings, state)
    assert [(m.attempt, m.quarantined) for m in second] == [(2, False)]
    third = run(settings, state)
    assert [(m.attempt, m.quarantined) for m in third] == [(3, True)]
    assert state.quarantine == {third[0].message_key: third[0].error}
    assert run(settings, state) == []  # quarantined: never fetched again
    assert len(state.receipts) == 1


@pytest.mark.imap
def test_connection_dropped_mid_fetch_is_caught_up_exactly_once(
    dovecot: DovecotServer, dropping_proxy: Callable[[int], DroppingProxy]
) -> None:
    for n in range(5):
        dovecot.append(with_pdf(f"m{n}", PDF + f"% copy {n}\n".encode()))
    proxy = dropping_proxy(dovecot.port)
    settings = dovecot.settings(port=proxy.port, action="flag")
    state = MemoryState()
    proxy.arm(b"Message-ID: <m2@ice.example>", after=20)  # cut inside message 2's body
    first = run(settings, state)
    assert proxy.drops == 1 and proxy.connections == 2  # it reconnected and carried on
    assert [(m.message_id, m.error) for m in first if m.error] == [(None, "fetch_failed: connection lost (abort)")]
    assert len(state.receipts) == 4

    second = run(settings, state)
    assert [m.message_id for m in second] == ["<m2@ice.example>"]
    assert run(settings, state) == []
    keys = [r.source_key for r in state.receipts]
    assert len(keys) == len(set(keys)) == 5
    assert Counter(r.sha256 for r in state.receipts) == Counter(
        sha256_hex(PDF + f"% copy {n}\n".encode()) for n in range(5))
    assert all(flags == {b"$DetainerIntake"} for flags in dovecot.flags().values())


@pytest.mark.imap
def test_imaps_with_the_system_trust_store(dovecot_imaps: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> None:
    dovecot_imaps.append(with_pdf("tls"))
    assert dovecot_imaps.cert is not None
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot_imaps.cert))  # as a CA bundle would be installed
    [message] = run(dovecot_imaps.settings(security="ssl"), MemoryState())
    assert len(message.documents) == 1


@pytest.mark.imap
def test_starttls(dovecot_starttls: DovecotServer) -> None:
    dovecot_starttls.append(with_pdf("starttls"))
    settings = dovecot_starttls.settings(security="starttls")
    [message] = run(settings, MemoryState(), ssl_context=dovecot_starttls.ssl_context())
    assert len(message.documents) == 1


@pytest.mark.imap
def test_tls_is_never_silently_dropped(dovecot_imaps: DovecotServer, dovecot: DovecotServer) -> None:
    # an untrusted certificate is refused
    with pytest.raises(ChannelUnavailable) as err:
        run(dovecot_imaps.settings(security="ssl"), MemoryState())
    assert dovecot_imaps.password not in str(err.value)
    # a server without TLS is refused unless security = "none"
    for security in ("ssl", "starttls"):
        with pytest.raises(ChannelUnavailable):
            run(dovecot.settings(security=security), MemoryState())


@pytest.mark.imap
def test_credentials_problems_are_channel_unavailable_without_secrets(
    dovecot: DovecotServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password-xyz\n")
    with pytest.raises(ChannelUnavailable) as err:
        run(dovecot.settings(password_file=wrong), MemoryState())
    assert "not-the-password-xyz" not in str(err.value) and "LoginError" in str(err.value)
    monkeypatch.delenv("BFS_IMAP_PASSWORD", raising=False)
    with pytest.raises(ChannelUnavailable, match="no password"):
        run(dovecot.settings(password_file=None, password_env="BFS_IMAP_PASSWORD"), MemoryState())
    monkeypatch.setenv("BFS_IMAP_PASSWORD", dovecot.password)
    assert run(dovecot.settings(password_file=None, password_env="BFS_IMAP_PASSWORD"), MemoryState()) == []
    with pytest.raises(ChannelUnavailable):
        run(dovecot.settings(folder="No-Such-Folder"), MemoryState())


# --------------------------------------------------------------------------- Maildir


def write_maildir(root: Path, messages: dict[str, bytes], mtime: datetime = INTERNAL) -> dict[str, Path]:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    paths = {}
    for n, (name, raw) in enumerate(messages.items()):
        sub, suffix = ("cur", ":2,S") if n % 2 else ("new", "")
        path = root / sub / f"{1741000000 + n}.M{n}P1.mail.dept.example{suffix}"
        path.write_bytes(raw)
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
        paths[name] = path
    return paths


def comparable(messages: list[MailMessage]) -> list[tuple[object, ...]]:
    """Everything of the receipts but the source key."""
    return sorted(
        (m.message_id, m.sender, m.received_at, m.raw_sha256,
         tuple(d.receipt.model_dump_json(exclude={"source_key"}) for d in m.documents),
         tuple((p.name, p.reason, p.sha256) for p in m.rejected_parts))
        for m in messages
    )


@pytest.mark.imap
def test_maildir_source_matches_imap_apart_from_keys(dovecot: DovecotServer, tmp_path: Path) -> None:
    local = tmp_path / "mailbox"
    write_maildir(local, corpus())
    from_maildir = run(MailChannelSettings(enabled=True, maildir=local), MemoryState())
    assert dovecot.deliver_maildir(local) == 5  # the same files, served by Dovecot
    from_imap = run(dovecot.settings(action="none"), MemoryState())
    assert comparable(from_maildir) == comparable(from_imap)
    assert len(from_maildir) == 5
    inline = by_mid(from_maildir)["inline"]
    assert inline.received_at == INTERNAL and inline.received_from == "internaldate"  # the file's mtime
    name = Path(inline.path or "").name.split(":")[0]
    assert inline.message_key == f"maildir:mailbox/{name}"
    assert inline.documents[0].receipt.source_key == f"maildir:mailbox/{name};MID=<inline@ice.example>;part=0"


def test_maildir_is_read_only_by_default_and_handled_once(tmp_path: Path) -> None:
    local = tmp_path / "mailbox"
    paths = write_maildir(local, {"one": with_pdf("one"), "two": with_pdf("two")})
    before = sorted(p.name for p in local.rglob("*"))
    state = MemoryState()
    settings = MailChannelSettings(enabled=True, maildir=local)  # action "flag": nothing to do in a Maildir
    assert len(run(settings, state)) == 2
    assert run(settings, state) == []
    assert sorted(p.name for p in local.rglob("*")) == before
    # a message renamed by a mail client (new -> cur, flags) is the same message
    moved = local / "cur" / (paths["one"].name + ":2,S")
    shutil.move(paths["one"], moved)
    assert run(settings, state) == []


def test_maildir_move_action(tmp_path: Path) -> None:
    local = tmp_path / "mailbox"
    write_maildir(local, {"one": with_pdf("one")})
    state = MemoryState()
    assert len(run(MailChannelSettings(enabled=True, maildir=local, action="move"), state)) == 1
    assert [p.parent.parent.name for p in local.rglob("*.example*") if p.is_file()] == [".Processed"]


def test_missing_maildir_is_channel_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ChannelUnavailable):
        run(MailChannelSettings(enabled=True, maildir=tmp_path / "nothing"), MemoryState())


def test_oversized_attachment_is_rejected_not_dropped(tmp_path: Path) -> None:
    local = tmp_path / "mailbox"
    write_maildir(local, {"big": with_pdf("big", PDF + b"0" * 5000)})
    [message] = run(MailChannelSettings(enabled=True, maildir=local, max_attachment_bytes=1000), MemoryState())
    assert message.documents == []
    assert [(p.name, p.reason) for p in message.rejected_parts if p.reason != "body_text"] == [
        ("big.pdf", "too_large")]


def test_a_message_that_will_be_retried_gets_no_post_commit_action(tmp_path: Path) -> None:
    local = tmp_path / "mailbox"
    broken = b"From: a@ice.example\r\nContent-Type: multipart/mixed\r\n\r\nno parts\r\n"
    paths = write_maildir(local, {"broken": broken})
    settings = MailChannelSettings(enabled=True, maildir=local, action="move", max_attempts=2)
    with MailboxSession(settings) as session:
        [message] = list(session.poll(MemoryState(), TZ))
        assert message.error is not None and not message.quarantined
        assert session.complete(message) is False
    assert paths["broken"].exists()
