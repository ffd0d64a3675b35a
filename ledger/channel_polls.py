"""Channel polls: every poll of every channel a run made, and the days each channel was read.

A run records, for each configured channel, one poll: when it began (UTC), its outcome
(``read``, ``failed`` with a PII-free reason, or ``disabled`` when the configuration switches
the channel off or names no source) and how many new arrivals it found. ``coverage`` turns
those records into what an auditor needs to know of a year's count: on which days (department
time zone) each channel was read, and the gaps when it was not.

Definitions (README, "What each metric means"; ``application.definitions``):

- a day is *read* (covered) when at least one poll of that channel succeeded that day;
- a channel is *in service* from the day of its first ever poll (whatever its outcome); the days
  of the year before it are "not yet in service", neither read nor gaps;
- the period is the year's days from the first in-service day up to the year's last day, or up
  to today while the year is running; today becomes a gap only once it is over unread;
- a *gap* is a run of consecutive unread days in the period, with the reasons of the polls that
  failed or found the channel disabled on those days ("not polled" for days without any poll).

``coverage`` and ``channel_coverage`` are pure functions over ``PollRecord``s; ``record_poll``
and ``poll_records`` are the table's write and read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import schema
from ledger.views import CHANNEL_ORDER

Outcome = Literal["read", "failed", "disabled"]
OUTCOMES: tuple[str, ...] = ("read", "failed", "disabled")
REASON_MAX = 200  # characters kept of a failure reason (a slug or a short scrubbed sentence)
NOT_POLLED = "not polled"

# How a channel's configuration stands (``ingest.configured.configured_state``), as the reports word it.
CONFIGURATION_LABELS: dict[str, str] = {
    "enabled": "enabled",
    "disabled": "disabled (enabled = false)",
    "not_configured": "not configured",
}


@dataclass(frozen=True)
class PollRecord:
    """One poll of one channel. No personal data: a channel, a time, an outcome, a reason, a count."""

    channel: str
    at: datetime  # UTC, when the poll began
    outcome: str  # read | failed | disabled
    reason: str | None = None  # failed: what went wrong; disabled: "enabled = false" or "not configured"
    items: int = 0  # new arrivals the poll found


# --------------------------------------------------------------------------- the table


def record_poll(session: Session, poll: PollRecord) -> None:
    if poll.outcome not in OUTCOMES:
        raise ValueError(f"unknown poll outcome {poll.outcome!r}")
    if poll.channel not in CHANNEL_ORDER:
        raise ValueError(f"unknown channel {poll.channel!r}")
    reason = (poll.reason or "").strip()[:REASON_MAX] or None
    session.add(
        schema.ChannelPoll(
            channel=poll.channel, polled_at=poll.at, outcome=poll.outcome, reason=reason, items=max(poll.items, 0)
        )
    )


def poll_records(session: Session, channel: str | None = None) -> list[PollRecord]:
    """Every recorded poll (of ``channel``, or of all), oldest first."""
    query = select(schema.ChannelPoll).order_by(schema.ChannelPoll.polled_at, schema.ChannelPoll.id)
    if channel is not None:
        query = query.where(schema.ChannelPoll.channel == channel)
    return [
        PollRecord(row.channel, row.polled_at, row.outcome, row.reason, row.items) for row in session.scalars(query)
    ]


# --------------------------------------------------------------------------- coverage (pure)


@dataclass(frozen=True)
class Gap:
    """Consecutive days of the period on which a channel was not read."""

    channel: str
    first: date
    last: date
    reasons: tuple[str, ...]

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    @property
    def text(self) -> str:
        """``bfs_email not read 2025-03-02 → 2025-03-05: login refused``."""
        span = self.first.isoformat() if self.first == self.last else f"{self.first} → {self.last}"
        return f"{self.channel} not read {span}: {self.reason}"

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "days": self.days,
            "reason": self.reason,
            "text": self.text,
        }


@dataclass(frozen=True)
class Coverage:
    """One channel's year: the days it was read and the gaps (``coverage``)."""

    channel: str
    year: int
    configuration: str | None  # enabled | disabled | not_configured; None: not given (the ledger alone)
    in_service_since: date | None  # local day of the channel's first ever poll; None: never polled
    period: tuple[date, date] | None  # the year's days counted; None: not in service in the year
    days_read: tuple[date, ...]
    gaps: tuple[Gap, ...]
    last_read_ok: datetime | None  # the last successful poll (any year up to the year's end), UTC
    last_poll: PollRecord | None  # the last poll (any outcome, any year up to the year's end)

    @property
    def enabled(self) -> bool | None:
        return None if self.configuration is None else self.configuration == "enabled"

    @property
    def days_in_period(self) -> int:
        return 0 if self.period is None else (self.period[1] - self.period[0]).days + 1

    @property
    def days_not_read(self) -> int:
        return sum(gap.days for gap in self.gaps)

    @property
    def status(self) -> str:
        """One phrase for tables: ``disabled (enabled = false)``, ``not yet in service``, ``read every day``,
        ``3 day(s) not read``."""
        parts = []
        if self.configuration is not None and self.configuration != "enabled":
            parts.append(CONFIGURATION_LABELS.get(self.configuration, self.configuration))
        if self.period is None:
            if self.in_service_since is None:
                parts.append("never polled")
            elif self.in_service_since > date(self.year, 12, 31):
                parts.append("not yet in service")
            else:  # first polled today, unread: no day counted yet
                parts.append(f"in service since {self.in_service_since}, no day counted yet")
        elif self.gaps:
            parts.append(f"{self.days_not_read} day(s) not read")
        else:
            parts.append("read every day")
        return ", ".join(parts)

    def as_json(self) -> dict[str, Any]:
        last = self.last_poll
        return {
            "enabled": self.enabled,
            "configuration": self.configuration,
            "status": self.status,
            "last_read_ok": _iso(self.last_read_ok),
            "last_poll": None
            if last is None
            else {"at": _iso(last.at), "outcome": last.outcome, "reason": last.reason, "items": last.items},
            # Only a day up to the year's end: a past year's figures never move with the date of a later first poll.
            "in_service_since": self.in_service_since.isoformat()
            if self.in_service_since and self.in_service_since <= date(self.year, 12, 31)
            else None,
            "period": None if self.period is None else [d.isoformat() for d in self.period],
            "days_in_period": self.days_in_period,
            "days_read": len(self.days_read),
            "days_not_read": self.days_not_read,
            "gaps": [gap.as_json() for gap in self.gaps],
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def coverage(
    channel: str,
    records: Iterable[PollRecord],
    year: int,
    zone: ZoneInfo,
    now: datetime,
    configuration: str | None = None,
) -> Coverage:
    """The days of ``year`` (in ``zone``) on which ``channel`` was read, and its gaps, from its poll records.

    ``now`` ends the period while the year is running (today counts once read, or once over).
    """
    polls = sorted((r for r in records if r.channel == channel), key=lambda r: r.at)
    today = now.astimezone(zone).date()
    year_first, year_last = date(year, 1, 1), date(year, 12, 31)
    seen = [r for r in polls if r.at.astimezone(zone).date() <= min(year_last, today)]
    last_poll = seen[-1] if seen else None
    reads = [r for r in seen if r.outcome == "read"]
    last_read_ok = reads[-1].at if reads else None
    since = polls[0].at.astimezone(zone).date() if polls else None

    by_day: dict[date, list[PollRecord]] = {}
    for record in polls:
        by_day.setdefault(record.at.astimezone(zone).date(), []).append(record)
    read_days = {day for day, day_polls in by_day.items() if any(r.outcome == "read" for r in day_polls)}

    start = max(year_first, since) if since is not None else None
    end = min(year_last, today if today in read_days else today - timedelta(days=1))
    if start is None or start > end:
        return Coverage(channel, year, configuration, since, None, (), (), last_read_ok, last_poll)

    days_read: list[date] = []
    gaps: list[Gap] = []
    gap_days: list[date] = []

    def close_gap() -> None:
        if gap_days:
            gaps.append(Gap(channel, gap_days[0], gap_days[-1], _reasons(gap_days, by_day)))
            gap_days.clear()

    day = start
    while day <= end:
        if day in read_days:
            close_gap()
            days_read.append(day)
        else:
            gap_days.append(day)
        day += timedelta(days=1)
    close_gap()
    return Coverage(channel, year, configuration, since, (start, end), tuple(days_read), tuple(gaps), last_read_ok,
                    last_poll)


def _reasons(days: Sequence[date], by_day: Mapping[date, list[PollRecord]]) -> tuple[str, ...]:
    """Distinct reasons of a gap's polls in order of first appearance; ``not polled`` for a day without one."""
    reasons: list[str] = []
    for day in days:
        day_polls = by_day.get(day, [])
        found = [_reason_of(r) for r in day_polls] or [NOT_POLLED]
        for reason in found:
            if reason not in reasons:
                reasons.append(reason)
    return tuple(reasons)


def _reason_of(record: PollRecord) -> str:
    if record.outcome == "disabled":
        return f"disabled ({record.reason})" if record.reason else "disabled"
    return record.reason or "failed"


def channel_coverage(
    records: Iterable[PollRecord],
    year: int,
    zone: ZoneInfo,
    now: datetime,
    configuration: Mapping[str, str] | None = None,
) -> dict[str, Coverage]:
    """``coverage`` of every channel, in channel order."""
    polls = list(records)
    return {
        channel: coverage(channel, polls, year, zone, now, (configuration or {}).get(channel))
        for channel in CHANNEL_ORDER
    }


def coverage_note(channels: Mapping[str, Coverage]) -> str:
    """One sentence for beside the rate: which channels were not read on some days of the year, or none."""
    short = [c for c in channels.values() if c.gaps]
    off = [c for c in channels.values() if c.configuration not in (None, "enabled")]
    parts = [f"{c.channel} not read on {c.days_not_read} of {c.days_in_period} day(s)" for c in short]
    parts += [f"{c.channel} {CONFIGURATION_LABELS.get(c.configuration or '', c.configuration)}"
              for c in off if not c.gaps]
    if not parts:
        polled = [c for c in channels.values() if c.period is not None]
        if not polled:
            return "no channel poll recorded for the year: coverage unknown"
        return "every channel in service was read every day of the year so far"
    return "gaps in coverage: " + "; ".join(parts) + " (the figures count only what was read)"
