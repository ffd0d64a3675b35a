"""Commands that only read (metrics, report, review list, dispositions) never migrate the ledger: a
schema change is the DBA's, by ``detainer-intake db upgrade``; the writers and the run still migrate."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from core.errors import LedgerError
from detainer_intake.commands.ledger import db_upgrade_command, metrics_command
from detainer_intake.commands.reports import dispositions_command
from detainer_intake.commands.review import review_list_command
from ledger.db import current_revision, head_revision, make_engine, upgrade
from tests.report_support import settings_for

READERS = {
    "metrics": lambda s: metrics_command(s, 2025, as_json=True),
    "dispositions": lambda s: dispositions_command(s, 2025, as_json=True),
    "review list": lambda s: review_list_command(s, as_json=True),
}


def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize("command", sorted(READERS))
def test_a_reader_leaves_an_older_schema_alone_and_names_the_upgrade(tmp_path: Path, command: str) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgrade(url, "0001")
    settings = settings_for(url, tmp_path)
    with pytest.raises(LedgerError, match="db upgrade"):
        READERS[command](settings)
    assert _revision(url) == "0001"


def test_a_reader_creates_no_schema_in_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with pytest.raises(LedgerError, match="db upgrade"):
        READERS["metrics"](settings_for(url, tmp_path))
    engine = make_engine(url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_db_upgrade_migrates_then_readers_work(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgrade(url, "0001")
    settings = settings_for(url, tmp_path)
    assert db_upgrade_command(settings) == 0
    assert _revision(url) == head_revision()
    assert all(read(settings) == 0 for read in READERS.values())
