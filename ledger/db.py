"""Engines and migrations: SQLite by default (a private file, WAL), PostgreSQL by URL.

``upgrade(url)`` runs the Alembic migrations shipped in ``ledger/migrations`` to head;
``open_ledger(url)`` upgrades, then returns a ``Ledger``; ``upgrade_script(url)`` writes the same
migrations as SQL for a DBA to read (Alembic's offline mode: no connection). There is no alembic.ini:
the configuration is built here.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

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


def alembic_config(output: io.StringIO | None = None) -> Config:
    config = Config(output_buffer=output)
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


class OfflineDataStep(Exception):
    """A migration step over the rows a database holds, met by an offline script from an existing revision."""

    def __init__(self, revision: str, what: str) -> None:
        super().__init__(f"migration {revision} {what}")
        self.revision, self.what = revision, what


def offline_data_step(revision: str, what: str) -> None:
    """Called by a migration in place of its step over existing rows when it is written as an offline
    script (``upgrade_script``). From an empty database there are no rows: the script says so in a
    comment. From a revision (an existing database) the rows cannot be moved by a script written
    without reading them: ``upgrade_script`` refuses (``OfflineDataStep``)."""
    from alembic import context, op

    if context.get_starting_revision_argument() is not None:
        raise OfflineDataStep(revision, what)
    op.get_context().impl.static_output(f"-- migration {revision} {what}: none in a new database")


def upgrade_script(url: str, start: str | None = None) -> str:
    """The SQL that brings a ``url``-kind database (SQLite or PostgreSQL) from ``start`` (default: empty)
    to the current schema, as Alembic's offline mode writes it for review. Nothing is connected to or
    created: only the URL's database kind is read."""
    try:
        dialect = make_url(url).get_backend_name()
    except ArgumentError:
        raise LedgerError("the ledger URL is not a database URL") from None
    output = io.StringIO()
    config = alembic_config(output)
    config.attributes["offline_dialect"] = dialect
    try:
        command.upgrade(config, f"{start}:head" if start else "head", sql=True)
    except OfflineDataStep as exc:
        raise LedgerError(
            f"no offline script from revision {start}: migration {exc.revision} {exc.what}",
            remedy="Run `detainer-intake db upgrade` against the database: that migration reads its rows. "
            f"A script can start from revision {exc.revision} on.",
        ) from None
    except CommandError as exc:
        raise LedgerError(
            f"no offline script from revision {start!r}: {exc}",
            remedy="--from takes the database's revision as its alembic_version table holds it (0001, 0002, ...).",
        ) from None
    return output.getvalue()


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
