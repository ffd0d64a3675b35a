"""The Prefect run (``detainer-intake run``: ``flows.tasks.PrefectSteps``) records every channel's poll as
the in-process run does: a channel whose folder is missing fails with its reason (after the poll task's
retries) while the run goes on, a disabled channel is named, and the run-summary artifact says so."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.config import load_settings
from flows.steps import Intake
from tests.run_support import run_cli

pytest_plugins = ["tests.server_support"]  # prefect_server: the session's Prefect server

CONFIG = """
[department]
timezone = "America/New_York"
[ledger]
url = "sqlite:///{data}/ledger.db"
[archive]
path = "{data}/archive"
[channels.dedicated_fax]
path = "{corpus}/dedicated"
quiet_seconds = 0
[channels.station_fax]
path = "{corpus}/stations-not-mounted"
quiet_seconds = 0
[channels.bfs_email]
maildir = "{corpus}/mailbox"
enabled = false
"""


async def _run_summaries() -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["intake-run-summary"]))
        )
    return [str(artifact.data) for artifact in found]


def test_the_prefect_run_records_a_failed_and_a_disabled_channel(
    tmp_path: Path, prefect_server: dict[str, str]
) -> None:
    (tmp_path / "corpus" / "dedicated").mkdir(parents=True)
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(data=tmp_path / "data", corpus=tmp_path / "corpus"), encoding="utf-8")
    before = set(asyncio.run(_run_summaries()))

    run = run_cli(config, prefect_server, tmp_path / "logs", timeout=240)
    assert run.returncode == 1, run.describe()  # the run ends Failed, naming the channel
    assert "station_fax" in run.stderr + run.stdout

    intake = Intake.open(load_settings(config))
    try:
        polls = [(p.channel, p.outcome, p.reason) for p in intake.ledger.poll_records()]
    finally:
        intake.close()
    assert polls == [
        ("dedicated_fax", "read", None),
        ("station_fax", "failed", "folder is not configured or does not exist"),
        ("bfs_email", "disabled", "enabled = false"),
    ]
    summaries = [text for text in asyncio.run(_run_summaries()) if text not in before]
    assert len(summaries) == 1, "no new run-summary artifact"
    assert "| station_fax | failed: folder is not configured or does not exist | enabled |" in summaries[0]
    assert "| bfs_email | disabled: enabled = false | disabled (enabled = false) |" in summaries[0]
