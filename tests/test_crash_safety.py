"""Crash safety: `detainer-intake run` killed with SIGKILL anywhere, then rerun, ends with a clean run's ledger.

Every kill runs the real command line as a subprocess over a private copy of part of the
sample corpus (fax folders moving committed files to ``processed/``, a Maildir moving
handled messages to ``.Processed``), against one Prefect server (``tests/server_support.py``).
Deterministic kills use the named crash points of ``flows.crashpoints`` (each effect
boundary, at several occurrences); seeded random kills take down the whole process tree
at an arbitrary moment (a power cut). After each kill, one rerun must complete and leave:

- the ledger of a clean run (receipts, requests, metrics; and the same row counts);
- every original fax file exactly once, in ``processed/``, including a file the killed run
  committed but had not moved yet (the rerun's poll redoes the missed move, as the mailbox does);
- every message exactly once, moved to ``.Processed``, with exactly one handled record;
- an archive whose every file matches its hash.

At the moment of each kill, nothing may have been moved before its commit. The reruns run
the same flow in the test process (one as the CLI), to save the CLI's start-up each time.

Parsing crash points need OCR to happen, so they run over a few one-page documents with
an empty extraction cache; every other kill shares the clean run's cache.
"""

from __future__ import annotations

import random
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.config import load_settings
from flows.crashpoints import POINTS
from ledger import schema
from tests import run_support as rs
from tests.flow_support import snapshot_of

pytestmark = pytest.mark.slow
pytest_plugins = ["tests.server_support"]  # prefect_server: the session's Prefect server

# Part of the corpus that passes every effect several times, and costs little OCR in the clean run:
# dedicated line: 1-page decoy, truncated TIFF, 2-page cancellation notice; stations: a 1-page
# decoy (C-6) and an empty PDF (D-4); mail: one request twice (attached, then forwarded), a
# decoy, an encrypted PDF, a .docx, and a message without any document.
MAIN = {"R007", "R031", "R046", "R002", "R020", "R015", "R029", "R030", "R040", "R054"}
# Short documents that must really be read when a kill lands inside parsing: a 1-page fax (OCR),
# a born-digital PDF in a message, a truncated TIFF.
PARSE = {"R007", "R015", "R031"}

# (point, occurrence). MAIN has 5 fax files and 6 messages (5 documents); PARSE has 3 documents.
# Over MAIN with the shared OCR cache, except parse.* over PARSE with an empty cache.
KILLS = [
    ("poll.stored", 1),
    ("poll.stored", 4),
    ("mail.stored", 1),
    ("mail.stored", 5),
    ("parse.start", 1),
    ("parse.cached", 2),
    ("commit.before", 1),
    ("commit.before", 5),
    ("commit.after", 2),
    ("commit.after", 5),
    ("mail.commit.before", 1),
    ("mail.commit.before", 5),
    ("mail.commit.after", 6),  # mail.commit.after:2 has its own test below
    ("mail.action.after", 1),
    ("mail.action.after", 6),
    ("metrics.before", 1),
]
RANDOM_KILLS = 3
SEED = 20250601


@dataclass
class Bench:
    """The module's Prefect server, the shared OCR cache and the clean runs to compare with."""

    root: Path
    env: dict[str, str]
    truth: dict[str, Any]
    cache: Path
    pristine: dict[str, Path] = field(default_factory=dict)  # subset name -> untouched corpus copy
    reference: dict[str, dict[str, Any]] = field(default_factory=dict)  # subset name -> clean snapshot
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # subset name -> clean row counts
    warm_seconds: float = 0.0  # a run over a subset whose pages are all in the cache
    runs: int = 0  # CLI runs whose final ledger was compared with a clean run's
    kills: list[str] = field(default_factory=list)
    leftovers: int = 0
    seconds: list[float] = field(default_factory=list)  # wall-clock time of every CLI run
    rerun_seconds: list[float] = field(default_factory=list)  # in-process reruns

    def fresh(self, subset: str, where: Path, *, cache: Path | None = None) -> tuple[Path, Path, dict[str, str]]:
        """A new corpus copy and config; returns (corpus, config, originals)."""
        corpus = where / "corpus"
        shutil.copytree(self.pristine[subset], corpus, copy_function=shutil.copy2)
        config = rs.intake_config(where / "config.toml", corpus=corpus, data=where / "data", cache=cache or self.cache)
        return corpus, config, rs.originals(corpus)

    def run(self, config: Path, logs: Path, **kwargs: Any) -> rs.CliRun:
        result = rs.run_cli(config, self.env, logs, **kwargs)
        self.leftovers += result.leftovers
        self.seconds.append(result.seconds)
        return result

    def rerun(self, config: Path) -> None:
        """The run after a kill, in this process: the flow `detainer-intake run` runs, on the same server.

        (Saves the CLI's start-up, ~3 s a run; the kills themselves always hit a real subprocess.)
        """
        from flows.daily import daily_intake, task_runner_for

        started = time.monotonic()
        # As run_daily_intake does, minus its stop_temporary_server() (which would stop this session's server).
        state = daily_intake.with_options(task_runner=task_runner_for(load_settings(config)))(
            str(config), return_state=True
        )
        self.rerun_seconds.append(time.monotonic() - started)
        assert state.is_completed(), state.message


@pytest.fixture(scope="module")
def bench(
    tmp_path_factory: pytest.TempPathFactory,
    truth: dict[str, Any],
    prefect_server: dict[str, str],
    ocr_cache_dir: Path,
) -> Iterator[Bench]:
    root = tmp_path_factory.mktemp("crash")
    bench = Bench(root=root, env=prefect_server, truth=truth, cache=ocr_cache_dir)
    for name, ids in (("main", MAIN), ("parse", PARSE)):
        bench.pristine[name] = rs.build_corpus(root / f"pristine-{name}", truth, ids, no_document_messages=True)
    # The clean runs read every page once (filling the shared cache) and are the reference.
    for name in ("main", "parse"):
        where = root / f"clean-{name}"
        corpus, config, before = bench.fresh(name, where)
        started = time.monotonic()
        clean = bench.run(config, where / "logs")
        assert clean.returncode == 0, clean.describe()
        if name == "parse":  # every page of PARSE is in MAIN: this run reads nothing
            bench.warm_seconds = time.monotonic() - started
        check_final_state(corpus, config, before)
        bench.reference[name] = snapshot_of(config)
        bench.counts[name] = rs.table_counts(config)
    yield bench
    print(
        f"\ncrash safety: {len(bench.kills)} kills ({', '.join(bench.kills)}); "
        f"{bench.runs} reruns compared with a clean run; {bench.leftovers} leftover processes reaped; "
        f"{len(bench.seconds)} CLI runs ({sum(bench.seconds):.0f}s), "
        f"{len(bench.rerun_seconds)} in-process reruns ({sum(bench.rerun_seconds):.0f}s)"
    )


def check_final_state(corpus: Path, config: Path, before: dict[str, str]) -> None:
    """What a completed run must leave, whatever happened before it."""
    files = rs.placement(corpus, before)
    assert len(files) >= 1 and all(len(places) == 1 for places in files.values()), files
    assert all(places[0].startswith("processed/") for places in files.values()), files
    messages = rs.mail_placement(corpus, before)
    assert messages, "the subset has no mail"
    assert all(len(places) == 1 and places[0].startswith(".Processed/cur/") for places in messages.values()), messages
    assert rs.stray_files(corpus, before) == []
    rows = rs.mail_rows(config)
    assert [status for _, status in rows] == ["handled"] * len(messages), rows
    assert sorted(key.rsplit("/", 1)[1] for key, _ in rows) == sorted(Path(r).name.split(":", 1)[0] for r in messages)
    assert rs.archive_damage(config.parent / "data" / "archive") == []


def committed_state(config: Path) -> tuple[set[str], set[str]]:
    """(corpus-relative paths of committed fax files, keys of handled messages) in the ledger now."""
    folders = {"dedicated_fax": "dedicated/", "station_fax": "stations/"}
    intake = rs.open_intake(config)
    try:
        keys = intake.ledger.known_source_keys("file:")
        with intake.ledger.engine.connect() as connection:
            handled = set(
                connection.execute(
                    select(schema.MailMessage.message_key).where(schema.MailMessage.status == "handled")
                ).scalars()
            )
    finally:
        intake.close()
    files = set()
    for key in keys:  # file:<channel>:<relative path>:<size>:<mtime_ns>
        _, channel, rest = key.split(":", 2)
        files.add(folders[channel] + rest.rsplit(":", 2)[0])
    return files, handled


def check_nothing_moved_before_commit(corpus: Path, config: Path, before: dict[str, str]) -> set[str]:
    """At the moment of a kill: a file in processed/ has its receipt, a message in .Processed its record.

    Returns the fax files committed but still in place (their move did not happen).
    """
    committed, handled = committed_state(config)
    unmoved = set()
    for relative, places in rs.placement(corpus, before).items():
        if any(p.startswith("processed/") for p in places):
            assert relative in committed, f"{relative} moved before its receipt was committed"
        elif relative in committed:
            unmoved.add(relative)
    for relative, places in rs.mail_placement(corpus, before).items():
        if any(p.startswith(".Processed/") for p in places):
            key = "maildir:mailbox/" + Path(relative).name.split(":", 1)[0]
            assert key in handled, f"{relative} moved before its message was committed"
    return unmoved


def kill_then_rerun(bench: Bench, tmp_path: Path, subset: str, **kill: Any) -> tuple[rs.CliRun, set[str]]:
    """One kill and one rerun over a fresh copy; checks the moment of the kill and the end state.

    Returns the killed run and the fax files it committed but did not move.
    """
    cache = tmp_path / "cache" if subset == "parse" else None
    corpus, config, before = bench.fresh(subset, tmp_path, cache=cache)
    crashed = bench.run(config, tmp_path / "logs-kill", **kill)
    if "crash_at" in kill:
        assert crashed.killed, f"{kill['crash_at']} was not reached: {crashed.describe()}"
    unmoved = set()
    if (config.parent / "data" / "ledger.db").exists():
        unmoved = check_nothing_moved_before_commit(corpus, config, before)
    bench.rerun(config)
    check_final_state(corpus, config, before)  # the files left unmoved are in processed/ now
    assert snapshot_of(config) == bench.reference[subset]
    assert rs.table_counts(config) == bench.counts[subset]
    bench.runs += 1
    return crashed, unmoved


@pytest.mark.parametrize(("point", "nth"), KILLS, ids=[f"{p}:{n}" for p, n in KILLS])
def test_kill_at_crash_point_then_rerun_equals_clean_run(bench: Bench, tmp_path: Path, point: str, nth: int) -> None:
    subset = "parse" if point.startswith("parse.") else "main"
    _, unmoved = kill_then_rerun(bench, tmp_path, subset, crash_at=f"{point}:{nth}")
    # Only a kill between a file's commit and its move leaves a committed file in place (the rerun moves it).
    assert len(unmoved) == (1 if point == "commit.after" else 0)
    bench.kills.append(f"{point}:{nth}")
    if subset == "parse":
        assert any((tmp_path / "cache").rglob("*.json")), "nothing was parsed into the run's own cache"


def test_every_crash_point_is_covered() -> None:
    covered = Counter(p for p, _ in KILLS)
    covered["mail.commit.after"] += 1  # test_commit_then_crash_before_mail_action_is_a_harmless_reread
    assert set(covered) == set(POINTS)
    once = {"metrics.before", "parse.start", "parse.cached"}  # once a run; parsing kills cost OCR
    assert all(n >= 2 for p, n in covered.items() if p not in once), covered


def test_commit_then_crash_before_mail_action_is_a_harmless_reread(bench: Bench, tmp_path: Path) -> None:
    """mail.commit.after: the message is committed, not moved. The rerun moves it and records nothing twice."""
    corpus, config, before = bench.fresh("main", tmp_path)
    crashed = bench.run(config, tmp_path / "logs-kill", crash_at="mail.commit.after:2")
    assert crashed.killed, crashed.describe()
    handled = [key for key, status in rs.mail_rows(config) if status == "handled"]
    assert len(handled) == 2
    moved = [p for places in rs.mail_placement(corpus, before).values() for p in places if p.startswith(".Processed")]
    assert moved == [], "the mailbox action ran before the run's commits were done"
    receipts = snapshot_of(config)["receipts"]

    rerun = bench.run(config, tmp_path / "logs-rerun")
    assert rerun.returncode == 0, rerun.describe()
    after = snapshot_of(config)
    assert set(receipts) <= set(after["receipts"])
    assert after == bench.reference["main"]
    check_final_state(corpus, config, before)
    assert rs.table_counts(config) == bench.counts["main"]
    bench.runs += 1
    bench.kills.append("mail.commit.after:2")


@pytest.mark.parametrize("round_", range(RANDOM_KILLS))
def test_power_cut_at_a_random_moment_then_rerun_equals_clean_run(bench: Bench, tmp_path: Path, round_: int) -> None:
    """The whole process tree killed at once, at a seeded random moment of a cached run."""
    # Start-up (imports) takes about half of a cached run; kill somewhere in the rest of it.
    delay = random.Random(SEED + round_).uniform(0.45, 0.9) * max(2.0, bench.warm_seconds)
    crashed, _ = kill_then_rerun(bench, tmp_path, "main", kill_after=delay)
    bench.kills.append(f"random@{delay:.1f}s" + ("" if crashed.killed else "(ended first)"))
