"""What fax servers record about a received fax: TIFF tags and faxinfo-style sidecars.

- TIFF tag 306 (DateTime, ``YYYY:MM:DD HH:MM:SS``, the fax server's local time) and tag 270
  (ImageDescription, where HylaFAX keeps the sender's TSI; taken only when it fits a TSI,
  at most 20 characters).
- A sidecar ``<file>.info`` or ``<stem>.info`` in ``faxinfo`` style: ``Key: value`` lines,
  of which ``Received: YYYY:MM:DD HH:MM:SS`` (local time), ``CallID1`` (caller ID) and
  ``Sender`` (TSI) are used.

The sender is a phone number in E.164 where one is recorded (caller ID first: the TSI is
whatever the sending machine was programmed to announce), else the TSI text.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

TAG_IMAGE_DESCRIPTION = 270
TAG_DATETIME = 306
SIDECAR_SUFFIX = ".info"
_MAX_SIDECAR_BYTES = 64 * 1024
_LOCAL_TIME = re.compile(r"^\s*(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})\s*$")
_PHONE = re.compile(r"^\+?[\d\s().\-]{7,24}$")
MAX_TSI_CHARS = 20
_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 ]*?)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class FaxMeta:
    received_at: datetime | None = None  # aware, UTC
    sender: str | None = None


def local_time_to_utc(text: str, tz: str) -> datetime | None:
    """``YYYY:MM:DD HH:MM:SS`` in zone ``tz`` -> aware UTC; None when not such a time."""
    match = _LOCAL_TIME.match(text)
    if not match:
        return None
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        local = datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(tz))
    except ValueError:
        return None
    if not 1990 <= local.year <= 2100:
        return None
    return local.astimezone(UTC)


def normalize_sender(text: str | None) -> str | None:
    """A phone number as E.164 (North American numbers get +1); other TSI text trimmed."""
    if not text:
        return None
    value = "".join(ch for ch in text if ch.isprintable()).strip()
    if _PHONE.match(value):
        digits = re.sub(r"\D", "", value)
        if value.startswith("+"):
            return "+" + digits
        if len(digits) == 10:
            return "+1" + digits
        if len(digits) == 11 and digits.startswith("1"):
            return "+" + digits
        return digits
    return value[:40] or None


def tiff_meta(content: bytes, tz: str) -> FaxMeta:
    tags = tiff_ascii_tags(content, (TAG_DATETIME, TAG_IMAGE_DESCRIPTION))
    description = tags.get(TAG_IMAGE_DESCRIPTION, "")
    return FaxMeta(
        received_at=local_time_to_utc(tags.get(TAG_DATETIME, ""), tz),
        sender=normalize_sender(description) if len(description) <= MAX_TSI_CHARS else None,
    )


def tiff_ascii_tags(content: bytes, wanted: tuple[int, ...]) -> dict[int, str]:
    """ASCII tags of the first IFD of a classic or Big TIFF; {} when unreadable."""
    try:
        return _read_ifd0(content, set(wanted))
    except (struct.error, ValueError, IndexError):
        return {}


def _read_ifd0(content: bytes, wanted: set[int]) -> dict[int, str]:
    order = {b"II": "<", b"MM": ">"}.get(content[:2])
    if order is None:
        return {}
    (version,) = struct.unpack_from(order + "H", content, 2)
    if version == 42:
        offset_fmt, count_fmt, entry_size, inline = "I", "H", 12, 4
        (ifd,) = struct.unpack_from(order + "I", content, 4)
    elif version == 43:
        offset_fmt, count_fmt, entry_size, inline = "Q", "Q", 20, 8
        (ifd,) = struct.unpack_from(order + "Q", content, 8)
    else:
        return {}
    (entries,) = struct.unpack_from(order + count_fmt, content, ifd)
    first = ifd + struct.calcsize(count_fmt)
    found: dict[int, str] = {}
    for i in range(min(entries, 4096)):
        at = first + i * entry_size
        tag, kind = struct.unpack_from(order + "HH", content, at)
        if tag not in wanted or kind != 2:  # 2 = ASCII
            continue
        (count,) = struct.unpack_from(order + offset_fmt, content, at + 4)
        if count <= inline:
            start = at + 4 + struct.calcsize(offset_fmt)
        else:
            (start,) = struct.unpack_from(order + offset_fmt, content, at + 4 + struct.calcsize(offset_fmt))
        raw = content[start : start + min(count, 4096)]
        found[tag] = raw.split(b"\x00", 1)[0].decode("ascii", "replace").strip()
    return found


def sidecar_for(path: Path) -> Path | None:
    """The sidecar of ``path`` (``fax1.tif.info`` or ``fax1.info``) if there is one."""
    for candidate in (path.with_name(path.name + SIDECAR_SUFFIX), path.with_suffix(SIDECAR_SUFFIX)):
        try:
            if candidate != path and candidate.is_file():
                return candidate
        except OSError:  # e.g. ENAMETOOLONG: a 255-byte name plus ".info" cannot exist
            continue
    return None


def sidecar_meta(path: Path, tz: str) -> FaxMeta:
    with path.open("rb") as handle:
        text = handle.read(_MAX_SIDECAR_BYTES).decode("utf-8", "replace")
    fields: dict[str, str] = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if match and match.group(2):
            fields.setdefault(match.group(1).lower(), match.group(2))
    numbers = [v for v in (fields.get("callid1"), fields.get("sender")) if v and _PHONE.match(v)]
    sender = numbers[0] if numbers else fields.get("sender")
    received_at = local_time_to_utc(fields.get("received", ""), tz)
    return FaxMeta(received_at=received_at, sender=normalize_sender(sender))
