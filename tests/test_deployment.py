"""The README's single-machine scheduling works as written: server + serve + a triggered run, whose
logs in the Prefect API carry the project's own lines; prefect.yaml agrees with the served deployments."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.born_digital import Page
from tests.conftest import PROJECT_ROOT, write_config

pytestmark = pytest.mark.slow

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def api(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url + path, data=data, method="POST" if data else "GET", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
    }
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [str(VENV_BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = env["PREFECT_API_URL"]

    def healthy() -> bool:
        try:
            return bool(api(url, "/health"))
        except OSError:
            return False

    try:
        wait_for(healthy, 180, "prefect server")
        yield url, env
    finally:
        server.terminate()
        server.wait(30)


def test_served_deployment_runs_on_trigger(prefect_server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, env = prefect_server
    corpus = tmp_path / "corpus"
    for folder in ("dedicated", "stations/A-1", "mailbox/cur", "mailbox/new", "mailbox/tmp"):
        (corpus / folder).mkdir(parents=True)
    notice = Page()  # one born-digital page that is no detainer: a document to read and commit
    notice.text(72, 72, "NOTICE OF HEARING", size=14)
    (corpus / "dedicated" / "notice.pdf").write_bytes(notice.finish())
    config = write_config(tmp_path / "config.toml", data_dir=tmp_path / "data", sample_root=corpus)
    serve_log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [str(VENV_BIN / "detainer-intake"), "serve", "--config", str(config)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=serve_log,
        stderr=subprocess.STDOUT,
    )
    try:

        def served() -> dict[str, Any] | None:
            found = {d["name"]: d for d in api(url, "/deployments/filter", {"limit": 10})}
            return found if len(found) >= 4 else None

        deployments = wait_for(served, 120, "the served deployments")
        assert set(deployments) == {
            "daily-intake-served",
            "backfill-served",
            "annual-report-served",
            "archive-verify-served",
        }
        assert not deployments["backfill-served"]["schedules"] and not deployments["annual-report-served"]["schedules"]
        for served in deployments.values():
            assert served["parameters"]["config_path"] == str(config.resolve())
        deployment = deployments["daily-intake-served"]
        [schedule] = deployment["schedules"]
        assert schedule["schedule"]["cron"] == "0 6 * * *"
        assert schedule["schedule"]["timezone"] == "America/New_York"
        assert deployment["concurrency_limit"] == 1 or deployment["global_concurrency_limit"]["limit"] == 1

        trigger = subprocess.run(
            [str(VENV_BIN / "prefect"), "deployment", "run", "daily_intake/daily-intake-served"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert trigger.returncode == 0, trigger.stderr[-2000:]

        def finished() -> Any:
            runs = api(url, "/flow_runs/filter", {"limit": 10})
            done = [r for r in runs if r["state_type"] in ("COMPLETED", "FAILED", "CRASHED")]
            return done[0] if done else None

        run = wait_for(finished, 180, "the triggered flow run")
        assert run["state_type"] == "COMPLETED", run.get("state", {}).get("message")
        assert (tmp_path / "data" / "ledger.db").exists()

        # the project's own log lines (per channel poll, the channels summary) are in the run's logs
        def project_lines() -> list[dict[str, Any]]:
            logs = api(url, "/logs/filter", {"logs": {"flow_run_id": {"any_": [run["id"]]}}, "limit": 200})
            return [line for line in logs if line["name"].startswith(("flows.", "ingest.", "ledger."))]

        lines = wait_for(project_lines, 30, "the project's log lines in the flow run's logs")
        messages = [line["message"] for line in lines]
        assert any(message.startswith("channels: ") for message in messages), messages
        assert any(message.startswith("station_fax: ") for message in messages), messages
        assert any(message.startswith("parsed ") for message in messages), messages
        assert any(message.startswith("committed dedicated_fax ") for message in messages), messages
        shown = subprocess.run(
            [str(VENV_BIN / "prefect"), "flow-run", "logs", run["id"]],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "channels: " in shown.stdout, shown.stdout[-2000:]
    finally:
        serve.terminate()
        serve.wait(30)


def test_prefect_yaml_agrees_with_the_served_deployments() -> None:
    """One schedule (the [flows] defaults), the config path read at run time, names distinct from serve's."""
    import yaml

    from flows.deploy import ARCHIVE_VERIFY_CRON, DAILY_CRON, SCHEDULE_TIMEZONE, SERVED_NAMES

    spec = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())
    deployments = {d["entrypoint"].split(":")[1]: d for d in spec["deployments"]}
    assert set(deployments) == set(SERVED_NAMES)
    assert [s["cron"] for s in deployments["daily_intake"]["schedules"]] == [DAILY_CRON]
    assert {s["timezone"] for d in deployments.values() for s in d.get("schedules", [])} == {SCHEDULE_TIMEZONE}
    assert [s["cron"] for s in deployments["archive_verify"]["schedules"]] == [ARCHIVE_VERIFY_CRON]
    for flow_name, deployment in deployments.items():
        assert deployment["name"] != SERVED_NAMES[flow_name]
        assert "config_path" not in deployment.get("parameters", {}), "a deploying shell's path would be frozen"
