"""flows: Prefect orchestration, and the only package that imports Prefect.

Each task is a thin wrapper over a plain function of ``ingest``, ``parsing`` or
``ledger``; the flows add scheduling, retries, timeouts, Dask scale-out and the
auditor artifacts.
"""

import os

# The department's network is closed: Prefect's usage telemetry would only log errors.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
