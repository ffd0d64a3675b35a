"""Concurrent runs never double count: the run lock refuses the second run, unique keys back it up.

On SQLite and on PostgreSQL:
- a run started while the lock is held (by the test, or by a real first run caught in the
  middle of its OCR and frozen with SIGSTOP) exits with the RunLocked message and exit code 7,
  touches nothing, and the ledger afterwards equals one clean run's;
- two ``Ledger`` objects recording the same arrivals / messages at the same moment leave one
  row each; the unique constraints refuse a duplicate written around the ledger's own checks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from core.channels import Channel
from core.config import load_settings
from core.errors import ExitCode, RunLocked
from ingest.models import MailMessage, Receipt
from ledger import schema
from ledger.db import open_ledger
from ledger.store import Ledger
from parsing.models import ExtractionResult
from tests import ledger_support as testing
from tests import run_support as rs
from tests.flow_support import snapshot_of

pytestmark = pytest.mark.slow
pytest_plugins = ["tests.server_support"]  # prefect_server: the session's Prefect server

# A 1-page dedicated-line fax (OCR), one request sent twice by mail (a born-digital PDF).
SUBSET = {"R007", "R029", "R030"}
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass
class Setup:
    env: dict[str, str]
    pristine: Path
    cache: Path
    reference: dict[str, Any]


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory, truth: dict[str, Any], prefect_server: dict[str, str], ocr_cache_dir: Path
) -> Setup:
    root = tmp_path_factory.mktemp("concurrency")
    pristine = rs.build_corpus(root / "pristine", truth, SUBSET)
    corpus = root / "clean" / "corpus"
    corpus.parent.mkdir()
    subprocess.run(["cp", "-a", str(pristine), str(corpus)], check=True)
    config = rs.intake_config(
        root / "clean" / "config.toml", corpus=corpus, data=root / "clean" / "data", cache=ocr_cache_dir
    )
    run_in_process(config)
    return Setup(prefect_server, pristine, ocr_cache_dir, snapshot_of(config))


def run_in_process(config: Path) -> None:
    """The flow `detainer-intake run` runs, in this process (the session's Prefect server is active here)."""
    from flows.daily import daily_intake, task_runner_for

    # As run_daily_intake does, minus its stop_temporary_server() (which would stop this session's server).
    state = daily_intake.with_options(task_runner=task_runner_for(load_settings(config)))(
        str(config), return_state=True
    )
    assert state.is_completed(), state.message


@pytest.fixture(params=BACKENDS)
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with testing.ledger_url(request.param, tmp_path) as url:
        yield url


def fresh(setup: Setup, tmp_path: Path, ledger_url: str, cache: Path | None = None) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    subprocess.run(["cp", "-a", str(setup.pristine), str(corpus)], check=True)
    config = rs.intake_config(
        tmp_path / "config.toml",
        corpus=corpus,
        data=tmp_path / "data",
        cache=cache or setup.cache,
        ledger_url=ledger_url,
    )
    return corpus, config


def assert_refused(run: rs.CliRun) -> None:
    assert run.returncode == ExitCode.run_locked, run.describe()
    assert "run lock 'daily_intake' is held by pid" in run.stderr, run.describe()
    assert "Wait for the other run to finish" in run.stderr, run.describe()


def test_run_while_the_lock_is_held_is_refused_then_catches_up(setup: Setup, tmp_path: Path, ledger_url: str) -> None:
    corpus, config = fresh(setup, tmp_path, ledger_url)
    before = rs.originals(corpus)
    intake = rs.open_intake(config)
    try:
        with intake.ledger.run_lock("daily_intake"):  # the scheduled run, as far as the operator can tell
            refused = rs.run_cli(config, setup.env, tmp_path / "logs-refused")
            assert_refused(refused)
            assert snapshot_of(config)["receipts"] == []
            assert rs.placement(corpus, before) == {r: ["in_place"] for r in before if not r.startswith("mailbox")}
    finally:
        intake.close()
    run_in_process(config)  # the lock is free again: the next run catches up
    assert snapshot_of(config) == setup.reference


def tesseract_running(sid: int) -> bool:
    for pid in rs.session_members(sid):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "tesseract":
                return True
        except OSError:
            continue
    return False


def lock_holder(url: str) -> int | None:
    """The pid recorded on the run lock row (None when free or not created yet)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                select(schema.RunLock.owner_pid).where(schema.RunLock.name == "daily_intake")
            ).first()
        return row[0] if row else None
    except (OperationalError, ProgrammingError):
        return None
    finally:
        engine.dispose()


def test_two_runs_at_once_second_is_refused_and_nothing_counts_twice(
    setup: Setup, tmp_path: Path, ledger_url: str
) -> None:
    """A real first run, frozen (SIGSTOP) while it OCRs under the lock; a second run meanwhile."""
    _, config = fresh(setup, tmp_path, ledger_url, cache=tmp_path / "empty-cache")  # so the first run OCRs
    first_logs = tmp_path / "logs-first"
    first_logs.mkdir()
    with (first_logs / "stdout.txt").open("wb") as out, (first_logs / "stderr.txt").open("wb") as err:
        first = subprocess.Popen(
            [str(rs.CLI), "run", "--config", str(config)],
            env=setup.env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while not tesseract_running(first.pid):  # parsing: between the polls' and the commits' transactions
            assert first.poll() is None, "the first run ended before it was seen parsing"
            assert time.monotonic() < deadline, "the first run was never seen parsing"
            time.sleep(0.02)
        first.send_signal(signal.SIGSTOP)
        assert lock_holder(ledger_url) == first.pid

        second = rs.run_cli(config, setup.env, tmp_path / "logs-second")
        assert_refused(second)
        assert f"pid {first.pid}" in second.stderr
        assert snapshot_of(config)["receipts"] == []  # the first run commits nothing before it parsed
    finally:
        first.send_signal(signal.SIGCONT)
    assert first.wait(timeout=180) == 0, (first_logs / "stderr.txt").read_text()[-3000:]
    assert snapshot_of(config) == setup.reference
    assert lock_holder(ledger_url) is None


# --------------------------------------------------------------------------- the ledger on its own


def receipts(n: int) -> list[tuple[Receipt, ExtractionResult]]:
    out = []
    for i in range(n):
        sha = f"{i:064x}"
        receipt = Receipt(
            channel=Channel.station_fax,
            station="C-6",
            source_key=f"file:station_fax:C-6/f{i}.tif:10:{i}",
            received_at=datetime(2025, 3, 1, 12, i, tzinfo=UTC),
            file_name=f"f{i}.tif",
            sha256=sha,
            size=10,
        )
        out.append((receipt, ExtractionResult(sha256=sha)))
    return out


def race(ledgers: list[Ledger], work: Any, rounds: int) -> list[list[Any]]:
    """Each ledger runs ``work(ledger, i)`` for i in range(rounds), all released together at every round."""
    barrier = threading.Barrier(len(ledgers))
    results: list[list[Any]] = [[] for _ in ledgers]
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for i in range(rounds):
                barrier.wait(timeout=60)
                results[k].append(work(ledgers[k], i))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(ledgers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_two_ledgers_recording_the_same_arrivals_at_once_keep_one_row(ledger_url: str) -> None:
    items = receipts(12)
    ledgers = [open_ledger(ledger_url), open_ledger(ledger_url)]
    try:
        outcomes = race(ledgers, lambda ledger, i: ledger.record(*items[i]).status, len(items))
        for i in range(len(items)):
            assert sorted(o[i] for o in outcomes) == ["already_known", "recorded"]
        message = MailMessage(message_key="maildir:mailbox/1.M1P1.host", received_at=datetime(2025, 3, 1, tzinfo=UTC))
        race(ledgers, lambda ledger, i: ledger.record_message(message), 3)
        with ledgers[0].engine.connect() as connection:
            keys = connection.execute(select(schema.Receipt.source_key)).scalars().all()
            docs = connection.execute(select(schema.Document.sha256)).scalars().all()
            mail = connection.execute(select(schema.MailMessage.message_key)).scalars().all()
        assert sorted(keys) == sorted(r.source_key for r, _ in items)
        assert len(docs) == len(set(docs)) == len(items)
        assert mail == [message.message_key]
    finally:
        for ledger in ledgers:
            ledger.close()


@pytest.mark.parametrize(
    ("table", "values"),
    [
        (
            schema.Receipt,
            {
                "source_key": "file:station_fax:x:1:1",
                "channel": "station_fax",
                "received_at": datetime(2025, 1, 1, tzinfo=UTC),
                "file_name": "x",
                "size": 1,
            },
        ),
        (schema.MailMessage, {"message_key": "maildir:mailbox/1", "status": "handled", "attempts": 0}),
        (schema.Quarantine, {"input_ref": "sha256:" + "0" * 64, "reason": "empty", "message": "empty"}),
    ],
    ids=["receipt source key", "mail message key", "quarantine input"],
)
def test_unique_constraints_refuse_a_duplicate_written_around_the_ledger(
    ledger_url: str, table: Any, values: dict[str, Any]
) -> None:
    ledger = open_ledger(ledger_url)
    try:
        with ledger.engine.begin() as connection:
            if table is schema.Receipt:
                values = {
                    **values,
                    "document_id": connection.execute(
                        insert(schema.Document)
                        .values(sha256="f" * 64, size=1, parse_status="pending")
                        .returning(schema.Document.id)
                    ).scalar_one(),
                }
            connection.execute(insert(table).values(**values))
        with pytest.raises(IntegrityError), ledger.engine.begin() as connection:
            connection.execute(insert(table).values(**values))
        with ledger.engine.connect() as connection:
            assert len(connection.execute(select(table.id)).all()) == 1
    finally:
        ledger.close()


def test_run_lock_is_released_when_its_holder_is_killed(ledger_url: str, tmp_path: Path) -> None:
    """SIGKILL leaves no stale lock: the kernel (flock) or the server (advisory lock) frees it."""
    script = (
        "import sys, time\n"
        "from ledger.db import open_ledger\n"
        "ledger = open_ledger(sys.argv[1])\n"
        "with ledger.run_lock('daily_intake'):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(600)\n"
    )
    holder = subprocess.Popen(
        [str(Path(rs.CLI).with_name("python")), "-c", script, ledger_url],
        stdout=subprocess.PIPE,
        cwd=str(Path(__file__).resolve().parent.parent),
        start_new_session=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        ledger = open_ledger(ledger_url)
        try:
            with pytest.raises(RunLocked) as refused, ledger.run_lock("daily_intake"):
                pass
            assert f"pid {holder.pid}" in refused.value.message
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait(timeout=30)
            with ledger.run_lock("daily_intake", wait_seconds=10):
                pass
        finally:
            ledger.close()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
