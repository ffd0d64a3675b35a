"""``detainer-intake db upgrade --sql`` prints the migrations as SQL (Alembic's offline mode) for a DBA
to review, for the ledger URL's kind of database (SQLite, PostgreSQL), without touching the database:
no connection, no file created, no revision changed. Applied to an empty database, the script gives
the schema ``db upgrade`` gives."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from detainer_intake.cli import app
from ledger.db import MIGRATIONS, current_revision, head_revision, make_engine, upgrade
from tests.ledger_support import pg_schema_url

CLOSED_PORT_PG = "postgresql+psycopg://intake:secret@127.0.0.1:1/nowhere"  # nothing listens: a connection would fail


def _latest_created_table() -> str:
    """The table the newest migration that creates one creates (``op.create_table("name"``)."""
    for script in sorted((MIGRATIONS / "versions").glob("[0-9]*.py"), reverse=True):
        found = re.findall(r'create_table\(\s*"(\w+)"', script.read_text(encoding="utf-8"))
        if found:
            return found[-1]
    raise AssertionError("no migration creates a table")


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[ledger]\nurl = "{url}"\n[archive]\npath = "{tmp_path / "archive"}"\n', encoding="utf-8")
    return path


def _script(tmp_path: Path, url: str, *options: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["db", "upgrade", "--sql", *options, "--config", str(_config(tmp_path, url))])
    return result.exit_code, result.output


def _sqlite_schema(path: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return sorted((kind, name, table, " ".join((sql or "").split())) for kind, name, table, sql in rows)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sqlite_script_creates_the_latest_table_and_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0003")
    before = _digest(path)
    code, script = _script(tmp_path, url)
    assert code == 0, script
    assert f"CREATE TABLE {_latest_created_table()} (" in script
    assert f"UPDATE alembic_version SET version_num='{head_revision()}'" in script
    assert _digest(path) == before
    engine = make_engine(url)
    try:
        assert current_revision(engine) == "0003"
    finally:
        engine.dispose()


def test_a_script_for_a_database_not_yet_made_makes_none(tmp_path: Path) -> None:
    path = tmp_path / "new" / "ledger.db"
    code, script = _script(tmp_path, f"sqlite:///{path}")
    assert code == 0, script
    assert not path.parent.exists()


def test_the_sqlite_script_gives_the_schema_db_upgrade_gives(tmp_path: Path) -> None:
    online, offline = tmp_path / "online.db", tmp_path / "offline.db"
    upgrade(f"sqlite:///{online}")
    code, script = _script(tmp_path, f"sqlite:///{offline}")
    assert code == 0, script
    with sqlite3.connect(offline) as connection:
        connection.executescript(script)
    assert _sqlite_schema(offline) == _sqlite_schema(online)


def test_postgresql_script_is_written_without_a_connection(tmp_path: Path) -> None:
    code, script = _script(tmp_path, CLOSED_PORT_PG)
    assert code == 0, script
    assert f"CREATE TABLE {_latest_created_table()} (" in script
    assert "BEGIN;" in script and "COMMIT;" in script
    assert "TIMESTAMP WITH TIME ZONE" in script  # PostgreSQL's dialect, not SQLite's
    assert "secret" not in script


@pytest.mark.postgres
def test_the_postgresql_script_gives_the_schema_db_upgrade_gives(tmp_path: Path) -> None:
    with pg_schema_url() as online, pg_schema_url() as offline:
        upgrade(online)
        code, script = _script(tmp_path, offline)
        assert code == 0, script
        applied, reference = create_engine(offline), create_engine(online)
        try:
            with applied.connect() as connection:
                connection.exec_driver_sql(script)  # BEGIN; ... COMMIT; as a DBA's psql would run it
                connection.commit()
                revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert sorted(inspect(applied).get_table_names()) == sorted(inspect(reference).get_table_names())
            for table in inspect(reference).get_table_names():
                columns = [c["name"] for c in inspect(reference).get_columns(table)]
                assert [c["name"] for c in inspect(applied).get_columns(table)] == columns, table
        finally:
            applied.dispose()
            reference.dispose()
        assert revision == head_revision()


def test_a_script_from_before_a_migration_that_moves_rows_is_refused(tmp_path: Path) -> None:
    code, output = _script(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}", "--from", "0003")
    assert code == 6
    assert "0004" in output and "db upgrade" in output
    code, output = _script(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}", "--from", "0099")
    assert code == 6 and "0099" in output


def test_from_goes_only_with_sql(tmp_path: Path) -> None:
    config = _config(tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}")
    result = CliRunner().invoke(app, ["db", "upgrade", "--from", "0003", "--config", str(config)])
    assert result.exit_code == 2
    assert "only with --sql" in result.output
    assert not (tmp_path / "ledger.db").exists()
