"""ledger: the system of record.

Owns the SQLAlchemy schema and Alembic migrations (SQLite by default, PostgreSQL
by URL), atomic per-document commits, cross-channel dedupe of copies into unique
requests, operator corrections and dispositions, and the channel-usage metrics
auditors read. Only this package touches its tables (an import-linter contract).

Entry point: ``ledger.db.open_ledger(url) -> ledger.store.Ledger``, a facade whose calls each
run one unit of work (``unit_of_work``) over one part: ``recording``, ``mail_state``,
``regrouping`` (with ``components``), ``review_queue``, ``corrections``, ``rulings``,
``dispositions``. Reads: ``read_model`` (metrics, requests, reports; over ``snapshot``,
``metrics`` and ``uncertainty``) and ``review_reads`` (the review queue). Shared pieces:
``views`` (value types, the order of arrivals), ``copy_rows`` (copies' columns and keys),
``dedupe`` (the matching rules, pure functions), ``lock`` (the run lock).
"""
