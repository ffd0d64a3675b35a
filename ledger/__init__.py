"""ledger: the system of record.

Owns the SQLAlchemy schema and Alembic migrations (SQLite by default, PostgreSQL
by URL), atomic per-document commits, cross-channel dedupe of copies into unique
requests, operator corrections and dispositions, and the channel-usage metrics
auditors read.

Entry point: ``ledger.db.open_ledger(url) -> ledger.store.Ledger``.
"""
