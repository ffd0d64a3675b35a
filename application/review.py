"""The operators' review queue: what to look at, what OCR saw, and how to name a copy.

``review_entries`` lists open items with where they came from (file name or mail message)
and why, without personal data. ``copy_details`` and ``write_crops`` show one copy's field
values with their confidence and cut the page region each value was read from, from the
archived bytes, rendered exactly as parsing saw it: PDF pages with a usable text layer at
``parsing.pages.INK_DPI``; scanned pages after ``parsing.normalize.normalize`` (square
pixels, upright, deskewed), the image OCR ran on and the one evidence boxes refer to.
Those outputs hold personal data on purpose (operator tools): never log them.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import typing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from pydantic import TypeAdapter, ValidationError

from core.config import ParsingSettings
from core.errors import ExitCode, IntakeError
from core.files import private_dir, write_private
from core.keys import CopyKey
from ledger.store import Ledger
from ledger.uncertainty import Effect
from parsing.fields import parse_date
from parsing.models import BBox, DetainerRequest, FieldEvidence

# Fields shown by `review show`, in the order of the form.
SHOWN_FIELDS: tuple[str, ...] = (
    "form_type",
    "form_revision",
    "event_number",
    "file_number",
    "issued_date",
    "subject_id",
    "subject_name",
    "date_of_birth",
    "citizenship",
    "sex",
    "to_institution",
    "from_office",
    "probable_cause",
    "transferred_for_proceeding",
    "requested_actions",
    "cancels_previous",
    "cancelled_detainer_date",
    "officer_name",
    "officer_title",
    "warrant_form",
    "fax_sender_number",
    "fax_sent_at",
)
CROP_MARGIN = 0.35  # at least this share of the box's width on each side
_COPY_KEY = re.compile(r"^([0-9a-fA-F]{6,64})(?::(\d+))?$")


class BadArgument(IntakeError):
    """An operator's value cannot be used: an unknown id or copy, a malformed value."""

    exit_code = ExitCode.bad_args
    remedy = "Item numbers and copy keys are listed by `detainer-intake review list`; request ids are in the report."


# --------------------------------------------------------------------------- naming copies


def resolve_copy(ledger: Ledger, ref: str) -> str:
    """A copy key from what an operator types: ``<sha256>:<index>`` (a unique SHA-256 prefix of at
    least 6 characters will do; the index may be left out when the document holds one copy), a
    request id (``REQ-...``: its founding copy) or a review item number (its copy)."""
    ref = ref.strip()
    reads = ledger.review_reads
    if ref.upper().startswith("REQ-"):
        founder = reads.founding_copy(ref.upper())
        if founder is None:
            raise BadArgument("unknown request id")
        return founder
    if ref.isdigit():
        item = reads.review_item(int(ref))
        if item is None:
            raise BadArgument(f"no review item {ref}")
        if not item.copy_key:
            raise BadArgument(f"review item {ref} is not about a detainer copy")
        if item.other_copy_key:
            raise BadArgument(
                f"review item {ref} concerns two copies: name one by its copy key (see `review show {ref}`)"
            )
        return item.copy_key
    match = _COPY_KEY.match(ref)
    if match is None:
        raise BadArgument("not a copy key, request id or review item number")
    prefix, index = match.group(1).lower(), match.group(2)
    docs = reads.documents_by_prefix(prefix)
    if len(docs) != 1:
        raise BadArgument("no document with that SHA-256" if not docs else "SHA-256 prefix is ambiguous")
    [(sha, indexes)] = docs.items()
    if index is None:
        if len(indexes) != 1:
            raise BadArgument("the document holds several detainer copies: add ':<index>'")
        return str(CopyKey(sha, indexes[0]))
    if int(index) not in indexes:
        raise BadArgument("the document has no detainer copy with that index")
    return str(CopyKey(sha, int(index)))


def parse_value(field_name: str, text: str) -> Any:
    """An operator's typed value for ``field_name`` in the form ``Ledger.correct`` takes."""
    if field_name not in DetainerRequest.model_fields:
        raise BadArgument(f"cannot correct unknown field {field_name!r}")
    stripped = text.strip()
    if stripped.lower() in ("", "null", "none", "-"):
        return None
    annotation = DetainerRequest.model_fields[field_name].annotation
    assert annotation is not None
    kinds = set(typing.get_args(annotation)) | {annotation}
    origins = {typing.get_origin(k) for k in kinds}
    if list in origins or list in kinds:
        if stripped.startswith("["):
            return json.loads(stripped)
        return [part.strip() for part in stripped.split(",") if part.strip()]
    if bool in kinds:
        lowered = stripped.lower()
        if lowered in ("yes", "y", "true", "1", "checked", "x"):
            return True
        if lowered in ("no", "n", "false", "0", "unchecked"):
            return False
        raise BadArgument(f"{field_name} takes yes or no")
    if date in kinds:
        parsed = parse_date(stripped)
        if parsed is None:
            raise BadArgument(f"{field_name} takes a date (YYYY-MM-DD or MM/DD/YYYY)")
        return parsed
    value: Any = stripped
    try:  # the value the ledger will validate, checked here for a clear message
        TypeAdapter(annotation).validate_python(value)
    except ValidationError:
        raise BadArgument(f"{value!r} is not a valid {field_name}") from None
    return value


# --------------------------------------------------------------------------- the queue


@dataclass(frozen=True)
class ReviewEntry:
    id: int
    kind: str  # copy | match | cancellation | quarantine | disposition
    status: str
    reason: str  # slugs (field names, rules), never values
    score: float | None
    default_decision: str | None
    source: str  # where the subject came from: channel, station and file name, or the mail message
    source_key: str | None
    received_at: datetime | None
    document_sha256: str | None
    copy_keys: tuple[str, ...]
    request_ids: tuple[str | None, ...]  # per copy key: the request it is linked to (None: none)
    message: str | None  # quarantine message (no personal data)
    resolution: str | None = None
    resolved_by: str | None = None
    impact: Effect | None = None  # how far deciding it could move the count (open items only)

    @property
    def impact_text(self) -> str:
        return self.impact.describe() if self.impact is not None else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "score": self.score,
            "default_decision": self.default_decision,
            "source": self.source,
            "source_key": self.source_key,
            "received_at": self.received_at.isoformat() if self.received_at else None,
            "document_sha256": self.document_sha256,
            "copy_keys": list(self.copy_keys),
            "request_ids": list(self.request_ids),
            "message": self.message,
            "resolution": self.resolution,
            "resolved_by": self.resolved_by,
            "impact": {**self.impact.to_json(), "text": self.impact_text} if self.impact is not None else None,
        }


def _source(channel: str, station: str | None, file_name: str) -> str:
    where = f"{channel} {station}" if station and channel == "station_fax" else channel
    return f"{where}: {file_name}"


def review_entries(ledger: Ledger, status: str | None = "open", tz: str = "America/New_York") -> list[ReviewEntry]:
    """Review items (open ones by default) with their sources; no personal values. Open items come
    first, those that can move the count most first (``impact``), then the oldest."""
    impacts = ledger.review_effects(tz)
    listing = ledger.review_reads.listing(status)
    first = listing.first_arrivals
    out = []
    for item in listing.items:
        copy_keys = tuple(k for k in (item.copy_key, item.other_copy_key) if k)
        sha = item.document_sha256 or (CopyKey.parse(copy_keys[0]).document_sha256 if copy_keys else None)
        source, source_key, message = "", None, None
        if sha and sha in first:
            arrival = first[sha]
            source, source_key = _source(arrival.channel, arrival.station, arrival.file_name), arrival.source_key
            other = first.get(CopyKey.parse(item.other_copy_key).document_sha256) if item.other_copy_key else None
            if other is not None:
                source += f" / {_source(other.channel, other.station, other.file_name)}"
            message = listing.messages.get(f"sha256:{sha}") if item.kind == "quarantine" else None
        elif item.key.startswith("quarantine:mail:"):
            source_key = item.key.removeprefix("quarantine:mail:")
            source = f"mail message {source_key}"
            message = listing.messages.get(f"mail:{source_key}")
        elif item.key.startswith("disposition:"):
            source = f"disposition of {item.key.removeprefix('disposition:')}"
        out.append(
            ReviewEntry(
                id=item.id,
                kind=item.kind,
                status=item.status,
                reason=item.reason,
                score=item.score,
                default_decision=item.default_decision,
                source=source,
                source_key=source_key,
                received_at=item.received_at,
                document_sha256=sha,
                copy_keys=copy_keys,
                request_ids=tuple(listing.links.get(k) for k in copy_keys),
                message=message,
                resolution=item.resolution,
                resolved_by=item.resolved_by,
                impact=impacts.get(item.id) if item.status == "open" else None,
            )
        )
    return sorted(out, key=_queue_order)


def _queue_order(entry: ReviewEntry) -> tuple[Any, ...]:
    size = entry.impact.size if entry.impact is not None else 0
    moment = entry.received_at or datetime.max.replace(tzinfo=UTC)
    return (entry.status != "open", -size, moment, entry.id)


def review_entry(ledger: Ledger, item_id: int) -> ReviewEntry:
    for entry in review_entries(ledger, status=None):
        if entry.id == item_id:
            return entry
    raise BadArgument(f"no review item {item_id}")


# --------------------------------------------------------------------------- one copy, in detail


@dataclass
class FieldView:
    name: str  # a DetainerRequest field, or "<field>:<option>" for one checkbox
    value: Any  # effective value (OCR, or the latest correction)
    ocr_value: Any
    evidence: FieldEvidence | None
    corrected: list[dict[str, Any]] = field(default_factory=list)  # who, at, old, new
    flagged: list[str] = field(default_factory=list)  # review reasons naming this field
    crop: Path | None = None


@dataclass
class CopyDetails:
    key: str
    request_id: str | None
    rule: str | None
    needs_review: bool
    review_reasons: list[str]
    pages: dict[int, bool]  # page number -> read from a PDF text layer
    fields: list[FieldView]


def copy_details(ledger: Ledger, copy_key: str) -> CopyDetails:
    try:
        key = CopyKey.parse(copy_key)
    except ValueError:
        raise BadArgument("unknown detainer copy") from None
    sha, index = key.document_sha256, key.index
    copies = {c["index"]: c for c in ledger.copies(sha)}
    if index not in copies:
        raise BadArgument("unknown detainer copy")
    stored = copies[index]
    extraction = ledger.extraction_for(sha)
    detainer = extraction.detainers[index] if extraction and index < len(extraction.detainers) else None
    ocr = detainer.model_dump(mode="json") if detainer else {}
    evidence = dict(detainer.evidence) if detainer else {}
    reasons = [str(r) for r in stored["fields"].get("review_reasons") or []]
    corrections = [
        {"field": c.field, "who": c.who, "at": c.at, "old": c.old, "new": c.new}
        for c in ledger.review_reads.correction_history(key)
    ]
    fields = []
    for name in SHOWN_FIELDS:
        fields.append(
            FieldView(
                name=name,
                value=stored["fields"].get(name),
                ocr_value=ocr.get(name),
                evidence=evidence.pop(name, None),
                corrected=[c for c in corrections if c["field"] == name],
                flagged=[r for r in reasons if r.partition(":")[0] == name],
            )
        )
    for name, ev in sorted(evidence.items()):  # checkboxes: "probable_cause:final_order", ...
        group, _, option = name.partition(":")
        chosen = stored["fields"].get(group)
        value = option in chosen if isinstance(chosen, list) else chosen
        fields.append(
            FieldView(
                name=name,
                value=value,
                ocr_value=None,
                evidence=ev,
                flagged=[r for r in reasons if r.startswith(name + ":")],
            )
        )
    pages = {p.page: p.text_layer for p in extraction.pages} if extraction else {}
    return CopyDetails(
        key=copy_key,
        request_id=stored["request_id"],
        rule=stored["rule"],
        needs_review=bool(stored["fields"].get("needs_review")),
        review_reasons=reasons,
        pages=pages,
        fields=fields,
    )


# --------------------------------------------------------------------------- crops


def render_page(content: bytes, page: int, text_layer: bool, settings: ParsingSettings | None = None) -> Image.Image:
    """Page ``page`` (1-based, across an e-mail's documents as parsing numbers them) as parsing saw it."""
    from core.formats import Format
    from parsing import pages as P
    from parsing.normalize import normalize
    from parsing.sniff import sniff

    settings = settings or ParsingSettings()
    if sniff(content) is Format.eml:
        from ingest.mime import iter_documents

        parts = [d.content for d in iter_documents(content)]
    else:
        parts = [content]
    offset = 0
    with tempfile.TemporaryDirectory(prefix="review-") as tmp:  # 0700: the bytes are personal data
        for number, part in enumerate(parts):
            path = Path(tmp) / f"part{number:03d}"
            path.write_bytes(part)
            info = P.open_input(part, path, settings)
            if offset < page <= offset + info.page_count:
                ref = info.pages[page - offset - 1]
                if ref.fmt is P.Format.pdf and text_layer:
                    return P.render_pdf_page(ref, P.INK_DPI).convert("L")
                image, dpi, _ = P.load_image(ref)
                return normalize(image, dpi).to_image().convert("L")
            offset += info.page_count
    raise BadArgument(f"the document has no page {page}")


def crop_box(box: BBox, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The region to cut around a value: the box, a margin for context, clipped to the page."""
    width, height = size
    before = max(60, int(box.width * CROP_MARGIN), int(width * 0.22))  # the label sits left of the value
    after = max(60, int(box.width * CROP_MARGIN), int(width * 0.06))
    dy = max(30, box.height * 2)
    return (
        max(0, box.left - before),
        max(0, box.top - dy),
        min(width, box.left + box.width + after),
        min(height, box.top + box.height + dy),
    )


def write_crops(
    details: CopyDetails, content: bytes, out: Path, settings: ParsingSettings | None = None, prefix: str = ""
) -> list[Path]:
    """One PNG per field with a box, the box outlined in red; sets ``FieldView.crop``."""
    private_dir(out)
    pages: dict[int, Image.Image] = {}
    written = []
    for view in details.fields:
        ev = view.evidence
        if ev is None or ev.bbox is None or ev.page < 1:
            continue
        if ev.page not in pages:
            pages[ev.page] = render_page(content, ev.page, details.pages.get(ev.page, False), settings)
        page = pages[ev.page]
        left, top, right, bottom = crop_box(ev.bbox, page.size)
        if right <= left or bottom <= top:
            continue
        crop = page.crop((left, top, right, bottom)).convert("RGB")
        draw = ImageDraw.Draw(crop)
        b = ev.bbox
        draw.rectangle(
            (b.left - left - 3, b.top - top - 3, b.left - left + b.width + 3, b.top - top + b.height + 3),
            outline=(220, 30, 30),
            width=3,
        )
        path = out / f"{prefix}{view.name.replace(':', '-')}.png"
        png = io.BytesIO()
        crop.save(png, format="PNG")
        write_private(path, png.getvalue(), durable=False)
        view.crop = path
        written.append(path)
    return written
