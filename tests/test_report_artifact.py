"""The annual report is readable in the Prefect UI: a markdown artifact with the year's figures and each
channel's coverage, not only a file:// link to a file on the machine that ran it."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from tests.conftest import write_config

pytest_plugins = ["tests.server_support"]  # prefect_server: the session's Prefect server


async def _artifacts(key: str) -> list[tuple[str | None, str]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async with get_client() as client:
        found = await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    return [(artifact.type, str(artifact.data)) for artifact in found]


def test_the_report_flow_publishes_figures_and_coverage_as_markdown(
    tmp_path: Path, prefect_server: dict[str, str]
) -> None:
    from flows.daily import daily_intake
    from flows.report import annual_report

    corpus = tmp_path / "corpus"
    for folder in ("dedicated", "mailbox/cur", "mailbox/new", "mailbox/tmp"):  # no station folder: a gap
        (corpus / folder).mkdir(parents=True)
    config = write_config(tmp_path / "config.toml", data_dir=tmp_path / "data", sample_root=corpus)
    daily_intake(str(config), return_state=True)  # records each channel's poll (station_fax failed)
    year = datetime.now().year
    annual_report(year, str(tmp_path / "report"), str(config))

    markdown = [data for kind, data in asyncio.run(_artifacts(f"annual-report-{year}")) if kind == "markdown"]
    assert markdown, "no markdown artifact of the report"
    text = markdown[0]
    assert "| Requests received | 0 |" in text
    assert "## Channel coverage" in text
    assert "| station_fax |" in text and "| dedicated_fax |" in text
    assert "Reproduce: `detainer-intake report --year" in text
