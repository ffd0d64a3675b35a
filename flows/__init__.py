"""flows: Prefect orchestration, and the only package that imports Prefect.

Each task is a thin wrapper over a plain function of ``ingest``, ``parsing`` or
``ledger``; the flows add scheduling, retries, timeouts, Dask scale-out and the
auditor artifacts.
"""

import os

# The department's network is closed: Prefect's usage telemetry would only log errors.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The in-process run starts a temporary Prefect server; on a busy machine (a backfill's OCR on
# every core) it can take longer than Prefect's 20 s default to answer, and the run would fail.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
