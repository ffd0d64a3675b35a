"""Scale-out as the README documents it: parsing in daemonic (Dask) workers, bounded runners, a real cluster."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.config import ParsingSettings
from tests.conftest import PROJECT_ROOT, SAMPLE_ROOT, copy_corpus, write_config

VENV_BIN = Path(sys.executable).parent


def _read_in_daemon(path: str, results: Any) -> None:
    from parsing.extract import extract_document

    try:
        result = extract_document(Path(path).read_bytes(), file_name="fax.tif", settings=ParsingSettings(workers=2))
        results.put(("ok", len(result.pages), result.error_reason))
    except BaseException as exc:  # what the parent asserts on
        results.put(("raised", type(exc).__name__, str(exc)))


def test_a_daemonic_process_reads_in_process(truth: dict[str, Any]) -> None:
    """A Dask worker is a daemonic process: with a pool configured it still reads (no pool of its own)."""
    receipt = next(r for r in truth["receipts"] if r["channel"] == "dedicated_fax" and len(r.get("pages", [])) == 1)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    worker = context.Process(target=_read_in_daemon, args=(str(SAMPLE_ROOT / receipt["path"]), results), daemon=True)
    worker.start()
    try:
        outcome = results.get(timeout=120)
    finally:
        worker.join(30)
    assert outcome == ("ok", 1, None), outcome


def _hold_a_slot(folder: str, running: Any, peak: Any, threads: int) -> None:
    from parsing.extract import host_slot

    def read() -> None:
        with host_slot(2, Path(folder)):
            with running.get_lock():
                running.value += 1
                peak.value = max(peak.value, running.value)
            time.sleep(0.2)
            with running.get_lock():
                running.value -= 1

    readers = [threading.Thread(target=read) for _ in range(threads)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()


def test_pages_read_at_once_on_a_machine_are_bounded_whatever_the_runner_starts(tmp_path: Path) -> None:
    """Three worker processes of two threads each (a Dask worker's default on two cores, and more)
    read no more pages at once than the machine's slots: one per core."""
    # spawn, not fork: the suite's worker process runs threads (Prefect's), whose locks a fork can copy held
    context = multiprocessing.get_context("spawn")
    running, peak = context.Value("i", 0), context.Value("i", 0)
    workers = [
        context.Process(target=_hold_a_slot, args=(str(tmp_path), running, peak, 2), daemon=True) for _ in range(3)
    ]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert 1 <= peak.value <= 2, f"{peak.value} pages read at once on 2 slots"
    assert time.monotonic() - started >= 0.6  # 6 readings of 0.2 s, at most two at a time


def test_a_failed_parse_counts_by_its_cause_without_hashes_or_personal_data() -> None:
    """The run's message groups failed parses by cause: Prefect's preamble and content hashes go,
    personal values are redacted, so one cause over many documents reads once."""
    from flows.tasks import failure_cause

    sha = "ab" * 32
    message = f"Task run encountered an exception StepFailed: KeyError: {sha[:12]} A012345678"
    cause = failure_cause(message)
    assert cause == "StepFailed: KeyError: <hash> [redacted]", cause
    assert failure_cause(f"Task run encountered an exception StepFailed: KeyError: {'cd' * 32}") == failure_cause(
        f"Task run encountered an exception StepFailed: KeyError: {sha}"
    )
    assert failure_cause(None) == "failed (no message)"


def test_a_task_the_runner_could_not_run_counts_by_the_runners_error() -> None:
    """A parse the task runner failed before it ran (no task run, no state message: a Dask scheduler
    that cannot unpickle the task) counts by the runner's error, not 'failed (no message)'."""
    from flows.tasks import failure_cause, runner_error

    class Wrapped:
        def __init__(self, error: BaseException | None) -> None:
            self.error = error

        def exception(self, timeout: float) -> BaseException | None:
            return self.error

    class Future:
        def __init__(self, error: BaseException | None) -> None:
            self.wrapped_future = Wrapped(error)

    unpickled = RuntimeError("Error during deserialization of the task graph. This frequently\noccurs if ...")
    cause = failure_cause(runner_error(Future(unpickled)))  # type: ignore[arg-type]
    assert cause == "RuntimeError: Error during deserialization of the task graph. This frequently", cause
    assert runner_error(Future(None)) is None  # type: ignore[arg-type]
    assert runner_error(object()) is None  # type: ignore[arg-type]


# --------------------------------------------------------------------------- helpers die with their parent

_READ_FOR_EVER = """
import sys
from parsing import limits
if sys.argv[2] == "prctl":  # neither setpriv nor prlimit installed: both set in the child before exec
    limits._SETPRIV = limits._PRLIMIT = None
limits.run_bounded([sys.argv[3], sys.argv[1], "stdout"], timeout=600, memory_mb=512)
"""


def _children(pid: int, name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a parent-death signal is Linux's")
@pytest.mark.parametrize("how", ["setpriv", "prctl"])
def test_a_killed_reader_leaves_no_tesseract_behind(tmp_path: Path, how: str) -> None:
    """A flow or Dask worker process killed while Tesseract reads a page (here: a page that never
    comes, a FIFO) takes its Tesseract with it, instead of leaving it to read on for minutes."""
    fifo = tmp_path / "page.png"
    os.mkfifo(fifo)
    tesseract = shutil.which("tesseract")
    assert tesseract is not None
    reader = subprocess.Popen(
        [sys.executable, "-c", _READ_FOR_EVER, str(fifo), how, tesseract], cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    started: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while not started and time.monotonic() < deadline and reader.poll() is None:
            time.sleep(0.1)
            started = _children(reader.pid, "tesseract")
        assert started, f"no Tesseract started (reader exited {reader.poll()})"
        reader.kill()
        reader.wait(10)
        deadline = time.monotonic() + 5
        while _alive(started[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(started[0]), "Tesseract outlived the process that started it"
    finally:
        if reader.poll() is None:
            reader.kill()
        for pid in started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# --------------------------------------------------------------------------- the flow's own task runner


@pytest.fixture(scope="module")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


class CountingEngine:
    """The process's OCR engine, counting how many readings run at once (each is one Tesseract)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.running, self.peak, self.calls = inner, 0, 0, 0
        self.lock = threading.Lock()

    def identity(self) -> str:
        return str(self.inner.identity())

    def _counted(self, read: Any, *args: Any) -> Any:
        with self.lock:
            self.running += 1
            self.calls += 1
            self.peak = max(self.peak, self.running)
        try:
            time.sleep(0.05)  # long enough for readings of other documents to overlap if they may
            return read(*args)
        finally:
            with self.lock:
                self.running -= 1

    def words(self, image: Any, params: Any, timeout: float) -> Any:
        return self._counted(self.inner.words, image, params, timeout)

    def orientation(self, image: Any, timeout: float) -> Any:
        return self._counted(self.inner.orientation, image, timeout)


def test_a_deployed_run_reads_no_more_pages_at_once_than_configured(
    prefect_harness: None, tmp_path: Path, truth: dict[str, Any]
) -> None:
    """A served or deployed run calls the flow with its config path only: its task runner still
    comes from the configuration, bounded by [parsing] workers (Prefect's default thread pool has no bound)."""
    from flows.daily import daily_intake
    from parsing import ocr_engine
    from tests.flow_support import corpus_config

    faxes = sorted(r["id"] for r in truth["receipts"] if r["channel"] != "bfs_email")[:4]
    corpus = copy_corpus(tmp_path / "corpus", truth, set(faxes))
    config = corpus_config(tmp_path / "run", tmp_path / "cache", sample_root=corpus, extra="[parsing]\nworkers = 1\n")
    counting = CountingEngine(ocr_engine.ocr_engine())
    ocr_engine.set_ocr_engine(counting)
    try:
        state = daily_intake(str(config), return_state=True)  # as `serve` and `prefect deploy` call it
    finally:
        ocr_engine.set_ocr_engine(None)
    assert state.is_completed(), state.message
    assert counting.calls > len(faxes)
    assert counting.peak == 1, f"{counting.peak} pages were read at once with [parsing] workers = 1"


# --------------------------------------------------------------------------- a real Dask cluster


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End a process this test started, and its own children (its session)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def _start(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            args, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _not_sharing(args: list[str], hidden: list[Path]) -> list[str]:
    """``args`` in a mount namespace of its own where each of ``hidden`` is an empty folder of its
    own: a machine that does not share those folders with the flow's."""
    mounts = [f"mount -t tmpfs -o mode=0700 none {shlex.quote(str(path))}" for path in hidden]
    script = " && ".join([*mounts, f"exec {shlex.join(args)}"])
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]


@contextlib.contextmanager
def dask_cluster(
    tmp_path: Path, env: dict[str, str], workers: int = 2, hidden: list[Path] | None = None,
    doomed: dict[int, dict[str, str]] | None = None, started: list[subprocess.Popen[bytes]] | None = None,
) -> Iterator[str]:
    """``dask scheduler`` and ``workers`` x ``dask worker`` (one thread each) on loopback, as the README
    starts them; workers that see an empty folder of their own at each of ``hidden``. Worker n in
    ``doomed`` gets those variables besides ``env`` and no nanny (killed, it stays dead); ``started``
    receives the processes (the scheduler first)."""
    port = str(_free_port())
    address = f"tcp://127.0.0.1:{port}"
    dask = str(VENV_BIN / "dask")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(
            _start([dask, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
                   tmp_path / "scheduler.log", env)
        )
        for n in range(workers):
            worker = [dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard"]
            worker += ["--name", f"w{n}", *(["--no-nanny"] if doomed and n in doomed else [])]
            log = tmp_path / f"worker{n}.log"
            worker_env = {**env, **(doomed or {}).get(n, {})}
            processes.append(_start(_not_sharing(worker, hidden) if hidden else worker, log, worker_env))
        if started is not None:
            started.extend(processes)
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=90)
        yield address
    finally:
        for process in reversed(processes):
            _stop(process)


def arm_crash_point(target: str) -> None:
    """Run in a Dask worker (``Client.run``): it kills itself at ``target`` (flows.crashpoints) from now on."""
    os.environ["DETAINER_INTAKE_CRASH_AT"] = target


def executed_per_worker(address: str) -> dict[str, int]:
    from distributed import Client

    with Client(address, timeout=30) as client:
        counts: dict[str, int] = client.run(lambda dask_worker: dask_worker.state.executed_count)
    return counts


@pytest.mark.slow
@pytest.mark.postgres
def test_a_real_dask_cluster_with_default_parsing_gives_the_in_process_ledger(
    prefect_harness: None, tmp_path: Path, truth: dict[str, Any]
) -> None:
    """The README's scale-out: a scheduler and two workers as processes, [parsing] workers at its
    default (0), the ledger on PostgreSQL; the flow picks Dask from its configuration alone
    (as a deployed run does) and commits the ledger a plain in-process SQLite run commits."""
    from prefect.settings import get_current_settings

    from flows.daily import daily_intake
    from flows.sequence import run_once
    from flows.steps import Intake
    from tests.flow_support import corpus_config, settings_of, snapshot, snapshot_of
    from tests.ledger_support import pg_schema_url

    faxes = sorted(r["id"] for r in truth["receipts"] if r["channel"] != "bfs_email")[:5]
    corpus = copy_corpus(tmp_path / "corpus", truth, set(faxes))

    reference = corpus_config(tmp_path / "seq", tmp_path / "seq-cache", sample_root=corpus)
    intake = Intake.open(settings_of(reference))
    try:
        run_once(intake)
        expected = snapshot(intake.ledger)
    finally:
        intake.close()
    assert expected["receipts"], "the subset committed nothing"

    with pg_schema_url() as url:
        worker_env = {
            **os.environ,
            "PREFECT_API_URL": str(get_current_settings().api.url),  # the workers report to the flow's server
            "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
        with dask_cluster(tmp_path, worker_env) as address:
            (tmp_path / "dask").mkdir()
            config = write_config(
                tmp_path / "dask" / "config.toml",
                data_dir=tmp_path / "dask" / "data",
                sample_root=corpus,
                ledger_url=url,
                extraction_cache=tmp_path / "dask-cache",
                extra=f'[flows]\ntask_runner = "dask"\ndask_address = "{address}"\n',
            )
            assert settings_of(config).parsing.workers == 0
            state = daily_intake(str(config), return_state=True)
            assert state.is_completed(), state.message
            executed = executed_per_worker(address)
        assert snapshot_of(config) == expected
    assert sum(executed.values()) >= len(faxes) - 1, executed  # the parse tasks ran on the cluster's workers


async def _artifact_texts() -> list[str]:
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        return [str(artifact.data) for artifact in await client.read_artifacts(limit=200)]


def _files_in(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


@pytest.mark.slow
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="a worker that does not share a folder needs a mount namespace (root, unshare)",
)
def test_a_worker_that_does_not_share_the_storage_fails_the_run_naming_it(
    prefect_harness: None, tmp_path: Path, truth: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Dask worker that sees another archive, or another extraction cache, than the flow fails the
    run at its start, before anything is polled or parsed: the flow's probe file in the folder is
    not there for the worker, and the message names the folder to share (the probes are removed).
    A worker that loses the storage later (after the start's check): every parse counts as failed
    with a typed cause naming the folder, in the run's message and its artifact (not a bare
    FileNotFoundError in the worker's log, nor a Completed run that read each document again in the
    flow's process); nothing is committed, so a later run with the storage fixed takes it all."""
    from prefect.settings import get_current_settings

    from flows import daily
    from tests.flow_support import snapshot_of

    faxes = sorted(r["id"] for r in truth["receipts"] if r["channel"] == "dedicated_fax")[:2]
    corpus = copy_corpus(tmp_path / "corpus", truth, set(faxes))
    sources = sorted(_files_in(corpus))
    archive_a, cache_b = tmp_path / "a" / "data" / "archive", tmp_path / "b-cache"
    for folder in (archive_a, cache_b):
        folder.mkdir(mode=0o700, parents=True)
    env = {
        **os.environ,
        "PREFECT_API_URL": str(get_current_settings().api.url),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    with dask_cluster(tmp_path, env, workers=1, hidden=[archive_a, cache_b]) as address:
        dask = f'[flows]\ntask_runner = "dask"\ndask_address = "{address}"\n'
        unshared_archive = write_config(
            tmp_path / "a" / "config.toml", data_dir=tmp_path / "a" / "data", sample_root=corpus,
            extraction_cache=tmp_path / "a-cache", extra=dask,
        )
        (tmp_path / "b").mkdir()
        unshared_cache = write_config(
            tmp_path / "b" / "config.toml", data_dir=tmp_path / "b" / "data", sample_root=corpus,
            extraction_cache=cache_b, extra=dask,
        )

        state = daily.daily_intake(str(unshared_archive), return_state=True)
        assert state.is_failed()
        message = str(state.message)
        assert message.startswith("StorageNotShared: the Dask worker(s) at tcp://127.0.0.1:"), message
        assert f"cannot see the archive ([archive] path {archive_a})" in message, message
        assert "extraction cache" not in message, message
        state = daily.daily_intake(str(unshared_cache), return_state=True)
        assert state.is_failed()
        assert f"cannot see the extraction cache ([archive] extraction_cache {cache_b})" in str(state.message)
        assert _files_in(archive_a) == [] and _files_in(cache_b) == [], "a probe was left, or something polled"
        assert sorted(_files_in(corpus)) == sources
        assert snapshot_of(unshared_archive)["receipts"] == [] and snapshot_of(unshared_cache)["receipts"] == []

        monkeypatch.setattr(daily, "unshared_storage", lambda runner, intake: None)  # lost after the check
        state = daily.daily_intake(str(unshared_archive), return_state=True)
        assert state.is_failed()
        assert "2 parse failure(s): 2 x StorageNotShared: " in str(state.message), state.message
        assert f"cannot see archived documents in the archive ([archive] path {archive_a})" in str(state.message)
        assert any("2 x StorageNotShared" in text for text in asyncio.run(_artifact_texts())), "not in the artifact"

        state = daily.daily_intake(str(unshared_cache), return_state=True)
        assert state.is_failed()
        assert "2 parse failure(s): 2 x StorageNotShared: " in str(state.message), state.message
        assert f"the extraction cache ([archive] extraction_cache {cache_b})" in str(state.message)
        assert not any(cache_b.iterdir()), "the flow read the documents itself"
    assert snapshot_of(unshared_cache)["receipts"] == []


def test_an_unreachable_scheduler_fails_the_run_at_its_start(prefect_harness: None, tmp_path: Path) -> None:
    """Even with nothing to parse (Dask connects at the first parse otherwise), and before any poll."""
    import dask

    from flows.daily import daily_intake

    corpus = tmp_path / "corpus"
    for folder in ("dedicated", "stations", "mailbox/cur", "mailbox/new", "mailbox/tmp"):
        (corpus / folder).mkdir(parents=True)
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    config = write_config(
        tmp_path / "config.toml", data_dir=tmp_path / "data", sample_root=corpus,
        extra=f'[flows]\ntask_runner = "dask"\ndask_address = "{address}"\n',
    )
    with dask.config.set({"distributed.comm.timeouts.connect": "3s"}):
        state = daily_intake(str(config), return_state=True)
    assert state.is_failed()
    assert f"the Dask scheduler at {address} cannot be reached" in str(state.message), state.message
