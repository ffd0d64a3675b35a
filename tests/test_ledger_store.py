"""The ledger store on SQLite and PostgreSQL: atomic commits, idempotence, order independence,
corrections, review queue, intake state, run lock."""

from __future__ import annotations

import hashlib
import os
import random
import stat
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from core.errors import LedgerError, RunLocked
from ingest.models import MailMessage, Receipt
from ledger import mail_state, recording, regrouping, schema
from ledger.db import head_revision, make_engine, open_ledger, upgrade
from ledger.store import Ledger
from parsing.models import DetainerRequest, ExtractionResult, PageResult
from tests import ledger_support as testing

NY = "America/New_York"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request, tmp_path):
    with testing.ledger_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def ledger(ledger_url):
    opened = open_ledger(ledger_url)
    yield opened
    opened.close()


# --------------------------------------------------------------------------- builders


def sha(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def receipt(
    key: str, content: str, when: datetime, channel: str = "dedicated_fax", station: str | None = None
) -> Receipt:
    return Receipt(
        channel=channel,
        station=station if channel == "station_fax" else None,
        source_key=key,
        received_at=when,
        file_name=f"{key}.tif",
        sha256=sha(content),
        size=100,
    )


def detainer(**overrides) -> DetainerRequest:
    base = {
        "form_type": "I-247A",
        "file_number": "A012345678",
        "event_number": "BOS2503000111",
        "issued_date": date(2025, 3, 1),
        "subject_name": "MARIA ELENA LOPEZ",
        "date_of_birth": date(1988, 4, 12),
    }
    base.update(overrides)
    return DetainerRequest.model_validate(base)


def extraction(content: str, *detainers: DetainerRequest) -> ExtractionResult:
    pages = [PageResult(page=i + 1, kind="detainer_p1") for i in range(len(detainers))] or [
        PageResult(page=1, kind="other")
    ]
    return ExtractionResult(sha256=sha(content), pages=pages, detainers=list(detainers))


T0 = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def count(ledger: Ledger, table) -> int:
    with ledger.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(table))


# --------------------------------------------------------------------------- store


def test_migrations_create_exactly_the_declared_schema(ledger_url):
    upgrade(ledger_url)
    upgrade(ledger_url)  # idempotent
    engine = make_engine(ledger_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert context.get_current_revision() == head_revision()
            assert compare_metadata(context, schema.Base.metadata) == []
    finally:
        engine.dispose()


def test_sqlite_file_is_private_and_in_wal_mode(tmp_path):
    url = f"sqlite:///{tmp_path / 'deep' / 'dir' / 'ledger.db'}"
    ledger = open_ledger(url)
    try:
        assert stat.S_IMODE(os.stat(tmp_path / "deep" / "dir").st_mode) == 0o700
        assert stat.S_IMODE(os.stat(tmp_path / "deep" / "dir" / "ledger.db").st_mode) == 0o600
        with ledger.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    finally:
        ledger.close()


def test_record_is_idempotent_per_source_key(ledger):
    first = ledger.record(receipt("r1", "doc1", T0), extraction("doc1", detainer()))
    again = ledger.record(receipt("r1", "doc1", T0), extraction("doc1", detainer()))
    assert first.status == "recorded" and first.new_document and first.copies == 1
    assert again.status == "already_known" and again.receipt_id == first.receipt_id
    assert again.request_ids == first.request_ids
    assert count(ledger, schema.Receipt) == 1 and count(ledger, schema.DetainerCopy) == 1
    assert ledger.is_known("r1") and not ledger.is_known("r2")


def test_identical_bytes_on_two_channels_are_one_document_and_one_request(ledger):
    a = ledger.record(receipt("r1", "doc1", T0), extraction("doc1", detainer()))
    b = ledger.record(receipt("r2", "doc1", T0 + timedelta(hours=1), "bfs_email"), extraction("doc1", detainer()))
    assert not b.new_document and b.request_ids == a.request_ids
    assert count(ledger, schema.Document) == 1 and count(ledger, schema.Receipt) == 2
    [req] = ledger.requests()
    assert req.receipt_keys == ("r1", "r2") and req.channels == ("dedicated_fax", "bfs_email")
    assert req.receipt_rules == ("first", "same_content")
    m = ledger.metrics(2025, NY)
    assert m["unique_requests"] == 1 and m["duplicates_merged"] == 1
    assert m["copies_per_channel"] == {"dedicated_fax": 1, "station_fax": 0, "bfs_email": 1}


def test_extraction_for_returns_what_was_read_once(ledger):
    assert ledger.extraction_for(sha("doc1")) is None
    result = extraction("doc1", detainer())
    ledger.record(receipt("r1", "doc1", T0), result)
    assert ledger.extraction_for(sha("doc1")) == result
    ledger.record(receipt("r2", "bad", T0), None, quarantine=("truncated", "the input ends early"))
    bad = ledger.extraction_for(sha("bad"))
    assert bad is not None and bad.error_reason == "truncated" and bad.detainers == []


def test_extraction_must_match_the_receipt(ledger):
    with pytest.raises(LedgerError):
        ledger.record(receipt("r1", "doc1", T0), extraction("other", detainer()))
    assert count(ledger, schema.Receipt) == 0


def test_quarantined_inputs_are_counted_and_queued_for_review(ledger):
    ledger.record(receipt("r1", "bad", T0), None, quarantine=("encrypted", "password-protected PDF"))
    error = ExtractionResult(sha256=sha("bad2"), error="not a document", error_reason="unsupported_format")
    outcome = ledger.record(receipt("r2", "bad2", T0), error)
    assert outcome.parse_status == "quarantined"
    assert count(ledger, schema.Quarantine) == 2
    items = ledger.review_items(kind="quarantine")
    assert sorted(i.reason for i in items) == ["encrypted", "unsupported_format"]
    m = ledger.metrics(2025, NY)
    assert (m["quarantined"], m["decoys"], m["unique_requests"], m["awaiting_review"]) == (2, 0, 0, 2)


def test_reprocessing_a_quarantined_input_that_now_reads(ledger):
    ledger.record(receipt("r1", "d1", T0), None, quarantine=("unreadable", "no page could be read"))
    assert ledger.metrics(2025, NY)["quarantined"] == 1
    ledger.reprocess(extraction("d1", detainer()))
    m = ledger.metrics(2025, NY)
    assert (m["quarantined"], m["unique_requests"], m["awaiting_review"]) == (0, 1, 0)
    assert count(ledger, schema.Quarantine) == 0
    ledger.reprocess(ExtractionResult(sha256=sha("d1"), error="cannot read", error_reason="unreadable"))
    m = ledger.metrics(2025, NY)
    assert (m["quarantined"], m["unique_requests"], m["awaiting_review"]) == (1, 0, 1)
    assert count(ledger, schema.DetainerCopy) == 0 and count(ledger, schema.Request) == 0


def test_pending_document_is_completed_by_a_later_record(ledger):
    pending = ledger.record(receipt("r1", "doc1", T0), None)
    assert pending.parse_status == "pending" and ledger.extraction_for(sha("doc1")) is None
    assert ledger.metrics(2025, NY)["unique_requests"] == 0
    done = ledger.record(receipt("r1", "doc1", T0), extraction("doc1", detainer()))
    assert done.status == "completed" and done.parse_status == "parsed" and len(done.request_ids) == 1
    assert ledger.metrics(2025, NY)["unique_requests"] == 1


def test_decoys_are_counted_but_carry_no_copies(ledger):
    ledger.record(receipt("r1", "letter", T0, "station_fax", "C-6"), extraction("letter"))
    m = ledger.metrics(2025, NY)
    assert m["decoys"] == 1 and m["copies_per_channel"]["station_fax"] == 0 and m["by_station"] == {}


@pytest.mark.parametrize(
    ("part", "where"), [(regrouping, "reassign"), (recording, "write_copies"), (recording, "after_arrival")]
)
def test_a_crash_mid_record_leaves_nothing_behind(ledger, monkeypatch, part, where):
    ledger.record(receipt("r0", "doc0", T0), extraction("doc0", detainer()))
    before = {t: count(ledger, t) for t in (schema.Document, schema.Receipt, schema.DetainerCopy, schema.Request)}

    def boom(*args, **kwargs):
        raise RuntimeError("injected crash")

    monkeypatch.setattr(part, where, boom)
    with pytest.raises(RuntimeError, match="injected"):
        ledger.record(
            receipt("r1", "doc1", T0 + timedelta(hours=1), "station_fax", "B-2"),
            extraction("doc1", detainer(event_number=None), detainer(file_number="A999999999", event_number="X1")),
        )
    monkeypatch.undo()
    after = {t: count(ledger, t) for t in before}
    assert after == before
    assert count(ledger, schema.RequestLink) == 1
    assert not ledger.is_known("r1")
    # ...and the retry commits everything.
    retry = ledger.record(
        receipt("r1", "doc1", T0 + timedelta(hours=1), "station_fax", "B-2"),
        extraction("doc1", detainer(event_number=None), detainer(file_number="A999999999", event_number="X1")),
    )
    assert retry.status == "recorded" and len(retry.request_ids) == 2


def test_times_are_stored_in_utc_and_years_counted_in_the_department_zone(ledger):
    # 2025-01-01 03:00 UTC is still New Year's Eve in New York.
    ledger.record(receipt("r1", "doc1", datetime(2025, 1, 1, 3, 0, tzinfo=UTC)), extraction("doc1", detainer()))
    [req] = ledger.requests()
    assert req.first_received_at == datetime(2025, 1, 1, 3, 0, tzinfo=UTC)
    assert ledger.metrics(2024, NY)["unique_requests"] == 1
    assert ledger.metrics(2025, NY)["unique_requests"] == 0
    assert ledger.metrics(2025, "UTC")["unique_requests"] == 1
    assert ledger.metrics(2024, NY)["by_month"]["2024-12"]["dedicated_fax"] == 1


def test_metrics_shape_and_rates(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    ledger.record(
        receipt("r2", "d2", T0, "station_fax", "C-6"), extraction("d2", detainer(file_number="A1", event_number="E1"))
    )
    ledger.record(
        receipt("r3", "d3", T0 + timedelta(days=40), "bfs_email"),
        extraction("d3", detainer(file_number="A2", event_number="E2", subject_name="X Y")),
    )
    m = ledger.metrics(2025, NY)
    assert m["unique_requests"] == 3
    assert m["first_channel_counts"] == {"dedicated_fax": 1, "station_fax": 1, "bfs_email": 1}
    assert m["dedicated_line_rate"] == round(1 / 3, 4) == m["dedicated_line_any_rate"]
    assert list(m["by_month"]) == [f"2025-{i:02d}" for i in range(1, 13)]
    assert m["by_month"]["2025-03"] == {"dedicated_fax": 1, "station_fax": 1, "bfs_email": 0, "total": 2}
    assert m["by_month"]["2025-04"]["total"] == 1
    assert m["by_station"] == {"C-6": 1}
    empty = ledger.metrics(2023, NY)
    assert empty["unique_requests"] == 0 and empty["dedicated_line_rate"] == 0.0


# --------------------------------------------------------------------------- order independence


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


# ------------------------------------------------------------------ corrections, review, dispositions


def test_correction_takes_precedence_and_survives_reprocessing(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    misread = detainer(event_number="BOS2503000777")  # OCR misread: looks like a second detainer
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=2), "bfs_email"), extraction("d2", misread))
    assert len(ledger.requests()) == 2
    [copy] = ledger.copies(sha("d2"))
    ledger.correct(copy["id"], "event_number", "BOS2503000111", who="clerk1")
    [req] = ledger.requests()
    assert req.receipt_keys == ("r1", "r2")
    assert count(ledger, schema.Correction) == 1
    # The parser runs again over the same bytes and misreads again: the correction still wins.
    ledger.reprocess(extraction("d2", misread))
    assert len(ledger.requests()) == 1
    assert ledger.copies(sha("d2"))[0]["fields"]["event_number"] == "BOS2503000111"
    # The stored OCR values are untouched: the correction is kept apart.
    assert ledger.extraction_for(sha("d2")).detainers[0].event_number == "BOS2503000777"


def test_correction_can_split_and_cancel(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=2)), extraction("d2", detainer()))
    assert len(ledger.requests()) == 1
    key = f"{sha('d2')}:0"
    ledger.correct(key, "cancels_previous", True, who="clerk1")
    ledger.correct(key, "cancelled_detainer_date", date(2025, 3, 1), who="clerk1")
    [req] = ledger.requests()
    assert req.receipt_keys == ("r1",) and req.cancelled_by == (key,)
    with pytest.raises(LedgerError):
        ledger.correct(key, "issued_date", "not a date", who="clerk1")
    with pytest.raises(LedgerError):
        ledger.correct(key, "no_such_field", 1, who="clerk1")


def test_an_event_number_read_with_low_confidence_cannot_split_a_request(ledger):
    from parsing.models import FieldEvidence

    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    garbled = detainer(
        event_number="HUR2900704490",
        file_number="A012345679",
        evidence={"event_number": FieldEvidence(page=1, confidence=0.44)},
    )
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=1), "station_fax", "C-6"), extraction("d2", garbled))
    [req] = ledger.requests()
    assert req.receipt_rules == ("first", "fuzzy")
    [item] = ledger.review_items(kind="match")
    assert "event_unsure" in item.reason
    # An operator who reads the page and types a different event number is sure: now it vetoes.
    ledger.correct(f"{sha('d2')}:0", "event_number", "NYC2504000001", who="clerk1")
    assert len(ledger.requests()) == 2
    assert ledger.review_items(kind="match") == []


def test_a_birth_date_read_with_low_confidence_cannot_hide_a_near_miss(ledger):
    from parsing.models import FieldEvidence

    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    poor = detainer(file_number=None, event_number=None, date_of_birth=date(2010, 4, 12),
                    evidence={"date_of_birth": FieldEvidence(page=1, confidence=0.6)})
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=1), "station_fax", "C-6"), extraction("d2", poor))
    assert len(ledger.requests()) == 2  # a name alone never merges
    [item] = ledger.review_items(kind="match")
    assert item.reason == "name_and_arrival_near"


def test_low_confidence_match_goes_to_review_and_the_decision_sticks(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer(file_number=None, event_number=None)))
    noisy = detainer(file_number=None, event_number=None, subject_name="MARIA ELENA LOPEK")
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=1), "bfs_email"), extraction("d2", noisy))
    assert len(ledger.requests()) == 1  # default decision: merged
    [item] = ledger.review_items(kind="match")
    assert item.default_decision == "merge" and item.score < 95
    assert ledger.metrics(2025, NY)["awaiting_review"] == 1
    ledger.resolve_review(item.id, "separate", who="supervisor")
    assert len(ledger.requests()) == 2
    assert ledger.review_items(kind="match") == []
    ledger.rebuild()
    ledger.reprocess(extraction("d2", noisy))
    assert len(ledger.requests()) == 2
    assert ledger.metrics(2025, NY)["awaiting_review"] == 0


def test_operator_merge_of_two_requests(ledger):
    ledger.record(receipt("r1", "d1", T0), extraction("d1", detainer()))
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=1)), extraction("d2", detainer(event_number="OTHER")))
    assert len(ledger.requests()) == 2
    ledger.merge(f"{sha('d2')}:0", f"{sha('d1')}:0", who="supervisor")
    [req] = ledger.requests()
    assert req.receipt_keys == ("r1", "r2") and req.receipt_rules == ("first", "operator_merge")
    assert ledger.copies(sha("d2"))[0]["rule"] == "operator_merge"


def test_copy_flagged_by_the_parser_is_queued_for_review(ledger):
    flagged = detainer(needs_review=True, review_reasons=["file_number", "low_confidence"])
    ledger.record(receipt("r1", "d1", T0), extraction("d1", flagged))
    [item] = ledger.review_items(kind="copy")
    assert item.reason == "file_number,low_confidence" and item.copy_key == f"{sha('d1')}:0"
    ledger.resolve_review(item.id, "confirmed", who="clerk1")
    assert ledger.review_items() == []
    assert ledger.review_items(status="resolved")[0].resolution == "confirmed"


def test_disposition_follows_its_request_when_an_earlier_copy_arrives_late(ledger):
    ledger.record(receipt("late", "d1", T0 + timedelta(hours=5), "bfs_email"), extraction("d1", detainer()))
    [before] = ledger.requests()
    ledger.set_disposition(before.id, "detained", who="lt1", reimbursement="125.50", note="held 48h")
    ledger.record(receipt("early", "d2", T0, "station_fax", "C-6"), extraction("d2", detainer()))
    [after] = ledger.requests()
    assert after.receipt_keys == ("early", "late") and after.first_channel == "station_fax"
    disposition = ledger.disposition(after.id)
    assert disposition is not None and disposition["outcome"] == "detained"
    assert str(disposition["reimbursement"]) == "125.50"
    with pytest.raises(LedgerError):
        ledger.set_disposition(after.id, "deported", who="lt1")
    with pytest.raises(LedgerError):
        ledger.set_disposition("REQ-NOPE", "detained", who="lt1")


# --------------------------------------------------------------------------- intake state


def test_known_source_keys_by_prefix(ledger):
    keys = [
        "file:dedicated_fax:a_b%.tif:1:2",
        "file:dedicated_fax:ab.tif:1:2",
        "file:station_fax:C-6/x.tif:1:2",
    ]
    for n, key in enumerate(keys):
        ledger.record(receipt(key, f"d{n}", T0), extraction(f"d{n}"))
    assert ledger.known_source_keys("file:dedicated_fax:") == set(keys[:2])
    assert ledger.known_source_keys("file:dedicated_fax:a_b%") == {keys[0]}
    assert ledger.known_source_keys("imap:") == set()


def test_mail_attempts_quarantine_and_release(ledger):
    key = "imap:bfs@mail.example/INBOX;UIDVALIDITY=7;UID=42"
    assert ledger.mail_attempts(key) == 0 and not ledger.mail_handled(key)
    assert ledger.record_mail_failure(key, "fetch_timeout") == 1
    assert ledger.record_mail_failure(key, "fetch_timeout") == 2
    assert not ledger.mail_handled(key)
    assert ledger.record_mail_failure(key, "malformed_message", quarantined=True) == 3
    assert ledger.mail_handled(key)  # quarantined messages are not fetched again
    assert [i.kind for i in ledger.review_items()] == ["quarantine"]
    assert count(ledger, schema.Quarantine) == 1
    ledger.reset_mail_attempts(key)
    assert ledger.mail_attempts(key) == 0 and count(ledger, schema.Quarantine) == 0
    assert not ledger.mail_handled(key)
    ledger.record_mail_handled(key, "<m1@example>", sha("raw"), 0)
    assert ledger.mail_handled(key)


def test_record_message_commits_documents_and_message_together(ledger, monkeypatch):
    key = "maildir:cur/1700000000.M1P1.host"
    part = receipt(f"{key};MID=<m1@x>;part=0", "att", T0, "bfs_email")
    message = MailMessage(message_key=key, received_at=T0, message_id="<m1@x>", raw_sha256=sha("raw"), documents=[])

    def boom(*args, **kwargs):
        raise RuntimeError("injected crash")

    monkeypatch.setattr(mail_state, "mark_handled", boom)
    with pytest.raises(RuntimeError):
        ledger.record_message(message, [(part, extraction("att", detainer()), None)])
    monkeypatch.undo()
    assert not ledger.is_known(part.source_key) and not ledger.mail_handled(key)
    [outcome] = ledger.record_message(message, [(part, extraction("att", detainer()), None)])
    assert outcome.status == "recorded" and ledger.mail_handled(key)
    failed = MailMessage(message_key=key + "x", received_at=None, error="malformed_message", quarantined=True)
    assert ledger.record_message(failed) == []
    assert ledger.mail_attempts(key + "x") == 1


# --------------------------------------------------------------------------- run lock


def test_run_lock_refuses_a_second_holder_and_is_released(ledger_url):
    first, second = open_ledger(ledger_url), open_ledger(ledger_url)
    try:
        with first.run_lock() as handle:
            handle.heartbeat()
            with pytest.raises(RunLocked, match=r"held by pid \d+"):
                with second.run_lock():
                    pass
            with pytest.raises(RunLocked, match="after waiting"):
                with second.run_lock(wait_seconds=0.3):
                    pass
            with second.run_lock("other_job"):
                pass
        with second.run_lock():
            pass
    finally:
        first.close()
        second.close()


@pytest.mark.postgres
def test_run_lock_is_per_ledger(tmp_path):
    with testing.pg_schema_url() as a, testing.pg_schema_url() as b:
        la, lb = open_ledger(a), open_ledger(b)
        try:
            with la.run_lock(), lb.run_lock():
                pass
        finally:
            la.close()
            lb.close()


def test_open_without_migrating_refuses_an_old_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x int)"))
    engine.dispose()
    with pytest.raises(LedgerError, match="schema version"):
        open_ledger(url, migrate=False)
    open_ledger(url).close()
    open_ledger(url, migrate=False).close()


# --------------------------------------------------------------------------- concurrency, commands


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


def test_metrics_command_prints_json_and_a_table(ledger_url, capsys):
    import json

    from core.config import LedgerSettings, Settings
    from detainer_intake.commands.ledger import db_upgrade_command, metrics_command

    settings = Settings(ledger=LedgerSettings(url=ledger_url))
    assert db_upgrade_command(settings) == 0
    opened = open_ledger(ledger_url)
    opened.record(receipt("r1", "d1", T0, "station_fax", "C-6"), extraction("d1", detainer()))
    opened.close()
    capsys.readouterr()
    assert metrics_command(settings, 2025, as_json=True) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["year"] == 2025 and printed["unique_requests"] == 1 and printed["by_station"] == {"C-6": 1}
    assert metrics_command(settings, 2025, as_json=False) == 0
    table = capsys.readouterr().out
    assert "unique requests" in table and "2025-03" in table
    assert "LOPEZ" not in table and "A012345678" not in table


@pytest.mark.parametrize("blurred_first", [False, True])
def test_a_copy_whose_identifiers_ocr_lost_is_offered_beside_its_request_in_either_order(ledger, blurred_first):
    clear = (receipt("r1", "d1", T0), extraction("d1", detainer()))
    blurred = (
        receipt("r2", "d2", T0 + timedelta(hours=30), "station_fax", "E-13"),
        extraction("d2", detainer(file_number=None, event_number=None, issued_date=None, date_of_birth=None)),
    )
    for record in ([blurred, clear] if blurred_first else [clear, blurred]):
        ledger.record(*record)
    assert len(ledger.requests()) == 2  # a name alone never merges
    [item] = ledger.review_items(kind="match")
    assert (item.default_decision, item.reason) == ("separate", "name_and_arrival_near")
    # The operator's ruling merges them, and it sticks.
    ledger.resolve_review(item.id, "merge", who="supervisor")
    assert len(ledger.requests()) == 1


def test_subject_ids_are_filled_by_the_migration_and_copies_grouped_again(ledger_url):
    """0002 adds the subject ID column: filled from the extracted fields with corrections laid
    over them, then the copies are grouped again (they merge on it)."""
    from alembic import command

    from ledger.db import alembic_config

    first = detainer(file_number=None, event_number=None, date_of_birth=None, subject_id="S3B8T9GRM")
    misread = detainer(file_number=None, event_number=None, date_of_birth=None, subject_id="QQQQ11111")
    ledger = open_ledger(ledger_url)
    ledger.record(receipt("r1", "d1", T0), extraction("d1", first))
    ledger.record(receipt("r2", "d2", T0 + timedelta(hours=1), "bfs_email"), extraction("d2", misread))
    assert len(ledger.requests()) == 2  # the name alone: only offered
    ledger.correct(f"{sha('d2')}:0", "subject_id", "S3B8-T9GRM", who="clerk1")
    assert len(ledger.requests()) == 1
    # A ledger from before the column: subject IDs unknown, the copies apart.
    with ledger.engine.begin() as connection:
        connection.execute(text("UPDATE detainer_copies SET subject_id = NULL"))
    ledger.regroup()
    assert len(ledger.requests()) == 2
    config = alembic_config()
    with ledger.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    ledger.close()

    ledger = open_ledger(ledger_url)  # upgrades: fills the column, groups again
    try:
        assert [c["match"]["subject_id"] for c in ledger.copies(sha("d1")) + ledger.copies(sha("d2"))] == [
            "5388T9GRM",  # compared OCR-folded, like event numbers
            "5388T9GRM",
        ]
        assert len(ledger.requests()) == 1
    finally:
        ledger.close()
