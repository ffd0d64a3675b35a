"""initial ledger schema

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ledger.schema

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("copy_index", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("who", sa.String(length=128), nullable=False),
        sa.Column("at", ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.create_index("ix_corrections_copy", ["document_sha256", "copy_index"], unique=False)

    op.create_table(
        "dispositions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("founding_copy_key", sa.String(length=80), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("reimbursement", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("who", sa.String(length=128), nullable=False),
        sa.Column("at", ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispositions")),
        sa.UniqueConstraint("request_id", name=op.f("uq_dispositions_request_id")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=32), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("parse_status", sa.String(length=16), nullable=False),
        sa.Column("error_reason", sa.String(length=64), nullable=True),
        sa.Column(
            "extraction", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_at", ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("sha256", name=op.f("uq_documents_sha256")),
    )
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_key", sa.String(length=2048), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=256), nullable=True),
        sa.Column("n_documents", sa.Integer(), nullable=True),
        sa.Column("updated_at", ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_messages")),
        sa.UniqueConstraint("message_key", name=op.f("uq_mail_messages_message_key")),
    )
    op.create_table(
        "match_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_a", sa.String(length=80), nullable=False),
        sa.Column("copy_b", sa.String(length=80), nullable=False),
        sa.Column("same", sa.Boolean(), nullable=False),
        sa.Column("who", sa.String(length=128), nullable=False),
        sa.Column("at", ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_decisions")),
        sa.UniqueConstraint("copy_a", "copy_b", name="uq_match_decisions_pair"),
    )
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=128), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("default_decision", sa.String(length=16), nullable=True),
        sa.Column("copy_key", sa.String(length=80), nullable=True),
        sa.Column("other_copy_key", sa.String(length=80), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("received_at", ledger.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", ledger.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
        sa.UniqueConstraint("key", name=op.f("uq_review_items_key")),
    )
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.create_index("ix_review_items_status", ["status"], unique=False)

    op.create_table(
        "run_locks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner_pid", sa.Integer(), nullable=True),
        sa.Column("owner_host", sa.String(length=255), nullable=True),
        sa.Column("acquired_at", ledger.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", ledger.schema.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_at", ledger.schema.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_run_locks")),
    )
    op.create_table(
        "detainer_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("form_type", sa.String(length=16), nullable=False),
        sa.Column(
            "fields", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("file_number", sa.String(length=32), nullable=True),
        sa.Column("event_number", sa.String(length=64), nullable=True),
        sa.Column("issued_date", sa.Date(), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("dob", sa.Date(), nullable=True),
        sa.Column("cancels_previous", sa.Boolean(), nullable=False),
        sa.Column("cancelled_detainer_date", sa.Date(), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("unsure", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_detainer_copies_document_id_documents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detainer_copies")),
        sa.UniqueConstraint("document_id", "index", name="uq_detainer_copies_document_index"),
    )
    with op.batch_alter_table("detainer_copies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detainer_copies_dob"), ["dob"], unique=False)
        batch_op.create_index(batch_op.f("ix_detainer_copies_event_number"), ["event_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_detainer_copies_file_number"), ["file_number"], unique=False)

    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("input_ref", sa.String(length=2048), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("message", sa.String(length=512), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name=op.f("fk_quarantine_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        sa.UniqueConstraint("input_ref", name=op.f("uq_quarantine_input_ref")),
    )
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_key", sa.String(length=2048), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("station", sa.String(length=32), nullable=True),
        sa.Column("received_at", ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("file_name", sa.String(length=512), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=True),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("recorded_at", ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], name=op.f("fk_receipts_document_id_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("source_key", name=op.f("uq_receipts_source_key")),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipts_document_id"), ["document_id"], unique=False)
        batch_op.create_index("ix_receipts_received_at", ["received_at"], unique=False)

    op.create_table(
        "copy_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["copy_id"], ["detainer_copies.id"], name=op.f("fk_copy_tokens_copy_id_detainer_copies"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copy_tokens")),
        sa.UniqueConstraint("copy_id", "token", name="uq_copy_tokens_copy_token"),
    )
    with op.batch_alter_table("copy_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_copy_tokens_copy_id"), ["copy_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_copy_tokens_token"), ["token"], unique=False)

    op.create_table(
        "requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("founding_copy_id", sa.Integer(), nullable=False),
        sa.Column("created_at", ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["founding_copy_id"], ["detainer_copies.id"], name=op.f("fk_requests_founding_copy_id_detainer_copies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requests")),
        sa.UniqueConstraint("founding_copy_id", name=op.f("uq_requests_founding_copy_id")),
    )
    op.create_table(
        "cancellations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["copy_id"],
            ["detainer_copies.id"],
            name=op.f("fk_cancellations_copy_id_detainer_copies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_cancellations_request_id_requests"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cancellations")),
        sa.UniqueConstraint("copy_id", name=op.f("uq_cancellations_copy_id")),
    )
    with op.batch_alter_table("cancellations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cancellations_request_id"), ["request_id"], unique=False)

    op.create_table(
        "request_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["copy_id"],
            ["detainer_copies.id"],
            name=op.f("fk_request_links_copy_id_detainer_copies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_request_links_request_id_requests"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_links")),
        sa.UniqueConstraint("copy_id", name=op.f("uq_request_links_copy_id")),
    )
    with op.batch_alter_table("request_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_links_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("request_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_links_request_id"))

    op.drop_table("request_links")
    with op.batch_alter_table("cancellations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cancellations_request_id"))

    op.drop_table("cancellations")
    op.drop_table("requests")
    with op.batch_alter_table("copy_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_copy_tokens_token"))
        batch_op.drop_index(batch_op.f("ix_copy_tokens_copy_id"))

    op.drop_table("copy_tokens")
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_receipts_received_at")
        batch_op.drop_index(batch_op.f("ix_receipts_document_id"))

    op.drop_table("receipts")
    op.drop_table("quarantine")
    with op.batch_alter_table("detainer_copies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detainer_copies_file_number"))
        batch_op.drop_index(batch_op.f("ix_detainer_copies_event_number"))
        batch_op.drop_index(batch_op.f("ix_detainer_copies_dob"))

    op.drop_table("detainer_copies")
    op.drop_table("run_locks")
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_index("ix_review_items_status")

    op.drop_table("review_items")
    op.drop_table("match_decisions")
    op.drop_table("mail_messages")
    op.drop_table("documents")
    op.drop_table("dispositions")
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.drop_index("ix_corrections_copy")

    op.drop_table("corrections")
