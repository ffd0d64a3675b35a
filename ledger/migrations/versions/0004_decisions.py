"""decisions: every operator act as an append-only row; corrections append-only with their actor

Creates ``decisions`` (rulings on two copies, review resolutions, dispositions) and moves the
acts recorded before it over: each ``match_decisions`` row, each disposition, each review item a
person resolved, as one decision with its who and when (``os_user`` and ``host`` unknown: None).
``corrections`` gains ``os_user``, ``host`` and ``why``. On both tables the database refuses
UPDATE and DELETE (and TRUNCATE on PostgreSQL) with a trigger.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import context, op

import ledger.schema
from ledger.db import offline_data_step

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("decisions", "corrections")
PG_FUNCTION = "detainer_intake_append_only"
AUTO_RESOLUTIONS = ("superseded", "reprocessed")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _create_triggers() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_append_only_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
                )
    elif bind.dialect.name == "postgresql":
        op.execute(
            f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
            "USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
            )


def _drop_triggers() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{action}")
    elif bind.dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")


def _move_existing_acts(decisions: sa.Table) -> None:
    bind = op.get_bind()
    when = ledger.schema.UTCDateTime(timezone=True)
    matches = sa.table(
        "match_decisions",
        sa.column("id", sa.Integer()),
        sa.column("copy_a", sa.String()),
        sa.column("copy_b", sa.String()),
        sa.column("same", sa.Boolean()),
        sa.column("who", sa.String()),
        sa.column("at", when),
    )
    dispositions = sa.table(
        "dispositions",
        sa.column("id", sa.Integer()),
        sa.column("request_id", sa.String()),
        sa.column("founding_copy_key", sa.String()),
        sa.column("outcome", sa.String()),
        sa.column("reimbursement", sa.Numeric(12, 2)),
        sa.column("note", sa.Text()),
        sa.column("who", sa.String()),
        sa.column("at", when),
    )
    reviews = sa.table(
        "review_items",
        sa.column("id", sa.Integer()),
        sa.column("key", sa.String()),
        sa.column("copy_key", sa.String()),
        sa.column("other_copy_key", sa.String()),
        sa.column("document_sha256", sa.String()),
        sa.column("resolution", sa.String()),
        sa.column("resolved_by", sa.String()),
        sa.column("resolved_at", when),
        sa.column("created_at", when),
    )
    rows: list[dict[str, Any]] = []
    for m in bind.execute(sa.select(matches).order_by(matches.c.id)).mappings():
        rows.append(
            {
                "kind": "match",
                "subject": f"{m['copy_a']}|{m['copy_b']}",
                "copy_key": m["copy_a"],
                "other_copy_key": m["copy_b"],
                "field": "same",
                "new_value": _json(bool(m["same"])),
                "who": m["who"],
                "at": m["at"],
            }
        )
    for r in bind.execute(
        sa.select(reviews).where(reviews.c.resolved_by.is_not(None)).order_by(reviews.c.id)
    ).mappings():
        if r["resolution"] in AUTO_RESOLUTIONS:
            continue
        rows.append(
            {
                "kind": "review",
                "subject": r["key"],
                "copy_key": r["copy_key"],
                "other_copy_key": r["other_copy_key"],
                "document_sha256": r["document_sha256"],
                "field": "resolution",
                "new_value": _json(r["resolution"]),
                "who": r["resolved_by"],
                "at": r["resolved_at"] or r["created_at"],
            }
        )
    for d in bind.execute(sa.select(dispositions).order_by(dispositions.c.id)).mappings():
        amount = d["reimbursement"]
        rows.append(
            {
                "kind": "disposition",
                "subject": d["request_id"],
                "request_id": d["request_id"],
                "copy_key": d["founding_copy_key"],
                "field": "disposition",
                "new_value": _json(
                    {
                        "outcome": d["outcome"],
                        "reimbursement": str(Decimal(amount)) if amount is not None else None,
                        "note": d["note"],
                    }
                ),
                "who": d["who"],
                "why": d["note"],
                "at": d["at"],
            }
        )
    columns = ("copy_key", "other_copy_key", "document_sha256", "request_id", "old_value", "why")
    rows = [{**dict.fromkeys(columns), **row} for row in sorted(rows, key=lambda row: row["at"])]
    if rows:
        op.bulk_insert(decisions, rows)


def upgrade() -> None:
    decisions = op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("copy_key", sa.String(length=80), nullable=True),
        sa.Column("other_copy_key", sa.String(length=80), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("who", sa.String(length=128), nullable=False),
        sa.Column("os_user", sa.String(length=128), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("at", ledger.schema.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index("ix_decisions_subject", "decisions", ["subject"], unique=False)
    op.create_index("ix_decisions_request_id", "decisions", ["request_id"], unique=False)
    op.create_index("ix_decisions_copy_key", "decisions", ["copy_key"], unique=False)
    op.create_index("ix_decisions_at", "decisions", ["at"], unique=False)
    op.add_column("corrections", sa.Column("os_user", sa.String(length=128), nullable=True))
    op.add_column("corrections", sa.Column("host", sa.String(length=255), nullable=True))
    op.add_column("corrections", sa.Column("why", sa.Text(), nullable=True))
    if context.is_offline_mode():
        offline_data_step(revision, "moves the rulings, dispositions and resolutions already recorded")
    else:
        _move_existing_acts(decisions)
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    with op.batch_alter_table("corrections") as batch:
        batch.drop_column("why")
        batch.drop_column("host")
        batch.drop_column("os_user")
    op.drop_index("ix_decisions_at", table_name="decisions")
    op.drop_index("ix_decisions_copy_key", table_name="decisions")
    op.drop_index("ix_decisions_request_id", table_name="decisions")
    op.drop_index("ix_decisions_subject", table_name="decisions")
    op.drop_table("decisions")
