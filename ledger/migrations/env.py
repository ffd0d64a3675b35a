"""Alembic environment for the ledger, run programmatically by ``ledger.db.upgrade``.

No alembic.ini: ``ledger.db.alembic_config`` builds the configuration and passes an open
connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from ledger.schema import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only programmatic use is supported
    raise RuntimeError("run ledger migrations through ledger.db.upgrade(url)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
