"""Alembic environment for the ledger, run programmatically by ``ledger.db.upgrade``.

No alembic.ini: ``ledger.db.alembic_config`` builds the configuration and passes an open
connection in ``config.attributes["connection"]``, or, for an offline script
(``ledger.db.upgrade_script``), the database kind in ``config.attributes["offline_dialect"]``.
"""

from __future__ import annotations

from alembic import context

from ledger.schema import Base

config = context.config
if context.is_offline_mode():
    dialect = config.attributes.get("offline_dialect")
    if dialect is None:  # pragma: no cover - only programmatic use is supported
        raise RuntimeError("write offline ledger migrations through ledger.db.upgrade_script(url)")
    context.configure(
        dialect_name=dialect,
        target_metadata=Base.metadata,
        render_as_batch=dialect == "sqlite",
        literal_binds=True,
    )
else:
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
