"""The audit: a request's whole story, or every operator act since a date, as plain values.

``request_audit`` gives each copy of the request (the grouping rule that joined it, its
document's SHA-256 and every arrival of it: channel, station, received at, file name), the
cancellation notices, every act (corrections, rulings on two copies, review resolutions,
dispositions: who, the OS user and host that ran the command, when, what changed from what,
why) and the disposition history. ``activity`` gives every act since a date.

Without ``include_pii`` nothing personal is shown: no copy fields (names, dates of birth,
A-numbers, event numbers), no corrected values, no sender, no free text (why, notes), which
an operator may have typed a name into. File names and SHA-256s are shown: they are the
evidence's address, as ``review list`` shows them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger.audit_reads import ArrivalFacts, CopyFacts, RequestStory
from ledger.decisions import DecisionView
from ledger.store import Ledger

WITHHELD = "(withheld: --include-pii)"
PII_FIELDS = ("subject_name", "date_of_birth", "file_number", "event_number", "subject_id")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _free_text(value: str | None, include_pii: bool) -> str | None:
    if value is None or include_pii:
        return value
    return WITHHELD


def _arrival(arrival: ArrivalFacts, include_pii: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "channel": arrival.channel,
        "station": arrival.station,
        "received_at": _iso(arrival.received_at),
        "file_name": arrival.file_name,
        "sha256": arrival.sha256,
        "size": arrival.size,
    }
    if include_pii:
        out["sender"] = arrival.sender
        out["message_id"] = arrival.message_id
    return out


def _copy(copy: CopyFacts, include_pii: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "copy_key": copy.copy_key,
        "form_type": copy.form_type,
        "founding": copy.founding,
        "rule": copy.rule,
        "score": copy.score,
        "cancels_previous": copy.cancels_previous,
        "arrivals": [_arrival(a, include_pii) for a in copy.arrivals],
    }
    if include_pii:
        out["fields"] = {k: v for k, v in copy.fields.items() if k != "evidence"}
    return out


def act_json(act: DecisionView, include_pii: bool) -> dict[str, Any]:
    """One act as JSON. A correction's values and any free text only with ``include_pii``."""
    old, new = act.old, act.new
    if act.kind == "correction" and not include_pii:
        old = new = WITHHELD
    if act.kind == "disposition" and not include_pii:
        old = {**old, "note": _free_text(old.get("note"), False)} if isinstance(old, dict) else old
        new = {**new, "note": _free_text(new.get("note"), False)} if isinstance(new, dict) else new
    return {
        "id": act.id,
        "kind": act.kind,
        "subject": act.subject,
        "field": act.field,
        "from": old,
        "to": new,
        "who": act.who,
        "os_user": act.os_user,
        "host": act.host,
        "at": _iso(act.at),
        "why": _free_text(act.why, include_pii),
        "request_id": act.request_id,
    }


def story_json(story: RequestStory, include_pii: bool = False) -> dict[str, Any]:
    """The request's whole story (``ledger.audit_reads.request_story``) as JSON-ready values."""
    return {
        "request_id": story.request_id,
        "exists": story.exists,
        "include_pii": include_pii,
        "copies": [_copy(c, include_pii) for c in story.copies],
        "cancelled_by": list(story.cancelled_by),
        "decisions": [act_json(a, include_pii) for a in story.acts],
        "disposition_history": [
            {
                "outcome": d.get("outcome"),
                "reimbursement": d.get("reimbursement"),
                "note": _free_text(d.get("note"), include_pii),
                "who": d["who"],
                "os_user": d["os_user"],
                "host": d["host"],
                "at": _iso(d["at"]),
                "why": _free_text(d["why"], include_pii),
                "request_id": d["request_id"],
            }
            for d in story.dispositions
        ],
    }


def request_audit(ledger: Ledger, request_id: str, include_pii: bool = False) -> dict[str, Any]:
    """The whole story of ``request_id`` (LedgerError when the ledger never knew it)."""
    return story_json(ledger.request_story(request_id.strip().upper()), include_pii)


def activity(ledger: Ledger, since: datetime, include_pii: bool = False) -> dict[str, Any]:
    """Every operator act at or after ``since`` (timezone-aware)."""
    acts = ledger.activity(since)
    return {"since": _iso(since), "include_pii": include_pii, "decisions": [act_json(a, include_pii) for a in acts]}


def change_text(act: dict[str, Any]) -> str:
    """``from -> to`` in one line, for a table."""

    def short(value: Any) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{k}={v}" for k, v in value.items() if v is not None) or "-"
        return "-" if value is None else str(value)

    return f"{short(act['from'])} -> {short(act['to'])}"
