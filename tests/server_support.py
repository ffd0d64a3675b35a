"""Pytest plugin: ONE Prefect server for every `detainer-intake` subprocess of the session (of the
xdist worker), and the extraction cache every worker shares.

Without it each ``detainer-intake run`` would start its own ephemeral server (~20 s). Test
modules take it with ``pytest_plugins = ["tests.server_support"]`` and pass the yielded
environment to ``tests.run_support.run_cli``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import session_folder
from tests.run_support import cli_env


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The base environment of a CLI subprocess: this session's Prefect API, Tesseract on one thread."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield cli_env(str(PREFECT_API_URL.value()), tmp_path_factory.mktemp("prefect-home"))


@pytest.fixture(scope="session")
def ocr_cache_dir() -> Path:
    """One extraction cache (content-addressed, written atomically) for the runs of the session, shared
    by every xdist worker: each document is read once."""
    return session_folder("extractions")
