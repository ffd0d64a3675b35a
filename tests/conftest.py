"""Fixtures shared by the whole suite: the sample corpus, its truth, and configurations."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # single-threaded Tesseract: ~8x faster on 2 cores

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ROOT = PROJECT_ROOT / "sample_faxes"
TRUTH_PATH = SAMPLE_ROOT / "truth.json"


# --------------------------------------------------------------------------- the session: OCR once, lanes, workers

# A folder for the whole test session, made by the process that starts it (the xdist controller,
# before its workers start, or a run without xdist) and inherited by every worker.
SESSION_ENV = "INTAKE_TEST_SESSION_DIR"
OCR_CACHE_ENV = "DETAINER_INTAKE_OCR_CACHE"  # parsing.ocr_cache.CACHE_ENV
_made_here: Path | None = None

# Tests of Tesseract itself (timeouts, what it reads), run without the OCR cache.
REAL_TESSERACT = {
    "tests/test_bad_inputs.py::test_parsing_quarantines_each_big_input",  # an OCR timeout
    "tests/test_parsing_formread.py::test_tesseract_keeps_to_the_alphabet_it_is_given",
    "tests/test_concurrency.py::test_two_runs_at_once_second_is_refused_and_nothing_counts_twice",  # sees it run
}
# Lanes a test joins by the fixtures it takes (besides the markers written on tests).
LANE_FIXTURES = {
    "dovecot": "imap", "dovecot_imaps": "imap", "dovecot_starttls": "imap", "dovecot_oauth2": "imap",
    "prefect_server": "slow", "prefect_harness": "slow",
}
# Under xdist (--dist loadfile: a module's tests share one worker and its module and session
# fixtures), the longest modules start first so that the short ones fill the end; the corpus
# run of test_flows fills the OCR cache early for the later readers of the corpus.
LONGEST_FIRST = (
    "tests/test_flows.py",
    "tests/test_scale_out_prefect.py",  # mostly waiting (heartbeats): overlaps the others' OCR
    "tests/test_crash_safety.py",
    "tests/test_alerts.py",  # mostly waiting (an automation's window)
    "tests/test_reports_browser.py",
    "tests/test_wild_inputs.py",
    "tests/test_concurrency.py",
    "tests/test_bad_inputs.py",
    "tests/test_deployment.py",
    "tests/test_permissions.py",
    "tests/test_parsing_extract.py",
    "tests/test_heldout.py",
    "tests/test_ingest_mailbox.py",
    "tests/test_possible_detainer.py",
)


def session_folder(name: str) -> Path:
    """A folder every worker of this test session shares (``name`` under the session's folder)."""
    folder = Path(os.environ[SESSION_ENV]) / name
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def pytest_configure(config: pytest.Config) -> None:
    """Every page is OCR'd once a session: one OCR cache (parsing.ocr_cache) for all workers and
    CLI runs. ``DETAINER_INTAKE_OCR_CACHE=`` (empty) runs real Tesseract everywhere."""
    global _made_here
    if not os.environ.get(SESSION_ENV):
        _made_here = Path(tempfile.mkdtemp(prefix="detainer-intake-tests-"))
        os.environ[SESSION_ENV] = str(_made_here)
    os.environ.setdefault(OCR_CACHE_ENV, str(session_folder("ocr")))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _made_here is not None:
        shutil.rmtree(_made_here, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Lanes marked here rather than on each test, and the order xdist hands modules out in.

    - ``real_tesseract``: the tests in REAL_TESSERACT;
    - ``imap`` / ``slow``: the tests taking a fixture of LANE_FIXTURES;
    - in an xdist worker, the modules of LONGEST_FIRST first (``--no-loadscope-reorder``).
    """
    for item in items:
        if item.nodeid.split("[", 1)[0] in REAL_TESSERACT:
            item.add_marker(pytest.mark.real_tesseract)
        fixtures = set(getattr(item, "fixturenames", ()))
        for lane in sorted({LANE_FIXTURES[name] for name in fixtures & LANE_FIXTURES.keys()}):
            item.add_marker(lane)
    if hasattr(config, "workerinput"):
        rank = {module: n for n, module in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable


@pytest.fixture(autouse=True)
def _tesseract_itself(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A ``real_tesseract`` test gets this process's OCR engine without the cache, for its duration."""
    if request.node.get_closest_marker("real_tesseract") is not None:
        from parsing import ocr_engine

        monkeypatch.delenv(OCR_CACHE_ENV, raising=False)
        monkeypatch.setattr(ocr_engine, "_engine", None)  # asked again: plain Tesseract
    yield


@pytest.fixture(scope="session")
def truth() -> dict[str, Any]:
    assert TRUTH_PATH.is_file(), "sample_faxes/truth.json is missing: run `python -m samplegen generate`"
    return json.loads(TRUTH_PATH.read_text(encoding="utf-8"))


def write_config(
    path: Path,
    *,
    data_dir: Path,
    sample_root: Path = SAMPLE_ROOT,
    ledger_url: str | None = None,
    extraction_cache: Path | None = None,
    mail_action: str = "none",
    move_processed: bool = False,
    workers: int | None = None,
    extra: str = "",
) -> Path:
    """A configuration file over a corpus laid out like sample_faxes/, with its own data folder.

    ``extraction_cache`` lets several runs in one test session share OCR results; ``extra``
    is appended last (after ``[parsing]`` when ``workers`` is given).
    """
    url = ledger_url or f"sqlite:///{data_dir / 'ledger.db'}"
    cache_line = f'extraction_cache = "{extraction_cache}"' if extraction_cache else ""
    moved = "true" if move_processed else "false"
    parsing = f"[parsing]\nworkers = {workers}" if workers is not None else ""
    path.write_text(
        f"""
[ledger]
url = "{url}"
[archive]
path = "{data_dir / "archive"}"
{cache_line}
[channels.dedicated_fax]
path = "{sample_root / "dedicated"}"
quiet_seconds = 0
move_processed = {moved}
[channels.station_fax]
path = "{sample_root / "stations"}"
quiet_seconds = 0
move_processed = {moved}
[channels.bfs_email]
enabled = true
maildir = "{sample_root / "mailbox"}"
action = "{mail_action}"
move_to = "Processed"
{parsing}
{extra}
""",
        encoding="utf-8",
    )
    return path


def copy_corpus(destination: Path, truth: dict[str, Any], receipt_ids: set[str] | None = None) -> Path:
    """Copy (part of) the sample corpus with its receive-time mtimes, so a test may move or kill freely."""
    wanted = truth["receipts"] if receipt_ids is None else [r for r in truth["receipts"] if r["id"] in receipt_ids]
    paths = {r["path"] for r in wanted}
    for relative in sorted(paths):
        source = SAMPLE_ROOT / relative
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        for sidecar in source.parent.glob(source.name + ".*"):
            shutil.copy2(sidecar, target.parent / sidecar.name)
    for folder in ("dedicated", "stations", "mailbox/cur", "mailbox/new", "mailbox/tmp"):
        (destination / folder).mkdir(parents=True, exist_ok=True)
    return destination


# --------------------------------------------------------------------------- throw-away ledgers

if TYPE_CHECKING:
    from ledger.store import Ledger


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A throw-away ledger URL: SQLite, and PostgreSQL in a schema of its own (marked ``postgres``)."""
    from tests import ledger_support

    with ledger_support.ledger_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    """A migrated ledger at ``ledger_url``, closed afterwards."""
    from ledger.db import open_ledger

    opened = open_ledger(ledger_url)
    try:
        yield opened
    finally:
        opened.close()
