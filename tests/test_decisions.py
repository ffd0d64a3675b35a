"""The decision log: every operator act is a new row, the current state is the latest row, and the
database refuses to change or delete a recorded act (SQLite and PostgreSQL)."""

from __future__ import annotations

import getpass
import json
import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from ledger import schema
from ledger.db import make_engine, open_ledger, upgrade
from tests.ledger_support import T0, count, detainer, extraction, receipt, sha


def _decisions(ledger, kind):
    with ledger.engine.connect() as connection:
        return connection.execute(
            select(schema.Decision).where(schema.Decision.kind == kind).order_by(schema.Decision.id)
        ).all()


def test_two_corrections_of_a_field_leave_two_rows_with_their_actor_and_the_latest_wins(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    key = f"{sha('d1')}:0"
    ledger.correct(key, "event_number", "BOS2503000222", who="clerk1", why="read on the page")
    ledger.correct(key, "event_number", "BOS2503000333", who="clerk2", why="sender's call")
    assert ledger.copies(sha("d1"))[0]["fields"]["event_number"] == "BOS2503000333"
    with ledger.engine.connect() as connection:
        rows = connection.execute(select(schema.Correction).order_by(schema.Correction.id)).all()
    assert [(r.who, r.why, json.loads(r.old_value), json.loads(r.new_value)) for r in rows] == [
        ("clerk1", "read on the page", "BOS2503000111", "BOS2503000222"),
        ("clerk2", "sender's call", "BOS2503000222", "BOS2503000333"),
    ]
    assert {r.os_user for r in rows} == {getpass.getuser()} and {r.host for r in rows} == {socket.gethostname()}


def test_a_changed_disposition_is_a_second_decision_and_the_current_one_is_the_latest(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    [req] = ledger.requests()
    ledger.set_disposition(req.id, "detained", who="lt1", reimbursement="125.50", note="held 48h")
    ledger.set_disposition(req.id, "not_acted_upon", who="lt2", why="entered on the wrong request")
    current = ledger.disposition(req.id)
    assert current is not None
    assert (current["outcome"], current["reimbursement"], current["who"]) == ("not_acted_upon", None, "lt2")
    rows = _decisions(ledger, "disposition")
    assert len(rows) == 2 and count(ledger, schema.Disposition) == 1
    assert json.loads(rows[1].old_value) == {"outcome": "detained", "reimbursement": "125.50", "note": "held 48h"}
    assert json.loads(rows[1].new_value)["outcome"] == "not_acted_upon"
    assert (rows[0].why, rows[1].why) == ("held 48h", "entered on the wrong request")
    history = ledger.disposition_history(req.id)
    assert [(h["outcome"], h["who"]) for h in history] == [("detained", "lt1"), ("not_acted_upon", "lt2")]
    assert history[0]["reimbursement"] == "125.50" and history[1]["os_user"] == getpass.getuser()


def test_a_merge_then_a_split_leave_two_rulings_and_the_split_holds(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    ledger.record(
        receipt("r2", "d2", T0 + timedelta(hours=2), "bfs_email"),
        extraction("d2", detainer(event_number="BOS2503000777", file_number="A099999999")),
    )
    a, b = f"{sha('d1')}:0", f"{sha('d2')}:0"
    assert len(ledger.requests()) == 2
    ledger.merge(b, a, who="supervisor", why="same person, same day")
    assert len(ledger.requests()) == 1
    ledger.separate(a, b, who="captain", why="two detainers")
    assert len(ledger.requests()) == 2
    rows = _decisions(ledger, "match")
    assert [(json.loads(r.new_value), r.who, r.why) for r in rows] == [
        (True, "supervisor", "same person, same day"),
        (False, "captain", "two detainers"),
    ]
    assert rows[1].old_value == "true"
    with ledger.engine.connect() as connection:
        [current] = connection.execute(select(schema.MatchDecision.same, schema.MatchDecision.who)).all()
    assert tuple(current) == (False, "captain")
    ledger.merge(a, b, who="chief", why="reversed again")  # a reversal is one more row
    assert len(ledger.requests()) == 1 and len(_decisions(ledger, "match")) == 3


def test_resolving_a_review_item_is_a_decision(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer(needs_review=True)))
    [item] = ledger.review_items(kind="copy")
    ledger.resolve_review(item.id, "accept", who="sgt", why="checked the page")
    [row] = _decisions(ledger, "review")
    assert (row.subject, row.who, row.why, json.loads(row.new_value)["resolution"]) == (
        item.key,
        "sgt",
        "checked the page",
        "accept",
    )
    [resolved] = ledger.review_items(status="resolved", kind="copy")
    assert resolved.resolved_by == "sgt"


@pytest.mark.parametrize("table", ["decisions", "corrections"])
def test_the_database_refuses_to_change_or_delete_a_recorded_act(ledger, table):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    [req] = ledger.requests()
    ledger.set_disposition(req.id, "detained", who="lt1")
    ledger.correct(f"{sha('d1')}:0", "event_number", "BOS2503000222", who="clerk1")
    for statement in (f"UPDATE {table} SET who = 'someone else'", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"), ledger.engine.begin() as connection:
            connection.execute(text(statement))
    with ledger.engine.connect() as connection:
        assert connection.scalar(text(f"SELECT count(*) FROM {table} WHERE who <> 'someone else'")) == 1
    # The application's own path appends: a reversal is a new row.
    ledger.set_disposition(req.id, "transferred", who="lt1")
    ledger.correct(f"{sha('d1')}:0", "event_number", "BOS2503000111", who="clerk1")
    with ledger.engine.connect() as connection:
        assert connection.scalar(text(f"SELECT count(*) FROM {table}")) == 2


def test_upgrading_an_older_ledger_moves_its_rulings_dispositions_and_resolutions_into_the_log(ledger_url):
    upgrade(ledger_url, "0003")
    at = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
    engine = make_engine(ledger_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(schema.MatchDecision.__table__).values(copy_a="a:0", copy_b="b:0", same=True, who="sup", at=at)
            )
            connection.execute(
                insert(schema.Disposition.__table__).values(
                    request_id="REQ-1", founding_copy_key="a:0", outcome="detained",
                    reimbursement=Decimal("10.00"), note="n", who="lt", at=at,
                )
            )
            connection.execute(
                insert(schema.ReviewItem.__table__).values(
                    key="copy:a:0", kind="copy", status="resolved", reason="r", copy_key="a:0",
                    resolution="accept", resolved_by="sgt", resolved_at=at, created_at=at,
                )
            )
            connection.execute(
                insert(schema.ReviewItem.__table__).values(
                    key="copy:c:0", kind="copy", status="resolved", reason="r", resolution="superseded",
                    created_at=at,
                )
            )
    finally:
        engine.dispose()
    ledger = open_ledger(ledger_url)
    try:
        rows = [(r.kind, r.subject, r.who, json.loads(r.new_value), r.at, r.os_user) for r in (
            _decisions(ledger, "match") + _decisions(ledger, "review") + _decisions(ledger, "disposition")
        )]
        assert rows == [
            ("match", "a:0|b:0", "sup", True, at, None),
            ("review", "copy:a:0", "sgt", "accept", at, None),
            ("disposition", "REQ-1", "lt", {"outcome": "detained", "reimbursement": "10.00", "note": "n"}, at, None),
        ]
        with pytest.raises(DBAPIError, match="append-only"), ledger.engine.begin() as connection:
            connection.execute(text("DELETE FROM decisions"))
    finally:
        ledger.close()


def test_the_disposition_history_follows_the_request_when_its_id_changes(ledger):
    ledger.record(receipt("late", "d1", T0 + timedelta(hours=5), "bfs_email"), extraction("d1", detainer()))
    [before] = ledger.requests()
    ledger.set_disposition(before.id, "detained", who="lt1", note="held 48h")
    ledger.record(receipt("early", "d2", T0, "station_fax", "C-6"), extraction("d2", detainer()))
    [after] = ledger.requests()
    assert after.id != before.id  # the earlier copy founds the request now
    ledger.set_disposition(after.id, "transferred", who="lt2", why="the jail's record")
    history = ledger.disposition_history(after.id)
    assert [(h["outcome"], h["who"], h["request_id"]) for h in history] == [
        ("detained", "lt1", before.id),
        ("transferred", "lt2", after.id),
    ]
    assert ledger.disposition(after.id)["outcome"] == "transferred"
    [_, second] = _decisions(ledger, "disposition")
    assert json.loads(second.old_value)["outcome"] == "detained"  # what it changed from, under the old id
