"""Typed results of parsing: pages, documents and detainer records."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

FormType = Literal["I-247A", "I-247D", "I-247N", "I-247X", "I-247"]
WarrantForm = Literal["I-200", "I-205"]
ProbableCause = Literal["final_order", "pending_proceedings", "biometric_records", "statements_evidence"]
RequestedAction = Literal["notify", "maintain_custody", "relay", "notify_death_transfer"]


class PageKind(StrEnum):
    detainer_p1 = "detainer_p1"  # I-247A page 1 (or page 1 of an older/sibling I-247 form)
    detainee_notice = "detainee_notice"  # I-247A pages 2-3: notice to the detainee
    i200 = "i200"  # Warrant for Arrest of Alien
    i205 = "i205"  # Warrant of Removal/Deportation
    fax_cover = "fax_cover"
    other = "other"


class BBox(BaseModel):
    """A box on the normalised page image, in pixels (left, top, width, height)."""

    left: int
    top: int
    width: int
    height: int


class FieldEvidence(BaseModel):
    """Where a field value came from and how sure we are of it."""

    page: int  # 1-based page number within the input file
    bbox: BBox | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    raw: str | None = None  # OCR text the value was parsed from (stays in the ledger; never logged)


class DetainerRequest(BaseModel):
    """One detainer form (I-247A or a sibling) as extracted from one document."""

    form_type: FormType
    form_revision: str | None = None  # e.g. "3/17", "02/17"
    subject_id: str | None = None
    event_number: str | None = None
    file_number: str | None = None  # A-number, normalised to "A" + 9 digits
    issued_date: date | None = None
    to_institution: str | None = None
    from_office: str | None = None
    subject_name: str | None = None  # as printed
    date_of_birth: date | None = None
    citizenship: str | None = None
    sex: str | None = None
    probable_cause: list[ProbableCause] = Field(default_factory=list)
    transferred_for_proceeding: bool = False
    requested_actions: list[RequestedAction] = Field(default_factory=list)
    cancels_previous: bool = False
    cancelled_detainer_date: date | None = None
    officer_name: str | None = None  # the name only ("J. Ramirez", "Jennifer Ortiz")
    officer_title: str | None = None  # "Deportation Officer" (parsing/templates/officer_titles.txt)
    warrant_form: WarrantForm | None = None
    fax_sender_number: str | None = None
    fax_sent_at: datetime | None = None
    source_pages: list[int] = Field(default_factory=list)  # 1-based pages of the input holding this packet
    evidence: dict[str, FieldEvidence] = Field(default_factory=dict)  # per field name
    needs_review: bool = False
    review_reasons: list[str] = Field(default_factory=list)  # field names / rule slugs, never values


class PageResult(BaseModel):
    """One page after OCR and classification (text kept for the ledger, never logged)."""

    page: int
    kind: PageKind
    rotation: int = 0  # degrees the page was rotated by to read it upright
    text_layer: bool = False  # read from a PDF text layer instead of OCR
    looked: bool = False  # placed by its title and footer bands alone, not OCR'd whole (parsing.look)
    mean_confidence: float | None = None
    fax_sender_number: str | None = None
    fax_sent_at: datetime | None = None


class ExtractionResult(BaseModel):
    """Everything parsing learned from one input."""

    sha256: str
    pages: list[PageResult] = Field(default_factory=list)
    detainers: list[DetainerRequest] = Field(default_factory=list)
    error: str | None = None  # quarantine reason text (no personal data)
    error_reason: str | None = None  # InputError.reason slug
    # Evidence slugs (parsing.evidence) of a detainer no recognised form page accounts for: a document
    # without a recognised detainer that carries a warrant, notice pages, a form footer or the word.
    possible_detainer_evidence: list[str] = Field(default_factory=list)
