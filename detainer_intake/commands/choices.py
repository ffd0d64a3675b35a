"""The fixed sets of values CLI options take, as enums: typer refuses any other value with a usage
error (exit 2) that lists the choices, before a configuration is read or a ledger opened.

``core.channels.Channel`` is the channel names' enum (shared with the configuration and every stage).
"""

from __future__ import annotations

from enum import StrEnum


class DispositionStatus(StrEnum):
    """``disposition --status``: what the department did with a request (the CLI's spelling)."""

    not_acted_upon = "not-acted-upon"
    detained = "detained"
    transferred = "transferred"

    @property
    def outcome(self) -> str:
        """The outcome as the ledger stores it (``application.definitions.OUTCOME_LABELS``' keys)."""
        return self.value.replace("-", "_")


class CorrectableField(StrEnum):
    """``review correct FIELD``: the fields of a detainer copy an operator may correct (every field of
    ``parsing.models.DetainerRequest`` but its OCR evidence, as ``ledger.corrections.correct`` accepts)."""

    form_type = "form_type"
    form_revision = "form_revision"
    subject_id = "subject_id"
    event_number = "event_number"
    file_number = "file_number"
    issued_date = "issued_date"
    to_institution = "to_institution"
    from_office = "from_office"
    subject_name = "subject_name"
    date_of_birth = "date_of_birth"
    citizenship = "citizenship"
    sex = "sex"
    probable_cause = "probable_cause"
    transferred_for_proceeding = "transferred_for_proceeding"
    requested_actions = "requested_actions"
    cancels_previous = "cancels_previous"
    cancelled_detainer_date = "cancelled_detainer_date"
    officer_name = "officer_name"
    officer_title = "officer_title"
    warrant_form = "warrant_form"
    fax_sender_number = "fax_sender_number"
    fax_sent_at = "fax_sent_at"
    source_pages = "source_pages"
    needs_review = "needs_review"
    review_reasons = "review_reasons"
