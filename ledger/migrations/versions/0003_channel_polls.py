"""channel polls: every poll of every channel, for the days each channel was read

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.schema

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("polled_at", ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_polls")),
    )
    op.create_index("ix_channel_polls_channel_polled_at", "channel_polls", ["channel", "polled_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_channel_polls_channel_polled_at", table_name="channel_polls")
    op.drop_table("channel_polls")
