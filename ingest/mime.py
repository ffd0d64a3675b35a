"""Walk one e-mail message and take out its documents.

Pure functions over the message bytes: ``iter_documents`` for the parsing stage (``.eml``
inputs), ``parse_message`` for the mailbox channel (documents plus what was not taken and
the headers the receipts need).

Documents are recognised by their content (``core.formats``), never by the declared type
or name: attachments, inline images and parts of forwarded ``message/rfc822`` messages all
count, depth-first. Any other attached non-text file (a .docx, an .exe) is a document too,
with no format: it arrives, gets a receipt and is quarantined as unreadable. Every other
leaf part (body text, attached text such as vCards, empty parts) is reported as a
``RejectedPart`` with a reason, so nothing disappears silently. Broken MIME degrades where it can (a multipart whose
boundary is missing or wrong is re-split on the delimiter lines found in its body;
undecodable headers are read raw); what cannot be walked raises ``MalformedMessage``.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from email import message_from_bytes, policy
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime

from core.errors import MalformedMessage
from core.formats import Format, sniff_document
from ingest.models import RejectedPart, sha256_hex
from ingest.names import sanitize_filename

MAX_DEPTH = 10  # nested multiparts / forwarded messages; deeper parts are rejected
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
_DELIMITER = re.compile(rb"^--([^\s]{1,200}?)(--)?[ \t]*\r?$", re.MULTILINE)
_FOLD = re.compile(r"\r?\n[ \t]+")
_EML_HEADER = re.compile(rb"^(?:Received|Return-Path|From|Date|Message-ID|MIME-Version|Subject|To):", re.I)


@dataclass(frozen=True)
class MimeDocument:
    """One document found in a message."""

    index: int  # 0-based among the message's documents, depth-first
    part: str  # MIME part number ("2", "3.1", ...)
    file_name: str  # sanitised declared name, or "part-<n>.<ext>" when none was declared
    content_type: str  # as declared (often wrong; the format is what counts)
    # As sniffed from the content; None for an attached file that is not a document we can read
    # (e.g. a .docx): it still arrives, so the ledger quarantines it instead of it vanishing.
    format: Format | None
    content: bytes = field(repr=False)
    inline: bool = False  # Content-Disposition: inline (e.g. an image in the body)
    forwarded: bool = False  # inside a forwarded message/rfc822 part

    @property
    def sha256(self) -> str:
        return sha256_hex(self.content)


@dataclass(frozen=True)
class ParsedMessage:
    """The outer message's headers that receipts need, its documents and the rest."""

    message_id: str | None
    sender: str | None  # From addr-spec
    received_header_at: datetime | None  # date of the topmost parseable Received: header (UTC)
    date_header_at: datetime | None  # Date: header (UTC)
    documents: list[MimeDocument]
    rejected: list[RejectedPart]
    defects: list[str] = field(default_factory=list)  # email package defect names, for diagnostics


def iter_documents(message_bytes: bytes) -> list[MimeDocument]:
    """The documents of one message, depth-first. Raises ``MalformedMessage``."""
    return parse_message(message_bytes).documents


def parse_message(message_bytes: bytes, tz: tzinfo = UTC) -> ParsedMessage:
    """Walk a whole message. ``tz`` applies to header dates written without a zone.

    Raises ``MalformedMessage`` (a message without content that cannot be walked), never
    anything else.
    """
    if not message_bytes.strip():
        raise MalformedMessage("empty message")
    try:
        msg = message_from_bytes(message_bytes, policy=policy.default)
        if not list(msg.raw_items()):
            raise MalformedMessage("message has no header section")
        walker = _Walker()
        walker.walk(msg, "", depth=0, forwarded=False, is_root=True)
        return ParsedMessage(
            message_id=message_id_of(msg),
            sender=sender_of(msg),
            received_header_at=_received_header_at(msg, tz),
            date_header_at=_parse_date(_header(msg, "Date"), tz),
            documents=walker.documents,
            rejected=walker.rejected,
            defects=sorted(walker.defects),
        )
    except MalformedMessage:
        raise
    except Exception as exc:  # the email package has many ways to fail on hostile input
        raise MalformedMessage(f"message structure cannot be walked ({type(exc).__name__})") from exc


class _Walker:
    def __init__(self) -> None:
        self.documents: list[MimeDocument] = []
        self.rejected: list[RejectedPart] = []
        self.defects: set[str] = set()

    def walk(self, part: Message, path: str, *, depth: int, forwarded: bool, is_root: bool = False) -> None:
        self.defects.update(type(d).__name__ for d in part.defects)
        ctype = _content_type(part)
        number = (f"{path}.1" if path else "1") if is_root else path
        if depth > MAX_DEPTH:
            self._reject(part, number, ctype, b"", "nested_too_deep")
            return
        if ctype == "message/rfc822" or ctype.startswith("multipart/"):
            inner = self._children(part, ctype, number)
            if ctype == "message/rfc822":
                if inner is not None:
                    self.walk(inner[0], number, depth=depth + 1, forwarded=True, is_root=True)
                return
            for i, child in enumerate(inner or [], start=1):
                self.walk(child, f"{path}.{i}" if path else str(i), depth=depth + 1, forwarded=forwarded)
            return
        self._leaf(part, number, ctype, depth=depth, forwarded=forwarded)

    def _children(self, part: Message, ctype: str, number: str) -> list[Message] | None:
        payload = part.get_payload()
        if isinstance(payload, list) and payload:
            return [p for p in payload if isinstance(p, Message)]
        body = _payload_bytes(part)
        if ctype == "message/rfc822":  # e.g. a base64-encoded forwarded message
            if body.strip():
                return [message_from_bytes(body, policy=policy.default)]
            self._reject(part, number, ctype, body, "empty")
            return None
        recovered = _resplit_multipart(body)
        if recovered is None:
            if not body.strip():
                return []
            raise MalformedMessage("multipart part without a usable boundary")
        self.defects.add("RecoveredBoundary")
        return recovered

    def _leaf(self, part: Message, number: str, ctype: str, *, depth: int, forwarded: bool) -> None:
        content = _payload_bytes(part)
        declared = _filename(part)
        disposition = _disposition(part)
        fmt = sniff_document(content) if content else None
        take = functools.partial(
            self._take, number=number, ctype=ctype, content=content, declared=declared,
            inline=disposition == "inline", forwarded=forwarded,
        )
        if fmt is not None:
            take(fmt)
            return
        if declared and declared.lower().endswith(".eml") and _EML_HEADER.match(content.lstrip()):
            inner = message_from_bytes(content, policy=policy.default)
            self.walk(inner, number, depth=depth + 1, forwarded=True, is_root=True)
            return
        if not content:
            reason = "empty"
        elif ctype.startswith("text/") and not declared and disposition != "attachment":
            reason = "body_text"
        elif ctype.startswith("text/"):
            reason = "unsupported_format"  # signatures, vCards, notes: reported with the message
        else:
            take(None)  # a file someone attached: an arrival like any other, quarantined downstream
            return
        self._reject(part, number, ctype, content, reason, declared)

    def _take(
        self, fmt: Format | None, *, number: str, ctype: str, content: bytes, declared: str | None,
        inline: bool, forwarded: bool,
    ) -> None:
        extension = fmt.extension if fmt is not None else ".bin"
        self.documents.append(
            MimeDocument(
                index=len(self.documents), part=number, content_type=ctype, format=fmt, content=content,
                file_name=sanitize_filename(declared, fallback=f"part-{number}{extension}"),
                inline=inline, forwarded=forwarded,
            )
        )

    def _reject(
        self, part: Message, number: str, ctype: str, content: bytes, reason: str, declared: str | None = None
    ) -> None:
        name = sanitize_filename(declared, fallback=f"part-{number}")
        self.rejected.append(
            RejectedPart(
                name=name, reason=reason, content_type=ctype, size=len(content), part=number,
                sha256=sha256_hex(content),
            )
        )


def _resplit_multipart(body: bytes) -> list[Message] | None:
    """Parts of a multipart body whose boundary parameter is missing or wrong, or None."""
    counts: Counter[bytes] = Counter()
    closing: set[bytes] = set()
    for match in _DELIMITER.finditer(body):
        counts[match.group(1)] += 1
        if match.group(2):
            closing.add(match.group(1))
    candidates = [b for b, n in counts.most_common() if n >= 2 or b in closing]
    if not candidates:
        return None
    boundary = candidates[0].decode("ascii", "replace").replace('"', "")
    wrapper = f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'.encode() + body
    rebuilt = message_from_bytes(wrapper, policy=policy.default)
    payload = rebuilt.get_payload()
    parts = [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []
    return parts or None


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("ascii", "surrogateescape")
    return b""


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    return str(name) if name else None


# --- headers, read raw so that undecodable values cannot break the walk ------------------------

def _headers(msg: Message, name: str) -> list[str]:
    wanted = name.lower()
    out = []
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            text = _FOLD.sub(" ", str(value)).strip()
            out.append(text.encode("utf-8", "replace").decode("utf-8"))
    return out


def _header(msg: Message, name: str) -> str | None:
    values = _headers(msg, name)
    return values[0] if values else None


def _clean(text: str, limit: int) -> str | None:
    text = "".join(ch for ch in text if ch.isprintable() and ch != "\ufffd").strip()
    return text[:limit] or None


def message_id_of(msg: Message) -> str | None:
    value = _header(msg, "Message-ID")
    if not value:
        return None
    match = _MESSAGE_ID.search(value)
    return _clean(match.group(0) if match else value.split()[0], 250)


def sender_of(msg: Message) -> str | None:
    value = _header(msg, "From")
    if not value:
        return None
    address = parseaddr(value)[1]
    return _clean(address, 254)


def _received_header_at(msg: Message, tz: tzinfo) -> datetime | None:
    for value in _headers(msg, "Received"):
        if ";" in value:
            when = _parse_date(value.rsplit(";", 1)[1], tz)
            if when is not None:
                return when
    return None


def _parse_date(value: str | None, tz: tzinfo) -> datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC (RFC 5322); no zone at all: the department's
        when = when.replace(tzinfo=UTC if "-0000" in value else tz)
    return when.astimezone(UTC)
