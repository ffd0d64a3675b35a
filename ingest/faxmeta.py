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

import io
import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

TAG_IMAGE_DESCRIPTION = 270
TAG_DATETIME = 306
SIDECAR_SUFFIX = ".info"
_MAX_SIDECAR_BYTES = 64 * 1024
_MAX_TAG_CHARS = 4096
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
    """ASCII tags of the first IFD of a classic or Big TIFF, as Pillow reads them; {} when unreadable.

    Pillow reads only the header and the first IFD here (no pixels), with its own bounds on what a
    tag may claim. The tags only date and label an arrival, so a file whose header cannot be read,
    whatever the decoder raises, simply has none: the arrival falls back to the sidecar or mtime.
    """
    found: dict[int, str] = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possibly corrupt" and bomb warnings: the header is all we read
            with Image.open(io.BytesIO(content), formats=["TIFF"]) as image:
                tags = image.tag_v2  # type: ignore[attr-defined]
                for tag in wanted:
                    value = tags.get(tag)
                    if isinstance(value, bytes):
                        value = value.decode("ascii", "replace")
                    if isinstance(value, str):
                        found[tag] = value[:_MAX_TAG_CHARS].split("\x00", 1)[0].strip()
    except Exception:  # any decoder failure on a hostile header means "no tags"
        return {}
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
