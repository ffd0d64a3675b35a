"""``sample_faxes/truth.json``: the ground truth, and the yearly totals computed from it.

:func:`build_truth` turns the scenario plus the bytes actually written into the
document described in ``samplegen/TRUTH.md``. :func:`compute_totals` derives the
metrics (unique requests by first arrival, channel mixes, copies, duplicates,
cancellations, decoys, quarantined inputs) from the receipts and requests alone,
so tests can recompute them from a stored ``truth.json`` and compare.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from samplegen.scenario import CHANNEL_ORDER, TZ, Detainer, ReceiptPlan, Scenario

SCHEMA = 1


def iso_utc(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(s: str) -> datetime:
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def detainer_truth(d: Detainer, r: ReceiptPlan, source_pages: list[int], warrant: str | None) -> dict[str, Any]:
    fax_number = r.sender.number if r.sender else None
    sent = iso_utc(r.sent_local) if (r.sender and r.sent_local) else None
    return {
        "form_type": d.form_type,
        "form_revision": d.form_revision,
        "subject_id": d.subject_id,
        "event_number": d.event_number,
        "file_number": d.person.file_number,
        "issued_date": d.issued_date.isoformat(),
        # Every line of the TO and FROM boxes as printed, joined with ", " (parsing's definition).
        "to_institution": ", ".join(d.to_lines),
        "from_office": ", ".join((d.office.from_office, *d.office.address)),
        "subject_name": d.person.printed_name,
        "date_of_birth": d.person.dob.isoformat(),
        "citizenship": d.person.citizenship,
        "sex": d.person.sex,
        "probable_cause": list(d.probable_cause),
        "transferred_for_proceeding": d.transferred_for_proceeding,
        "requested_actions": list(d.requested_actions),
        "cancels_previous": d.cancels_previous,
        "cancelled_detainer_date": d.cancelled_detainer_date.isoformat() if d.cancelled_detainer_date else None,
        "officer_name": d.officer_name,  # the name only; the printed line is "name, title"
        "officer_title": d.officer_title,
        "warrant_form": warrant,
        "fax_sender_number": fax_number,
        "fax_sent_at": sent,
        "source_pages": source_pages,
        "request_id": d.request_id,
        "cancels_request_id": d.cancels_request_id,
    }


PACKET_KINDS = ("detainer_p1", "detainee_notice", "i200", "i205")


def receipt_truth(r: ReceiptPlan, content: bytes) -> dict[str, Any]:
    pages: list[dict[str, Any]] = []
    detainers: list[dict[str, Any]] = []
    if r.kind != "broken":
        pages = [{"page": i, "kind": p.kind, "rotation": p.rotation} for i, p in enumerate(r.pages, 1)]
    if r.kind == "detainer":
        groups: dict[int, tuple[Detainer, list[int], list[str]]] = {}
        for i, p in enumerate(r.pages, 1):
            if p.kind in PACKET_KINDS and p.detainer is not None:
                g = groups.setdefault(id(p.detainer), (p.detainer, [], []))
                g[1].append(i)
                if p.kind in ("i200", "i205"):
                    g[2].append(p.kind)
        ordered = sorted(groups.values(), key=lambda g: g[1][0])
        for d, src, warrants in ordered:
            if not any(r.pages[i - 1].kind == "detainer_p1" for i in src):
                continue
            warrant = {"i200": "I-200", "i205": "I-205"}[warrants[0]] if warrants else None
            detainers.append(detainer_truth(d, r, src, warrant))
    return {
        "id": r.id,
        "channel": r.channel,
        "station": r.station,
        "path": r.path,
        "message_id": None,  # filled by build_truth for mail
        "attachment_index": r.attachment_index,
        "file_name": r.file_name,
        "received_at": iso_utc(r.received_local),
        "received_from": r.received_from,
        "sender": r.sender_value,
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
        "format": r.fmt,
        "resolution": r.resolution,
        "kind": r.kind,
        "broken_reason": r.broken_reason,
        "pages": pages,
        "detainers": detainers,
    }


def _first_arrivals(receipts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """request_id -> the receipt of its first arrival (ties: channel order)."""
    first: dict[str, dict[str, Any]] = {}
    key = lambda rc: (_parse(rc["received_at"]), CHANNEL_ORDER.index(rc["channel"]), rc["id"])  # noqa: E731
    for rc in sorted(receipts, key=key):
        for d in rc["detainers"]:
            q = d.get("request_id")
            if q and q not in first:
                first[q] = rc
    return first


def build_requests(receipts: list[dict[str, Any]], scenario: Scenario) -> list[dict[str, Any]]:
    first = _first_arrivals(receipts)
    out = []
    for qid in sorted(scenario.requests):
        d = scenario.requests[qid]
        copies = [rc for rc in receipts if any(x.get("request_id") == qid for x in rc["detainers"])]
        if not copies:
            continue
        f = first[qid]
        channels = sorted({rc["channel"] for rc in copies}, key=CHANNEL_ORDER.index)
        stations = sorted({rc["station"] for rc in copies if rc["station"]})
        cancelled_by = next((rc["id"] for rc in receipts for x in rc["detainers"]
                             if x.get("cancels_request_id") == qid), None)
        out.append({
            "request_id": qid,
            "file_number": d.person.file_number,
            "event_number": d.event_number,
            "issued_date": d.issued_date.isoformat(),
            "first_received_at": f["received_at"],
            "first_channel": f["channel"],
            "first_station": f["station"],
            "channels": channels,
            "stations": stations,
            "receipts": [rc["id"] for rc in copies],
            "cancelled_by": cancelled_by,
        })
    return out


def compute_totals(receipts: list[dict[str, Any]], requests: list[dict[str, Any]], years: list[int],
                   timezone: str = "America/New_York") -> dict[str, Any]:
    """The metrics of TRUTH.md for each year, from receipts and requests alone."""
    zone = ZoneInfo(timezone)
    first = _first_arrivals(receipts)
    first_ids = {q: rc["id"] for q, rc in first.items()}

    def local(s: str) -> datetime:
        return _parse(s).astimezone(zone)

    totals: dict[str, Any] = {}
    for y in years:
        reqs = [q for q in requests if local(q["first_received_at"]).year == y]
        n = len(reqs)
        first_counts = {c: sum(1 for q in reqs if q["first_channel"] == c) for c in CHANNEL_ORDER}
        any_counts = {c: sum(1 for q in reqs if c in q["channels"]) for c in CHANNEL_ORDER}
        by_station: dict[str, int] = {}
        for q in reqs:
            if q["first_channel"] == "station_fax":
                by_station[q["first_station"]] = by_station.get(q["first_station"], 0) + 1
        by_month = {}
        for m in range(1, 13):
            key = f"{y}-{m:02d}"
            row = {c: sum(1 for q in reqs if q["first_channel"] == c and local(q["first_received_at"]).month == m)
                   for c in CHANNEL_ORDER}
            row["total"] = sum(row.values())
            by_month[key] = row
        in_year = [rc for rc in receipts if local(rc["received_at"]).year == y]
        copies = {c: sum(1 for rc in in_year if rc["channel"] == c and rc["detainers"]) for c in CHANNEL_ORDER}
        dups = sum(1 for rc in in_year
                   if any(d.get("request_id") and first_ids[d["request_id"]] != rc["id"] for d in rc["detainers"]))
        cancels = sum(1 for rc in in_year for d in rc["detainers"] if d.get("cancels_previous"))
        totals[str(y)] = {
            "unique_requests": n,
            "first_channel_counts": first_counts,
            "any_channel_counts": any_counts,
            "dedicated_line_rate": round(first_counts["dedicated_fax"] / n, 4) if n else 0.0,
            "dedicated_line_any_rate": round(any_counts["dedicated_fax"] / n, 4) if n else 0.0,
            "by_station": dict(sorted(by_station.items())),
            "by_month": by_month,
            "copies_per_channel": copies,
            "duplicates_merged": dups,
            "cancellations": cancels,
            "decoys": sum(1 for rc in in_year if rc["kind"] == "decoy"),
            "quarantined": sum(1 for rc in in_year if rc["kind"] == "broken"),
        }
    return totals


def build_truth(scenario: Scenario, contents: dict[str, bytes], messages: list[dict[str, Any]]) -> dict[str, Any]:
    """contents: receipt id -> bytes as delivered (the attachment bytes for mail)."""
    by_key = {m["key"]: m for m in messages}
    receipts = []
    for r in scenario.receipts:
        rc = receipt_truth(r, contents[r.id])
        if r.message_key:
            rc["message_id"] = by_key[r.message_key]["message_id"]
        receipts.append(rc)
    requests = build_requests(receipts, scenario)
    msgs = []
    for m in messages:
        msgs.append({k: m[k] for k in ("path", "message_id", "from", "subject", "received_at", "forwarded",
                                       "receipts", "no_document")})
    return {
        "schema": SCHEMA,
        "seed": scenario.seed,
        "timezone": str(TZ),
        "receipts": receipts,
        "messages": msgs,
        "requests": requests,
        "totals": compute_totals(receipts, requests, [2025, 2024]),
    }
