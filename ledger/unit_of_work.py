"""The one unit of work every part of the ledger runs in: a write transaction or a read session.

A public write runs in ONE database transaction (``UnitOfWork.write``): on SQLite ``BEGIN
IMMEDIATE`` (one writer at a time, others wait up to the busy timeout, ``ledger.db``), on
PostgreSQL a transaction-scoped advisory lock serialises writers. A crash or exception anywhere
inside leaves nothing behind. The parts (``recording``, ``mail_state``, ``regrouping``,
``review_queue``, ``corrections``, ``rulings``, ``dispositions``) are functions over the session
it yields, so one call can chain them (a mail message records its documents, regroups their
copies and queues their reviews) and still commit all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import LedgerError
from ledger.dedupe import DedupeConfig

PG_WRITE_LOCK = "SELECT pg_advisory_xact_lock(hashtext(current_schema()), hashtext('detainer-intake:write'))"
IN_CHUNK = 500  # values per SQL ``IN (...)``: well below every driver's parameter limit


def chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), IN_CHUNK):
        yield values[i : i + IN_CHUNK]


class UnitOfWork:
    """Sessions on one ledger database with its dedupe settings. Thread-safe: each call its own session."""

    def __init__(self, engine: Engine, config: DedupeConfig) -> None:
        self.engine = engine
        self.config = config
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: all or nothing; writers serialised."""
        try:
            with self._sessions.begin() as session:
                if self.engine.dialect.name == "postgresql":
                    # Writers are serialised per ledger (schema): request assignment reads then writes.
                    session.execute(text(PG_WRITE_LOCK))
                yield session
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger write failed ({type(exc).__name__})") from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        """One read session; database errors become LedgerError (no parameters shown)."""
        try:
            with self._sessions() as session:
                yield session
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger read failed ({type(exc).__name__})") from exc
