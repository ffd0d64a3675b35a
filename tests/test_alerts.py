"""Alerts on a real ``prefect server``: ``detainer-intake alerts install --webhook URL`` creates the
automations, a failed run of the served daily deployment POSTs its name and state to a local receiver,
and so does a day (here: a few seconds more than a minute) without a completed daily run; with
``--email mailto://...`` a failed run is mailed through a local SMTP server."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT_ROOT, write_config
from tests.test_deployment import VENV_BIN, api, prefect_server, wait_for

pytestmark = pytest.mark.slow
__all__ = ["prefect_server"]  # the fixture: a real `prefect server start` (its services evaluate automations)


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[bytes]]]:
    """A local SMTP server: the messages it was given."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import asyncore
        import smtpd

    received: list[bytes] = []

    class Server(smtpd.SMTPServer):
        def process_message(self, peer: Any, mailfrom: str, rcpttos: list[str], data: bytes, **kw: Any) -> None:
            received.append(data)

    server = Server(("127.0.0.1", 0), None)
    thread = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.2}, daemon=True)
    thread.start()
    try:
        yield server.socket.getsockname()[1], received
    finally:
        server.close()


def alerts_install(env: dict[str, str], *options: str) -> None:
    install = subprocess.run(
        [str(VENV_BIN / "detainer-intake"), "alerts", "install", *options],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert install.returncode == 0, install.stderr[-2000:]


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP receiver: the JSON bodies POSTed to it."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(json.loads(body or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()


def test_a_failed_daily_run_and_a_missing_one_reach_the_webhook(
    prefect_server: tuple[str, dict[str, str]],
    receiver: tuple[str, list[dict[str, Any]]],
    smtp_server: tuple[int, list[bytes]],
    tmp_path: Path,
) -> None:
    url, env = prefect_server
    hook, received = receiver
    minutes = 1.2
    for wrong, said in (
        (["--block", "custom-webhook/no-such-block"], "no notification block 'custom-webhook/no-such-block'"),
        (["--email", "smtp://relay"], "--email takes an Apprise mail URL"),
        (["--webhook", hook, "--email", "mailto://relay"], "give exactly one of"),
    ):
        refused = subprocess.run(
            [str(VENV_BIN / "detainer-intake"), "alerts", "install", *wrong],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert refused.returncode == 4 and said in refused.stderr, (wrong, refused.returncode, refused.stderr[-2000:])
    alerts_install(env, "--webhook", hook, "--hours", str(minutes / 60))
    automations = {a["name"]: a for a in api(url, "/automations/filter", {})}
    assert set(automations) == {"detainer-intake: run failed", "detainer-intake: no completed daily run"}
    missing = automations["detainer-intake: no completed daily run"]["trigger"]
    assert missing["posture"] == "Proactive" and missing["expect"] == ["prefect.flow-run.Completed"]

    corpus = tmp_path / "corpus"
    for folder in ("dedicated", "stations/A-1", "mailbox/cur", "mailbox/new", "mailbox/tmp"):
        (corpus / folder).mkdir(parents=True)
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
        wait_for(lambda: api(url, "/deployments/filter", {"limit": 10}), 120, "the served deployments")
        trigger_failing_run(env, tmp_path)

        def failed_alert() -> dict[str, Any] | None:
            return next((body for body in received if "ended Failed" in body.get("subject", "")), None)

        alert = wait_for(failed_alert, 180, "the failed run's notification")
        assert alert["subject"].startswith("detainer-intake: daily_intake run intake-"), alert
        assert "configuration file not found" in alert["body"], alert
        assert "/runs/flow-run/" in alert["body"], alert  # a link to the run in the UI

        def missing_alert() -> dict[str, Any] | None:
            return next((body for body in received if "no daily run completed" in body.get("subject", "")), None)

        alert = wait_for(missing_alert, 240, "the notification that no daily run completed")
        assert "is `detainer-intake serve` or the worker running" in alert["body"], alert

        # the department's address through an SMTP relay
        port, mails = smtp_server
        alerts_install(env, "--email", f"mailto://127.0.0.1:{port}?to=ops@dept.example&from=intake@dept.example")
        trigger_failing_run(env, tmp_path)
        mail = wait_for(lambda: next((m for m in mails if b"ended Failed" in m), None), 180, "the failed run's mail")
        assert b"To: ops@dept.example" in mail and b"configuration file not found" in mail, mail[:2000]
    finally:
        serve.terminate()
        serve.wait(30)


def trigger_failing_run(env: dict[str, str], tmp_path: Path) -> None:
    """A run of the served daily deployment that fails: its configuration file does not exist."""
    trigger = subprocess.run(
        [
            *(str(VENV_BIN / "prefect"), "deployment", "run", "daily_intake/daily-intake-served"),
            *("--param", f"config_path={tmp_path / 'no-such-config.toml'}"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert trigger.returncode == 0, trigger.stderr[-2000:]
