"""detainer copies: subject ID as an identity column

Revision ID: 0002
Revises: 0001

The subject ID is filled from each copy's extracted fields with the operators' corrections laid
over them; ``ledger.db.open_ledger`` then groups the copies again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from ledger.db import offline_data_step
from ledger.dedupe import normalize_subject_id

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("detainer_copies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_detainer_copies_subject_id"), ["subject_id"], unique=False)
    if context.is_offline_mode():
        offline_data_step(revision, "fills the subject ID of the copies already recorded")
        return
    bind = op.get_bind()
    copies = bind.execute(
        sa.text(
            "SELECT c.id, c.fields, c.\"index\", d.sha256 FROM detainer_copies c"
            " JOIN documents d ON d.id = c.document_id"
        )
    ).all()
    corrected = {
        (sha256, index): new_value
        for sha256, index, new_value in bind.execute(
            sa.text(
                "SELECT document_sha256, copy_index, new_value FROM corrections"
                " WHERE field = 'subject_id' ORDER BY id"
            )
        )
    }  # the latest correction of each copy wins
    for copy_id, fields, index, sha256 in copies:
        values = json.loads(fields) if isinstance(fields, str) else (fields or {})
        value = values.get("subject_id")
        if (sha256, index) in corrected:
            encoded = corrected[(sha256, index)]
            value = json.loads(encoded) if encoded is not None else None
        subject_id = normalize_subject_id(value if isinstance(value, str) else None)
        if subject_id:
            bind.execute(
                sa.text("UPDATE detainer_copies SET subject_id = :subject_id WHERE id = :id"),
                {"subject_id": subject_id, "id": copy_id},
            )


def downgrade() -> None:
    # Not through batch mode: on SQLite it would rebuild a table other tables' foreign keys point at.
    op.drop_index(op.f("ix_detainer_copies_subject_id"), table_name="detainer_copies")
    op.execute("ALTER TABLE detainer_copies DROP COLUMN subject_id")  # SQLite >= 3.35, PostgreSQL
