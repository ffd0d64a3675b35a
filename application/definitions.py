"""What every reported figure means, and which command reproduces it: the one place for the wording.

The channel-usage definitions follow ``samplegen/TRUTH.md`` ("Metric definitions"), which
``ledger.metrics`` implements; the disposition figures come from the dispositions operators
record (``detainer-intake disposition``). ``summary.json``, ``report.html`` and the
``dispositions`` command all read their labels and definitions from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.store import CHANNEL_ORDER

METRICS_COMMAND = "detainer-intake metrics --year {year} --json"
DISPOSITIONS_COMMAND = "detainer-intake dispositions --year {year} --json"

CHANNEL_LABELS: dict[str, str] = {
    "dedicated_fax": "Dedicated detainer fax line",
    "station_fax": "Station fax",
    "bfs_email": "BFS mailbox",
}
CHANNEL_SHORT: dict[str, str] = {
    "dedicated_fax": "Dedicated line",
    "station_fax": "Station",
    "bfs_email": "BFS mailbox",
}
assert tuple(CHANNEL_LABELS) == CHANNEL_ORDER == tuple(CHANNEL_SHORT)

# Disposition outcomes as stored (ledger.store.OUTCOMES), how the CLI spells them, and their labels.
OUTCOME_LABELS: dict[str, str] = {
    "not_acted_upon": "Not acted upon",
    "detained": "Detained",
    "transferred": "Transferred to ICE custody",
}
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class Figure:
    key: str  # key in summary.json "totals"
    label: str
    definition: str
    command: str  # template with {year}
    json_key: str  # key (dotted path) in that command's JSON output

    def reproduce(self, year: int) -> dict[str, str]:
        return {"command": self.command.format(year=year), "key": self.json_key}


def _metric(key: str, label: str, definition: str) -> Figure:
    return Figure(key, label, definition, METRICS_COMMAND, key)


def _disposition(key: str, label: str, definition: str) -> Figure:
    return Figure(key, label, definition, DISPOSITIONS_COMMAND, key)


FIGURES: tuple[Figure, ...] = (
    _metric(
        "unique_requests",
        "Requests received",
        "Distinct detainer requests whose first copy arrived in the year (department time zone). Copies of "
        "one request received on several channels count once; cancellation notices are not requests.",
    ),
    _metric(
        "first_channel_counts",
        "Requests by first channel",
        "Of those requests, how many first arrived on the dedicated detainer fax line, a station fax or the "
        "BFS mailbox. Copies arriving at the same instant are ordered dedicated line, station fax, mailbox.",
    ),
    _metric(
        "any_channel_counts",
        "Requests by any channel",
        "Of those requests, how many had at least one copy arrive on each channel (on any date).",
    ),
    _metric(
        "dedicated_line_rate",
        "Dedicated-line rate (first arrival)",
        "Requests whose first copy arrived on the dedicated detainer fax line, divided by requests received "
        "(0 when there are none), rounded to 4 decimal places.",
    ),
    _metric(
        "dedicated_line_any_rate",
        "Dedicated-line rate (any arrival)",
        "Requests with at least one copy received on the dedicated detainer fax line, divided by requests "
        "received, rounded to 4 decimal places.",
    ),
    _metric(
        "coverage_gaps",
        "Gaps in channel coverage",
        "Whether any channel went unread on at least one day of the year it was in service (see channel "
        "coverage): the figures then count only what was read on the days each channel was read.",
    ),
    _metric(
        "coverage",
        "Channel coverage, in a sentence",
        "Which channels were not read on how many days of the year, and which are disabled or not configured; "
        "or that every channel in service was read every day.",
    ),
    _metric(
        "channels",
        "Channel coverage",
        "Per channel: its configuration (enabled, disabled by enabled = false, or not configured), its last "
        "successful read and last poll, and the days of the year (department time zone) it was read. A day is "
        "read when at least one poll of that channel succeeded that day. The days before the channel's first "
        "ever poll are 'not yet in service', neither read nor gaps; the period ends with the year, or with today "
        "while the year runs (today counts once read, or once over unread). A gap is consecutive unread days "
        "of the period, with the reasons of the polls that failed or found the channel disabled ('not polled': "
        "no run polled it that day).",
    ),
    _metric(
        "by_station",
        "Requests first received by station",
        "Requests whose first arrival was a given district station's fax machine (stations with at least one).",
    ),
    _metric(
        "by_month",
        "Requests by month",
        "Requests by month of first arrival (department time zone), per first channel and in total.",
    ),
    _metric(
        "copies_per_channel",
        "Copies received per channel",
        "Arrivals received in the year on each channel that carry at least one detainer form, duplicates and "
        "cancellation notices included.",
    ),
    _metric(
        "duplicates_merged",
        "Duplicate copies merged",
        "Arrivals received in the year carrying a copy of a request that had already arrived earlier.",
    ),
    _metric(
        "cancellations",
        "Cancellation notices",
        "Cancellation notices (a detainer form with its cancel box checked) received in the year.",
    ),
    _metric(
        "decoys",
        "Other documents",
        "Arrivals received in the year that were read without error and hold no detainer form "
        "(cover sheets, court notices and the like). Those carrying detainer evidence are also shown as "
        "possible requests awaiting review until a person rules on them.",
    ),
    _metric(
        "quarantined",
        "Documents quarantined",
        "Arrivals received in the year that could not be read (empty, truncated, encrypted or unsupported). "
        "They are kept in the archive and on the review queue, never dropped.",
    ),
    _metric(
        "awaiting_review",
        "Items awaiting review",
        "Open review-queue items (uncertain fields, uncertain matches, quarantined inputs) whose subject first "
        "arrived in the year: an operator has still to look at them.",
    ),
    _metric(
        "unique_requests_range",
        "Requests received: range",
        "The lowest and highest number of requests received the open review items could make it, [low, high]: "
        "a possible detainer (+1 if it is one), an unreadable input (+1 at most: it could have been one), a copy "
        "merged pending review (+1 if split), a match kept apart (-1 if merged), a copy whose cancel box is in "
        "doubt (-1 if it is a cancellation). Each item counts in the year of its request's first arrival. "
        "Low = high = requests received when nothing open can move the count.",
    ),
    _metric(
        "dedicated_line_rate_range",
        "Dedicated-line rate: range",
        "The lowest and highest dedicated-line rate (first arrival) the open review items could make it, "
        "[low, high]: the highest takes every item that would add a dedicated-line request or remove another "
        "channel's, the lowest every item that would remove a dedicated-line request or add another channel's.",
    ),
    _metric(
        "possible_requests_awaiting_review",
        "Possible requests awaiting review",
        "Documents received in the year that carry detainer evidence (a warrant or notice page, a DHS form "
        "footer, the title or the word 'detainer') but no recognised detainer form, and that no one has yet "
        "ruled on. Each could be one more request; none is counted until a person says it is a detainer.",
    ),
    _metric(
        "unreadable_inputs",
        "Unreadable inputs awaiting review",
        "Quarantined inputs of the year still open on the review queue. Each could have held a detainer, so "
        "each raises the upper end of the requests' range by one until it is resolved.",
    ),
    _metric(
        "open_items_moving_count",
        "Open review items that can move the count",
        "Open review items whose decision would change the year's requests received or dedicated-line rate.",
    ),
    _metric(
        "range_components",
        "Range by kind of open item",
        "Per kind of open review item (possible_detainer, unreadable_input, merge_pending_review, "
        "match_kept_apart, cancel_doubt): [lowest, highest] change it could make to requests received.",
    ),
    _disposition(
        "detained",
        "Individuals detained",
        "Requests of the year whose recorded disposition is 'detained' (one per request).",
    ),
    _disposition(
        "transferred",
        "Transferred to ICE custody",
        "Requests of the year whose recorded disposition is 'transferred' to ICE custody (one per request).",
    ),
    _disposition(
        "not_acted_upon",
        "Not acted upon",
        "Requests of the year whose recorded disposition is 'not acted upon'.",
    ),
    _disposition(
        "not_recorded",
        "Dispositions not recorded",
        "Requests of the year with no recorded disposition. They are shown as 'not recorded', never counted "
        "as zero or as not acted upon; detained + transferred + not acted upon + not recorded = requests "
        "received.",
    ),
    _disposition(
        "reimbursements_received",
        "Reimbursements received",
        "Requests of the year whose recorded disposition carries a reimbursement amount.",
    ),
    _disposition(
        "reimbursement_total",
        "Reimbursement total",
        "Sum of the reimbursement amounts recorded on those dispositions, in dollars (a decimal string).",
    ),
)

FIGURE_BY_KEY: dict[str, Figure] = {f.key: f for f in FIGURES}
METRIC_KEYS: tuple[str, ...] = tuple(f.key for f in FIGURES if f.command == METRICS_COMMAND)
DISPOSITION_KEYS: tuple[str, ...] = tuple(f.key for f in FIGURES if f.command == DISPOSITIONS_COMMAND)


def channel_label(channel: str, station: str | None = None, short: bool = False) -> str:
    """``Station fax C-6``; ``short``: ``Station C-6`` (for tables)."""
    label = (CHANNEL_SHORT if short else CHANNEL_LABELS).get(channel, channel)
    if channel == "station_fax" and short and not station:
        return "Station fax"
    return f"{label} {station}" if station and channel == "station_fax" else label
