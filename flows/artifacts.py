"""The auditors' artifacts of an intake run: the year's channel table and a run summary. No personal data.

The run summary names every channel as this run found it (read, failed with its reason, or disabled /
not configured: the last poll the ledger recorded) and the year's coverage (days read, gaps)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from core.logs import redact
from flows.steps import CommitSummary, Intake
from ingest.configured import configured_states
from ledger.channel_polls import CONFIGURATION_LABELS
from ledger.uncertainty import range_text


def publish_run_artifacts(intake: Intake, summaries: list[CommitSummary], failures: list[str]) -> dict[str, Any]:
    """Auditor artifacts: the current year's channel table and a run summary. No personal data."""
    tz = intake.settings.department.timezone
    year = datetime.now(intake.settings.department.zone).year
    metrics = intake.ledger.metrics(year, tz, configured_states(intake.settings))
    count_text = range_text(metrics["unique_requests"], metrics["unique_requests_range"],
                            metrics["open_items_moving_count"])
    rate_low, rate_high = metrics["dedicated_line_rate_range"]
    count_low, count_high = metrics["unique_requests_range"]
    rows = [
        {
            "channel": channel,
            "first_arrivals": metrics["first_channel_counts"][channel],
            "any_arrival": metrics["any_channel_counts"][channel],
            "copies": metrics["copies_per_channel"][channel],
        }
        for channel in ("dedicated_fax", "station_fax", "bfs_email")
    ]
    create_table_artifact(
        key="channel-usage",
        table=rows,
        description=(
            f"Detainer requests {year} by channel ({tz}). Unique requests: {count_text}. "
            f"Dedicated-line rate (first arrival): {metrics['dedicated_line_rate']:.1%} "
            f"({rate_low:.1%}–{rate_high:.1%}); "
            f"any arrival: {metrics['dedicated_line_any_rate']:.1%}. "
            f"Coverage: {metrics['coverage']}. "
            f"Reproduce: detainer-intake metrics --year {year} --json"
        ),
    )
    new_requests = {r for s in summaries for r in s.request_ids}
    open_reviews = len(intake.ledger.review_items("open"))  # last year's open items still wait for someone
    lines = [
        f"# Intake run summary ({datetime.now(intake.settings.department.zone):%Y-%m-%d %H:%M %Z})",
        "",
        "| figure | value |",
        "|---|---|",
        f"| new arrivals recorded | {sum(s.receipts_new for s in summaries)} |",
        f"| new distinct documents | {sum(s.documents_new for s in summaries)} |",
        f"| detainer forms found | {sum(s.detainer_copies for s in summaries)} |",
        f"| requests touched by this run | {len(new_requests)} |",
        f"| quarantined this run | {sum(s.quarantined for s in summaries)} |",
        f"| possible detainers this run (to review) | {sum(s.possible_detainers for s in summaries)} |",
        f"| mail messages handled / failed | {sum(s.messages_handled for s in summaries)} / "
        f"{sum(s.messages_failed for s in summaries)} |",
        f"| review items open, every year | {open_reviews} |",
        f"| review items open from {year} | {metrics.get('awaiting_review', 0)} |",
        f"| possible requests awaiting review {year} | {metrics['possible_requests_awaiting_review']} |",
        f"| unreadable inputs awaiting review {year} | {metrics['unreadable_inputs']} |",
        f"| unique requests {year} | {count_text} |",
        f"| unique requests range {year} | {count_low}–{count_high} |",
        f"| dedicated-line rate {year} | {metrics['dedicated_line_rate']:.1%} ({rate_low:.1%}–{rate_high:.1%}) |",
        f"| coverage {year} | {metrics['coverage']} |",
        "",
        "## Channels",
        "",
        f"| channel | this run | configuration | days read {year} | gaps {year} |",
        "|---|---|---|---|---|",
        *[_channel_row(name, state) for name, state in metrics["channels"].items()],
    ]
    if failures:
        lines += ["", "## Failures", *[f"- {redact(f)}" for f in failures]]
    create_markdown_artifact(key="intake-run-summary", markdown="\n".join(lines))
    return {
        "year": year,
        "channels": {name: state["last_poll"] for name, state in metrics["channels"].items()},
        "unique_requests": metrics["unique_requests"],
        "unique_requests_range": metrics["unique_requests_range"],
        "dedicated_line_rate_range": metrics["dedicated_line_rate_range"],
        "possible_requests_awaiting_review": metrics["possible_requests_awaiting_review"],
        "review_items_open": open_reviews,
    }


def _channel_row(name: str, state: dict[str, Any]) -> str:
    """One channel's line: how its last poll went, its configuration, the year's days read and gaps."""
    last = state["last_poll"]
    if last is None:
        run = "not polled"
    elif last["outcome"] == "read":
        run = f"read ({last['items']} new)"
    else:
        run = f"{last['outcome']}: {last['reason']}" if last["reason"] else last["outcome"]
    configuration = CONFIGURATION_LABELS.get(state["configuration"], state["configuration"] or "")
    read = f"{state['days_read']} of {state['days_in_period']}" if state["period"] else state["status"]
    gaps = "; ".join(gap["text"] for gap in state["gaps"][-5:]) or "none"
    if len(state["gaps"]) > 5:
        gaps = f"{len(state['gaps'])} gaps, the last five: {gaps}"
    return f"| {name} | {redact(run)} | {configuration} | {read} | {redact(gaps)} |"
