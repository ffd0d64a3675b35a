"""ingest.archive: content-addressed, atomic, private."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.channels import Channel
from ingest.archive import Archive, ArchiveCorrupt
from ingest.models import MailMessage, ReceivedDocument, sha256_hex


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_is_content_addressed_idempotent_and_private(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    content = b"%PDF-1.4 detainer"
    digest = sha256_hex(content)
    path = archive.store(content)
    assert path == tmp_path / "archive" / digest[:2] / digest[2:4] / digest
    assert path.read_bytes() == content
    assert mode(path) == 0o600
    for folder in (archive.root, path.parent, path.parent.parent):
        assert mode(folder) == 0o700
    mtime = path.stat().st_mtime_ns
    assert archive.store(content) == path
    assert path.stat().st_mtime_ns == mtime  # not rewritten
    assert digest in archive
    assert archive.load(digest) == content
    assert [p.name for p in path.parent.iterdir()] == [digest]  # no temporary files left behind


def test_load_verifies_the_hash(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    path = archive.store(b"original")
    path.write_bytes(b"tampered")
    with pytest.raises(ArchiveCorrupt):
        archive.load(sha256_hex(b"original"))
    with pytest.raises(FileNotFoundError):
        archive.load(sha256_hex(b"never stored"))
    with pytest.raises(ValueError):
        archive.load("../../etc/passwd")


def test_damaged_copy_of_other_size_is_rewritten(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    path = archive.store(b"content")
    path.write_bytes(b"trunc")
    archive.store(b"content")
    assert archive.load(sha256_hex(b"content")) == b"content"


def test_store_message_keeps_the_raw_eml_and_documents(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    raw = b"From: a@b.example\r\n\r\nhello\r\n"
    doc = ReceivedDocument.build(
        b"%PDF-1.4", channel=Channel.bfs_email, source_key="maildir:x/1;MID=-;part=0",
        received_at=datetime(2025, 1, 1, tzinfo=UTC), file_name="a.pdf",
    )
    message = MailMessage(message_key="maildir:x/1", received_at=None, raw=raw, documents=[doc])
    archive.store_message(message)
    assert archive.load(sha256_hex(raw)) == raw
    assert archive.load(doc.receipt.sha256) == b"%PDF-1.4"
