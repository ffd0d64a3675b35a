"""flows: Prefect orchestration, and the only package that imports Prefect.

The run's steps are plain functions (``flows.steps``) in one order (``flows.sequence``),
run in-process or as Prefect tasks (``flows.tasks``); the flows (``flows.daily``) add
scheduling, retries, Dask scale-out, the run lock and the auditor artifacts.
"""

import os

# The department's network is closed: Prefect's usage telemetry would only log errors.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The in-process run starts a temporary Prefect server; on a busy machine (a backfill's OCR on
# every core) it can take longer than Prefect's 20 s default to answer, and the run would fail.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
