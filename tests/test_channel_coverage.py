"""Channel coverage: the days of a year each channel was read, and its gaps, from the ledger's poll records
(``ledger.channel_polls``): a pure function, then the table behind it on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ledger.channel_polls import PollRecord, channel_coverage, coverage, coverage_note

NY = ZoneInfo("America/New_York")


def at(day: str, hour: int = 12, zone: ZoneInfo = NY) -> datetime:
    """Noon (or ``hour``) of ``day`` in ``zone``, as the UTC moment a run records."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=zone).astimezone(UTC)


def read(day: str, hour: int = 12, items: int = 0, channel: str = "bfs_email") -> PollRecord:
    return PollRecord(channel, at(day, hour), "read", None, items)


def failed(day: str, reason: str, hour: int = 12, channel: str = "bfs_email") -> PollRecord:
    return PollRecord(channel, at(day, hour), "failed", reason)


def test_days_read_and_gaps_with_their_reasons() -> None:
    polls = [
        read("2025-03-01"),
        failed("2025-03-02", "login refused"),
        failed("2025-03-03", "login refused", hour=8),
        failed("2025-03-03", "login refused", hour=18),
        # 2025-03-04: no run at all
        read("2025-03-05"),
        read("2025-03-06", hour=7),
        failed("2025-03-06", "connection dropped", hour=19),  # one success that day is enough
        failed("2025-03-07", "connection dropped"),
        read("2025-03-08"),
    ]
    found = coverage("bfs_email", polls, 2025, NY, now=at("2025-03-08", 20))
    assert found.days_read == (
        date(2025, 3, 1), date(2025, 3, 5), date(2025, 3, 6), date(2025, 3, 8),
    )
    assert [(g.first, g.last, g.days, g.reason) for g in found.gaps] == [
        (date(2025, 3, 2), date(2025, 3, 4), 3, "login refused; not polled"),
        (date(2025, 3, 7), date(2025, 3, 7), 1, "connection dropped"),
    ]
    assert found.gaps[0].text == "bfs_email not read 2025-03-02 → 2025-03-04: login refused; not polled"
    assert found.gaps[1].text == "bfs_email not read 2025-03-07: connection dropped"
    assert found.period == (date(2025, 3, 1), date(2025, 3, 8))
    assert found.days_in_period == len(found.days_read) + found.days_not_read == 8
    assert found.last_read_ok == at("2025-03-08")
    as_json = found.as_json()
    assert as_json["days_read"] == 4 and as_json["days_not_read"] == 4
    assert as_json["gaps"][0] == {
        "from": "2025-03-02", "to": "2025-03-04", "days": 3, "reason": "login refused; not polled",
        "text": "bfs_email not read 2025-03-02 → 2025-03-04: login refused; not polled",
    }


def test_days_before_the_first_poll_are_not_yet_in_service_not_gaps() -> None:
    polls = [read("2025-06-10"), read("2025-06-11")]
    found = coverage("bfs_email", polls, 2025, NY, now=at("2025-06-11", 20))
    assert found.in_service_since == date(2025, 6, 10)
    assert found.period == (date(2025, 6, 10), date(2025, 6, 11))
    assert found.gaps == () and found.status == "read every day"
    earlier = coverage("bfs_email", polls, 2024, NY, now=at("2025-06-11", 20))
    assert earlier.period is None and earlier.gaps == () and earlier.status == "not yet in service"
    assert earlier.as_json()["in_service_since"] is None  # 2024's figures do not move with a later first poll
    never = coverage("station_fax", polls, 2025, NY, now=at("2025-06-11", 20))
    assert never.in_service_since is None and never.status == "never polled" and never.days_read == ()


def test_a_day_is_the_department_zone_day_not_the_utc_day() -> None:
    # 22:30 in New York on March 1st is March 2nd in UTC; 23:59 on March 2nd is March 3rd in UTC.
    polls = [
        PollRecord("dedicated_fax", datetime(2025, 3, 2, 3, 30, tzinfo=UTC), "read"),
        PollRecord("dedicated_fax", datetime(2025, 3, 3, 4, 59, tzinfo=UTC), "failed", "share unreachable"),
        PollRecord("dedicated_fax", datetime(2025, 3, 3, 12, 0, tzinfo=UTC), "read"),
    ]
    local = coverage("dedicated_fax", polls, 2025, NY, now=datetime(2025, 3, 3, 20, tzinfo=UTC))
    assert local.days_read == (date(2025, 3, 1), date(2025, 3, 3))
    assert [(g.first, g.reason) for g in local.gaps] == [(date(2025, 3, 2), "share unreachable")]
    in_utc = coverage("dedicated_fax", polls, 2025, ZoneInfo("UTC"), now=datetime(2025, 3, 3, 20, tzinfo=UTC))
    assert in_utc.days_read == (date(2025, 3, 2), date(2025, 3, 3)) and in_utc.gaps == ()
    # A poll at 04:00 UTC on New Year's Day 2026 is New Year's Eve in New York: it counts for 2025
    late = [PollRecord("dedicated_fax", datetime(2026, 1, 1, 4, 0, tzinfo=UTC), "read")]
    assert coverage("dedicated_fax", late, 2025, NY, now=datetime(2026, 2, 1, tzinfo=UTC)).days_read == (
        date(2025, 12, 31),
    )
    assert coverage("dedicated_fax", late, 2026, NY, now=datetime(2026, 2, 1, tzinfo=UTC)).in_service_since == date(
        2025, 12, 31
    )


def test_today_becomes_a_gap_only_once_it_is_over() -> None:
    polls = [read("2025-03-05")]
    morning = coverage("bfs_email", polls, 2025, NY, now=at("2025-03-06", 5))
    assert morning.period == (date(2025, 3, 5), date(2025, 3, 5)) and morning.gaps == ()
    next_day = coverage("bfs_email", polls, 2025, NY, now=at("2025-03-07", 5))
    assert [g.text for g in next_day.gaps] == ["bfs_email not read 2025-03-06: not polled"]
    year_over = coverage("bfs_email", polls, 2025, NY, now=at("2026-01-10"))
    assert year_over.period == (date(2025, 3, 5), date(2025, 12, 31))
    assert [(g.first, g.last) for g in year_over.gaps] == [(date(2025, 3, 6), date(2025, 12, 31))]


def test_a_disabled_channel_is_named_and_its_days_are_gaps() -> None:
    polls = [
        PollRecord("bfs_email", at("2025-03-01"), "disabled", "enabled = false"),
        PollRecord("bfs_email", at("2025-03-02"), "disabled", "enabled = false"),
        read("2025-03-02", channel="dedicated_fax"),
        read("2025-03-01", channel="dedicated_fax"),
    ]
    found = channel_coverage(
        polls, 2025, NY, now=at("2025-03-03", 5),
        configuration={"dedicated_fax": "enabled", "station_fax": "not_configured", "bfs_email": "disabled"},
    )
    mail = found["bfs_email"]
    assert mail.enabled is False
    assert [g.text for g in mail.gaps] == ["bfs_email not read 2025-03-01 → 2025-03-02: disabled (enabled = false)"]
    assert mail.status == "disabled (enabled = false), 2 day(s) not read"
    assert found["station_fax"].status == "not configured, never polled"
    assert found["dedicated_fax"].enabled is True and found["dedicated_fax"].gaps == ()
    note = coverage_note(found)
    assert note.startswith("gaps in coverage: ")
    assert "bfs_email not read on 2 of 2 day(s)" in note and "station_fax not configured" in note
    assert coverage_note(channel_coverage(polls[2:], 2025, NY, now=at("2025-03-03", 5))) == (
        "every channel in service was read every day of the year so far"
    )
    assert "coverage unknown" in coverage_note(channel_coverage([], 2025, NY, now=at("2025-03-03", 5)))


# --------------------------------------------------------------------------- the table, through the facade


def test_polls_are_recorded_and_metrics_show_each_channels_coverage(ledger) -> None:
    day = datetime(2025, 3, 2, 17, tzinfo=UTC)
    ledger.record_poll("dedicated_fax", day, "read", items=3)
    ledger.record_poll("bfs_email", day, "failed", "login refused " + "x" * 400)
    ledger.record_poll("station_fax", day, "disabled", "not configured")
    for n in (1, 2, 3):
        ledger.record_poll("dedicated_fax", day + timedelta(days=n), "read")
        ledger.record_poll("bfs_email", day + timedelta(days=n), "failed" if n < 3 else "read", "login refused")
    records = ledger.poll_records("dedicated_fax")
    assert [(r.at, r.outcome, r.items) for r in records[:1]] == [(day, "read", 3)]
    assert all(r.at.tzinfo is not None for r in records)
    assert len(ledger.poll_records()) == 9
    assert len(ledger.poll_records("bfs_email")[0].reason or "") == 200

    metrics = ledger.metrics(
        2025, "America/New_York", {"dedicated_fax": "enabled", "station_fax": "not_configured", "bfs_email": "enabled"},
        now=datetime(2025, 3, 6, 3, tzinfo=UTC),  # 22:00 on March 5th in New York
    )
    keys = list(metrics)
    assert keys.index("coverage") == keys.index("dedicated_line_any_rate") + 2
    assert metrics["coverage_gaps"] is True
    mail = metrics["channels"]["bfs_email"]
    assert mail["enabled"] is True and mail["days_read"] == 1 and mail["days_in_period"] == 4
    assert mail["last_read_ok"] == "2025-03-05T17:00:00Z"
    assert [g["from"] for g in mail["gaps"]] == ["2025-03-02"] and mail["gaps"][0]["to"] == "2025-03-04"
    assert mail["gaps"][0]["reason"].startswith("login refused")
    station = metrics["channels"]["station_fax"]
    assert station["enabled"] is False and station["configuration"] == "not_configured"
    assert station["last_poll"]["outcome"] == "disabled" and station["status"].startswith("not configured")
    assert metrics["channels"]["dedicated_fax"]["gaps"] == [] and metrics["channels"]["dedicated_fax"]["days_read"] == 4


def test_an_unknown_outcome_or_channel_is_refused(ledger) -> None:
    with pytest.raises(ValueError, match="outcome"):
        ledger.record_poll("bfs_email", datetime(2025, 3, 2, tzinfo=UTC), "skipped")
    with pytest.raises(ValueError, match="channel"):
        ledger.record_poll("carrier_pigeon", datetime(2025, 3, 2, tzinfo=UTC), "read")
    assert ledger.poll_records() == []
