"""Scale-out as an operator runs it: a Prefect server, a process worker running the prefect.yaml
deployments, a Dask scheduler and two workers, the ledger on PostgreSQL; and a killed run's slot.

Every process is a real one started here on loopback (``prefect server start``, ``prefect worker
start``, ``dask scheduler``, ``dask worker``) and stopped at the end. Its own lane:
``-m prefect_scale_out`` (and slow).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from tests.conftest import PROJECT_ROOT, copy_corpus, write_config
from tests.test_scale_out import _free_port, _start, _stop, arm_crash_point, dask_cluster, executed_per_worker

pytestmark = [pytest.mark.slow, pytest.mark.prefect_scale_out]

VENV_BIN = Path(sys.executable).parent
PREFECT = str(VENV_BIN / "prefect")


class PrefectServer:
    def __init__(self, url: str, home: Path) -> None:
        self.url, self.home = url, home

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "PREFECT_API_URL": self.url,
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_WORKER_QUERY_SECONDS": "2",
            "PYTHONPATH": str(PROJECT_ROOT),
            **extra,
        }

    def cli(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run(
            [PREFECT, "--no-prompt", *args], env=self.env(), cwd=PROJECT_ROOT, capture_output=True, timeout=timeout,
            check=False,
        )
        output = done.stdout.decode() + done.stderr.decode()
        assert done.returncode == 0, f"prefect {' '.join(args)}: {output[-2000:]}"
        return output


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """``prefect server start`` on a free loopback port (SQLite in its own PREFECT_HOME), the work
    pool and ``prefect deploy --all`` from the project's prefect.yaml, as the README says."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    server = PrefectServer(f"http://127.0.0.1:{port}/api", home)
    process = _start(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
        home / "server.log", server.env(),
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{server.url}/health", timeout=5) as answer:
                    if answer.status == 200:
                        break
            assert process.poll() is None, (home / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the Prefect server did not start"
            time.sleep(1)
        server.cli("work-pool", "create", "detainer-intake", "--type", "process")
        server.cli("deploy", "--all")
        yield server
    finally:
        _stop(process)


@contextlib.contextmanager
def process_worker(server: PrefectServer, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    worker = _start(
        [PREFECT, "worker", "start", "--pool", "detainer-intake"], log,
        server.env(DETAINER_INTAKE_HOME=str(PROJECT_ROOT), **env),
    )
    try:
        yield worker
    finally:
        _stop(worker)


def run_deployment(server: PrefectServer, name: str, **parameters: str) -> UUID:
    args = [f"{key}={value}" for key, value in parameters.items()]
    output = server.cli("deployment", "run", name, *(part for arg in args for part in ("--param", arg)))
    found = re.search(r"UUID:\s*([0-9a-f-]{36})", output)
    assert found, output
    return UUID(found.group(1))


def flow_run(server: PrefectServer, run_id: UUID) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: server.url}), get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


def task_states(server: PrefectServer, run_id: UUID) -> list[str]:
    """Each task run of the flow run: its name, state and message (for a failure's report)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: server.url}), get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    return sorted(f"{run.name}: {run.state and run.state.name} {run.state and run.state.message}" for run in runs)


def wait_for(server: PrefectServer, run_id: UUID, done: Any, timeout: float, logs: list[Path]) -> Any:
    """The flow run once ``done(state)``; fails with the processes' logs after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        run = flow_run(server, run_id)
        if run.state is not None and done(run.state):
            return run
        if time.monotonic() > deadline:
            tails = "\n".join(
                f"--- {log.name}\n{log.read_text(errors='replace')[-1500:]}" for log in logs if log.exists()
            )
            pytest.fail(f"flow run {run_id} still {run.state and run.state.name} after {timeout:g}s\n{tails}")
        time.sleep(1)


def _final(state: Any) -> bool:
    return bool(state.is_final())


@pytest.mark.postgres
def test_the_deployment_on_a_process_worker_and_a_dask_cluster_gives_the_in_process_ledger(
    prefect_server: PrefectServer, tmp_path: Path, truth: dict[str, Any]
) -> None:
    """The deployment (prefect.yaml) run by a process worker parses on a Dask scheduler and two
    workers, commits to PostgreSQL and gives the ledger a plain in-process SQLite run gives; a second
    ledger's run, during which one Dask worker is killed at its first parse, gives it too (retried
    when it did not complete)."""
    from flows.sequence import run_once
    from flows.steps import Intake
    from tests.flow_support import corpus_config, settings_of, snapshot, snapshot_of
    from tests.ledger_support import pg_schema_url

    faxes = sorted(r["id"] for r in truth["receipts"] if r["channel"] != "bfs_email")[:5]
    corpus = copy_corpus(tmp_path / "corpus", truth, set(faxes))
    intake = Intake.open(settings_of(corpus_config(tmp_path / "seq", tmp_path / "seq-cache", sample_root=corpus)))
    try:
        run_once(intake)
        expected = snapshot(intake.ledger)
    finally:
        intake.close()
    assert expected["receipts"], "the subset committed nothing"

    dask_env = prefect_server.env(PREFECT_HOME=str(tmp_path / "dask-prefect-home"))
    started: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / "worker.log", tmp_path / "worker0.log", tmp_path / "worker1.log"]
    with (
        pg_schema_url() as clean_url,
        pg_schema_url() as killed_url,
        dask_cluster(tmp_path, dask_env, doomed={1: {}}, started=started) as address,
        process_worker(prefect_server, tmp_path / "worker.log"),
    ):
        dask = f'[flows]\ntask_runner = "dask"\ndask_address = "{address}"\n'
        configs = {}
        for name, url in (("clean", clean_url), ("killed", killed_url)):
            (tmp_path / name).mkdir()
            configs[name] = write_config(
                tmp_path / name / "config.toml", data_dir=tmp_path / name / "data", sample_root=corpus,
                ledger_url=url, extraction_cache=tmp_path / f"{name}-cache", extra=dask,
            )

        clean = run_deployment(prefect_server, "daily_intake/daily-intake", config_path=str(configs["clean"]))
        run = wait_for(prefect_server, clean, _final, 240, logs)
        assert run.state.is_completed(), (run.state.message, task_states(prefect_server, clean))
        assert run.deployment_id is not None
        assert snapshot_of(configs["clean"]) == expected
        assert all(count > 0 for count in executed_per_worker(address).values()), "a Dask worker parsed nothing"

        from distributed import Client

        with Client(address, timeout=30) as client:  # the second worker (no nanny) dies at its next parse
            doomed_address = next(a for a, w in client.scheduler_info()["workers"].items() if w["name"] == "w1")
            client.run(arm_crash_point, "parse.start:1", workers=[doomed_address])
        killed = run_deployment(prefect_server, "daily_intake/daily-intake", config_path=str(configs["killed"]))
        run = wait_for(prefect_server, killed, _final, 240, logs)
        assert started[2].wait(10) == -signal.SIGKILL, "the Dask worker was not killed during the run"
        if not run.state.is_completed():
            prefect_server.cli("flow-run", "retry", str(killed))
            run = wait_for(prefect_server, killed, lambda state: state.is_final() and state.id != run.state.id,
                           240, logs)
        assert run.state.is_completed(), (run.state.message, task_states(prefect_server, killed))
        assert snapshot_of(configs["killed"]) == expected
        again = run_deployment(prefect_server, "daily_intake/daily-intake", config_path=str(configs["killed"]))
        run = wait_for(prefect_server, again, _final, 240, logs)
        assert run.state.is_completed(), (run.state.message, task_states(prefect_server, again))
        assert snapshot_of(configs["killed"]) == expected


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def test_a_run_killed_with_its_worker_is_marked_crashed_and_the_next_run_starts(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    """The machine running a deployed daily run is lost (its worker and the run's process SIGKILLed):
    with the automation ``python -m flows.zombies`` creates and the heartbeat prefect.yaml sets, the
    run is marked Crashed within a few heartbeats, which frees the deployment's concurrency slot
    (limit 1): the next run, queued behind it, starts on another worker and completes (the ledger's
    run lock died with the process). Without them the run stays Running and the next one waits."""
    from flows.steps import Intake
    from tests.flow_support import settings_of

    created = subprocess.run(
        [sys.executable, "-m", "flows.zombies"], env=prefect_server.env(), cwd=PROJECT_ROOT, capture_output=True,
        timeout=120, check=False,
    )
    assert created.returncode == 0, created.stderr.decode()[-2000:]
    corpus = tmp_path / "corpus"
    for folder in ("dedicated", "stations", "mailbox/cur", "mailbox/new", "mailbox/tmp"):
        (corpus / folder).mkdir(parents=True)
    config = write_config(tmp_path / "config.toml", data_dir=tmp_path / "data", sample_root=corpus)
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]

    intake = Intake.open(settings_of(config))
    try:
        with intake.ledger.run_lock("daily_intake"), process_worker(prefect_server, logs[0]) as lost:
            first = run_deployment(prefect_server, "daily_intake/daily-intake", config_path=str(config))
            wait_for(prefect_server, first, lambda state: state.is_running(), 120, logs)  # waiting for the lock
            time.sleep(10)  # its first heartbeat reaches the server
            machine = [lost.pid, *_descendants(lost.pid)]
            assert len(machine) >= 2, "the run's process is not the worker's child"
            for pid in machine:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    finally:
        intake.close()
    killed_at = time.monotonic()
    second = run_deployment(prefect_server, "daily_intake/daily-intake", config_path=str(config))
    with process_worker(prefect_server, logs[1]):
        run = wait_for(prefect_server, first, _final, 150, logs)
        assert run.state.is_crashed(), run.state
        assert "no heartbeat" in str(run.state.message), run.state.message
        crashed_after = time.monotonic() - killed_at
        run = wait_for(prefect_server, second, _final, 120, logs)
        assert run.state.is_completed(), (run.state.message, task_states(prefect_server, second))
    assert crashed_after < 150
