"""flows: Prefect orchestration, and the only package that imports Prefect.

Each task is a thin wrapper over a plain function of ``ingest``, ``parsing`` or
``ledger``; the flows add scheduling, retries, timeouts, Dask scale-out and the
auditor artifacts.
"""
