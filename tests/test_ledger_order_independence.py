"""The ledger's requests, links, reviews and metrics depend only on what arrived: any processing order,
recording twice, a rebuild and concurrent writers give the same state."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from ingest.models import Receipt
from ledger import schema
from ledger.db import open_ledger
from ledger.store import Ledger
from parsing.models import DetainerRequest, ExtractionResult
from tests import ledger_support as testing
from tests.ledger_support import NY, T0, detainer, extraction, receipt


def _inputs() -> list[tuple[Receipt, ExtractionResult | None, tuple[str, str] | None]]:
    p1 = {
        "file_number": "A012345678",
        "subject_name": "MARIA ELENA LOPEZ",
        "date_of_birth": date(1988, 4, 12),
    }
    p2 = {"file_number": "A000111222", "subject_name": "JOSE LUIS PEREZ", "date_of_birth": date(1979, 9, 30)}
    p3 = {"file_number": None, "subject_name": "ANA RUIZ", "date_of_birth": date(1990, 1, 2)}
    q1 = detainer(**p1, event_number="E100", issued_date=date(2025, 3, 1))
    q1b = detainer(**p1, event_number="E200", issued_date=date(2025, 7, 1))  # same person, new detainer
    q2 = detainer(**p2, event_number="E300", issued_date=date(2025, 3, 2))
    q3 = detainer(**p3, event_number=None, issued_date=date(2025, 5, 5))
    cancel = detainer(
        **p1,
        event_number=None,
        issued_date=date(2025, 8, 1),
        cancels_previous=True,
        cancelled_detainer_date=date(2025, 3, 1),
    )
    d = timedelta(days=1)
    h = timedelta(hours=1)

    def alter(base: DetainerRequest, **changes) -> DetainerRequest:
        return base.model_copy(update=changes)

    q1_no_event = alter(q1, event_number=None)
    q2_typo = alter(q2, subject_name="JOSE LUIS PERES")
    q3_ocr = alter(q3, subject_name="ANA RUlZ")
    q2_later = alter(q2, event_number="E301", issued_date=date(2025, 7, 2))
    # A bad fax: A-number one digit off, event number, birth and issue dates unread; the name read right.
    q2_bad = alter(q2, file_number="A000111223", event_number=None, date_of_birth=None, issued_date=None)
    q0 = alter(q2, event_number="E000", issued_date=date(2024, 12, 30))
    new_year_eve = datetime(2024, 12, 31, 23, 0, tzinfo=UTC)  # 18:00 in New York: a 2024 request
    inputs = [
        (receipt("a", "q1-fax", T0), extraction("q1-fax", q1), None),
        (receipt("b", "q1-st", T0 + h, "station_fax", "C-6"), extraction("q1-st", q1_no_event), None),
        (receipt("c", "q1-fax", T0 + 2 * h, "bfs_email"), extraction("q1-fax", q1), None),
        (receipt("d", "q2", T0, "station_fax", "B-2"), extraction("q2", q2), None),  # same instant as "a"
        (receipt("e", "q2-m", T0 + d, "bfs_email"), extraction("q2-m", q2_typo), None),
        (receipt("f", "q3", T0 + 60 * d, "bfs_email"), extraction("q3", q3), None),
        (receipt("g", "q3-st", T0 + 60 * d + h, "station_fax", "A-1"), extraction("q3-st", q3_ocr), None),
        (receipt("h", "q1b", T0 + 120 * d), extraction("q1b", q1b), None),
        (receipt("i", "two", T0 + 121 * d), extraction("two", q1b, q2_later), None),
        (receipt("j", "cancel", T0 + 150 * d, "station_fax", "E-18"), extraction("cancel", cancel), None),
        (receipt("k", "letter", T0 + 3 * d, "station_fax", "C-6"), extraction("letter"), None),
        (receipt("l", "broken", T0 + 4 * d, "bfs_email"), None, ("truncated", "input ends early")),
        (receipt("m", "q0", new_year_eve), extraction("q0", q0), None),
        (receipt("n", "q2-bad", T0 + 2 * d, "station_fax", "D-4"), extraction("q2-bad", q2_bad), None),
    ]  # fmt: skip
    return inputs


def _state(ledger: Ledger) -> dict:
    requests = {
        (r.id, r.receipt_keys, r.copy_keys, r.cancelled_by, r.first_channel, r.first_station) for r in ledger.requests()
    }
    with ledger.engine.connect() as connection:
        links = set(
            connection.execute(
                select(
                    schema.Document.sha256, schema.DetainerCopy.index, schema.RequestLink.request_id,
                    schema.RequestLink.rule, schema.RequestLink.score,
                )
                .join(schema.DetainerCopy, schema.DetainerCopy.id == schema.RequestLink.copy_id)
                .join(schema.Document, schema.Document.id == schema.DetainerCopy.document_id)
            ).tuples()
        )  # fmt: skip
        cancels = set(connection.execute(select(schema.Cancellation.request_id, schema.Cancellation.rule)).tuples())
    reviews = {(i.key if hasattr(i, "key") else i.copy_key, i.kind, i.default_decision) for i in ledger.review_items()}
    return {
        "requests": requests,
        "links": links,
        "cancellations": cancels,
        "reviews": reviews,
        "metrics": (ledger.metrics(2025, NY), ledger.metrics(2024, NY)),
    }


def test_any_processing_order_gives_identical_requests_links_and_metrics(ledger_url, tmp_path):
    inputs = _inputs()
    orders = [inputs, inputs[::-1]]
    shuffled = inputs[:]
    random.Random(7).shuffle(shuffled)
    orders.append(shuffled)
    states = []
    for n, order in enumerate(orders):
        with testing.ledger_url(
            "sqlite" if ledger_url.startswith("sqlite") else "postgresql", tmp_path / str(n)
        ) as url:
            opened = open_ledger(url)
            try:
                for item in order:
                    opened.record(item[0], item[1], quarantine=item[2])
                for item in order:  # twice: nothing changes
                    assert opened.record(item[0], item[1], quarantine=item[2]).status == "already_known"
                states.append(_state(opened))
                assert opened.rebuild() > 0
                assert _state(opened) == states[-1]
            finally:
                opened.close()
    assert states[0] == states[1] == states[2]
    m = states[0]["metrics"][0]
    assert m["unique_requests"] == 5  # q1, q2, q3, q1b, q2' (q0 is 2024; the cancellation is no request)
    assert m["cancellations"] == 1 and m["decoys"] == 1 and m["quarantined"] == 1
    assert m["first_channel_counts"] == {"dedicated_fax": 3, "station_fax": 1, "bfs_email": 1}
    assert m["duplicates_merged"] == 6  # b, c, e, g, n, i (carries q1b again)
    assert states[0]["metrics"][1]["unique_requests"] == 1
    assert len(states[0]["requests"]) == 6
    [cancelled] = [r for r in states[0]["requests"] if r[3]]
    assert cancelled[1][0] == "a"  # the March detainer, not the July one
    [q2_request] = [r for r in states[0]["requests"] if "d" in r[1]]
    assert q2_request[1] == ("d", "e", "n")  # the bad fax joined its request through the name


def test_concurrent_writers_give_the_sequential_result(ledger_url, tmp_path):
    """Several workers committing at once (as Dask tasks would): serialised, nothing lost or doubled."""
    from concurrent.futures import ThreadPoolExecutor

    inputs = _inputs()
    opened = open_ledger(ledger_url)
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda item: opened.record(item[0], item[1], quarantine=item[2]), inputs * 2))
        concurrent = _state(opened)
    finally:
        opened.close()
    kind = "sqlite" if ledger_url.startswith("sqlite") else "postgresql"
    with testing.ledger_url(kind, tmp_path / "seq") as url:
        sequential = open_ledger(url)
        try:
            for item in inputs:
                sequential.record(item[0], item[1], quarantine=item[2])
            assert _state(sequential) == concurrent
        finally:
            sequential.close()
