"""Engines and migrations: SQLite by default (a private file, WAL), PostgreSQL by URL.

``upgrade(url)`` runs the Alembic migrations shipped in ``ledger/migrations`` to head;
``open_ledger(url)`` upgrades, then returns a ``Ledger``. There is no alembic.ini: the
configuration is built here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from core.errors import LedgerError
from core.files import private_dir

if TYPE_CHECKING:
    from ledger.dedupe import DedupeConfig
    from ledger.store import Ledger

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_MIGRATE_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema()), hashtext('detainer-intake:migrate'))"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _prepare_sqlite_file(url: str) -> None:
    """Create the database's folder (0700) and file (0600) before SQLite does, with umask's defaults."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser()
    private_dir(path.parent)  # every new level 0700, not only the last
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the ledger. Parameters are never echoed into error messages (personal data)."""
    try:
        if is_sqlite(url):
            _prepare_sqlite_file(url)
            engine = create_engine(
                url, hide_parameters=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
            )
            _configure_sqlite(engine)
        else:
            engine = create_engine(url, hide_parameters=True, pool_pre_ping=True, **kwargs)
    except (SQLAlchemyError, ValueError, OSError) as exc:
        raise LedgerError(f"cannot open the ledger database ({type(exc).__name__})") from exc
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite: we emit BEGIN IMMEDIATE ourselves (below),
        # so a read-then-write transaction never dead-ends on a lock upgrade.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_engine(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Two processes upgrading at once: the second waits, then finds nothing to do.
                connection.exec_driver_sql(PG_MIGRATE_LOCK)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise LedgerError(f"cannot migrate the ledger database ({type(exc).__name__})") from exc


def upgrade(url: str, revision: str = "head") -> None:
    """Run the ledger's migrations against ``url`` up to ``revision``."""
    engine = make_engine(url)
    try:
        upgrade_engine(engine, revision)
    finally:
        engine.dispose()


def open_ledger(url: str, dedupe: DedupeConfig | None = None, *, migrate: bool = True) -> Ledger:
    """Open (and by default upgrade to head) the ledger at ``url``."""
    from ledger.store import Ledger

    engine = make_engine(url)
    if migrate:
        before = current_revision(engine)
        upgrade_engine(engine)
        if before is not None and before != current_revision(engine):
            # A migration may give copies new identity columns (0002: subject IDs): group again.
            Ledger(engine, dedupe).regroup()
    elif current_revision(engine) != head_revision():
        engine.dispose()
        raise LedgerError(
            "the ledger database is not at the current schema version: run `detainer-intake db upgrade` (or a run)"
        )
    return Ledger(engine, dedupe)
