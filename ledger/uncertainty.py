"""How far open review items could move the count: each item's effect, and the ranges they span.

An open item is a decision not yet taken; each way it can go changes the requests by at most
one. Its *effect* is computed from the stored requests and arrivals, exactly where the ledger
can tell: the requests before and after the decision, each counted in the year (department time
zone) and on the channel of its first arrival.

- ``possible_detainer``: a document with detainer evidence but no recognised detainer: if it is
  one, a new request first arriving with the document (+1; on the dedicated line if it arrived
  there first).
- ``unreadable_input``: a quarantined input (an unreadable file, a mail part not taken) could
  have been a detainer: +1 at most, on its channel.
- ``merge_pending_review``: a copy merged into a request pending review: if split, its document
  founds a request of its own (+1).
- ``match_kept_apart``: a copy offered as a match but kept apart: if merged, the later of the two
  requests goes (-1).
- ``cancel_doubt``: a copy counted as a request although its cancel box read checked (the form
  named no cancelled date): if it is a cancellation, it leaves its request (-1 when it was the only
  document of it).

The range of the count is the count plus every negative effect (low) or every positive one
(high). The rate's extremes follow from the classes of (dedicated, unique) effects:
a = (+1,+1), e = (0,+1), b = (-1,-1), c = (0,-1), f = (+1,0), g = (-1,0):
max = (d+a+f)/(n+a-c), min = (d-b-g)/(n+e-b). Items are taken as independent: the range is an
envelope (two offers for one copy cannot both be taken), never narrower than the truth.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from ledger import dedupe

if TYPE_CHECKING:
    from ledger.snapshot import OpenItem, Snapshot

DEDICATED = "dedicated_fax"
CLASSES = ("possible_detainer", "unreadable_input", "merge_pending_review", "match_kept_apart", "cancel_doubt")
CANCEL_DOUBT_REASON = "cancels_previous:invalid"  # parsing.assemble: a cancel box read without a cancelled date


class _Arrival(Protocol):
    @property
    def channel(self) -> str: ...

    @property
    def received_at(self) -> datetime: ...

    @property
    def order(self) -> tuple[datetime, int, str]: ...


@dataclass(frozen=True)
class _MailArrival:
    channel: str
    received_at: datetime

    @property
    def order(self) -> tuple[datetime, int, str]:
        return (self.received_at, 2, "")


@dataclass(frozen=True)
class Effect:
    """What one open item would change if decided the way that moves the count."""

    item_id: int
    cls: str  # one of CLASSES
    by_year: dict[int, tuple[int, int]]  # year -> (dedicated-line requests, unique requests) change

    def in_year(self, year: int) -> tuple[int, int]:
        return self.by_year.get(year, (0, 0))

    @property
    def size(self) -> int:
        return max((abs(n) * 2 + abs(d) for d, n in self.by_year.values()), default=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "class": self.cls,
            "by_year": {
                str(y): {"unique_requests": n, "dedicated_line": d} for y, (d, n) in sorted(self.by_year.items())
            },
        }

    def describe(self) -> str:
        """``+1 request (dedicated line) in 2025``; empty when the item moves no count."""
        parts = []
        for year, (d, n) in sorted(self.by_year.items()):
            if n:
                text = f"{n:+d} request" + (" (dedicated line)" if d else "")
            elif d:
                text = f"{d:+d} dedicated-line first arrival"
            else:
                continue
            if self.cls == "unreadable_input":
                text += " at most"
            parts.append(f"{text} in {year}")
        return "; ".join(parts)


def _contribution(arrivals: Sequence[_Arrival], zone: ZoneInfo) -> dict[int, tuple[int, int]]:
    if not arrivals:
        return {}
    first = min(arrivals, key=lambda a: a.order)
    return {first.received_at.astimezone(zone).year: (int(first.channel == DEDICATED), 1)}


def _delta(
    before: Iterable[Sequence[_Arrival]], after: Iterable[Sequence[_Arrival]], zone: ZoneInfo
) -> dict[int, tuple[int, int]]:
    out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for sign, requests in ((-1, before), (1, after)):
        for arrivals in requests:
            for year, (d, n) in _contribution(arrivals, zone).items():
                out[year][0] += sign * d
                out[year][1] += sign * n
    return {y: (d, n) for y, (d, n) in out.items() if d or n}


class _Index:
    """Lookups from a snapshot: copy keys, request members, documents' arrivals."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.doc_by_sha = {sha: doc for doc, sha in snapshot.doc_sha.items()}
        self.copy_by_key = {
            dedupe.copy_key(snapshot.doc_sha[doc], index): cid for cid, (doc, index, _) in snapshot.copies.items()
        }
        self.members: dict[str, list[int]] = defaultdict(list)
        for cid, rid in snapshot.links.items():
            self.members[rid].append(cid)

    def arrivals(self, docs: Iterable[int]) -> list[_Arrival]:
        return [a for doc in set(docs) for a in self.snapshot.by_doc.get(doc, ())]

    def request_docs(self, rid: str, without: int | None = None) -> set[int]:
        return {self.snapshot.copies[c][0] for c in self.members.get(rid, ()) if c != without}

    def request_of(self, key: str | None) -> tuple[int | None, str | None]:
        cid = self.copy_by_key.get(key) if key else None
        return cid, (self.snapshot.links.get(cid) if cid is not None else None)


def effects(snapshot: Snapshot, items: Iterable[OpenItem], tz: str | ZoneInfo) -> list[Effect]:
    """The effect of every open item that can move a count (items that cannot are left out)."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    index = _Index(snapshot)
    out = []
    for item in items:
        found = _effect(index, item, zone)
        if found is not None and found.by_year:
            out.append(found)
    return out


def _effect(index: _Index, item: OpenItem, zone: ZoneInfo) -> Effect | None:
    if item.kind in ("possible_detainer", "quarantine"):
        cls = "possible_detainer" if item.kind == "possible_detainer" else "unreadable_input"
        doc = index.doc_by_sha.get(item.document_sha256 or "")
        arrivals: list[_Arrival] = index.arrivals([doc]) if doc is not None else []
        if not arrivals and item.key.startswith("quarantine:mail:") and item.received_at is not None:
            arrivals = [_MailArrival("bfs_email", item.received_at)]  # a message never taken in
        return Effect(item.id, cls, _delta([], [arrivals], zone))
    if item.kind == "match":
        copy, request = index.request_of(item.copy_key)
        _, other_request = index.request_of(item.other_copy_key)
        if copy is None or request is None or other_request is None:
            return None
        if request == other_request:  # merged pending review: a split gives the copy's document its own request
            doc = index.snapshot.copies[copy][0]
            rest = index.request_docs(request, without=copy)
            before = [index.arrivals(index.request_docs(request))]
            after = [index.arrivals(rest), index.arrivals([doc])]
            return Effect(item.id, "merge_pending_review", _delta(before, after, zone))
        both = [index.request_docs(request), index.request_docs(other_request)]
        before = [index.arrivals(docs) for docs in both]
        return Effect(item.id, "match_kept_apart", _delta(before, [index.arrivals(both[0] | both[1])], zone))
    if item.kind == "copy" and CANCEL_DOUBT_REASON in item.reason.split(","):
        copy, request = index.request_of(item.copy_key)
        if copy is None or request is None:
            return None
        before = [index.arrivals(index.request_docs(request))]
        after = [index.arrivals(index.request_docs(request, copy))]
        return Effect(item.id, "cancel_doubt", _delta(before, after, zone))
    return None


def _rate(d: int, n: int) -> float:
    return round(d / n, 4) if n > 0 else 0.0


def ranges(unique: int, dedicated: int, year: int, found: Sequence[Effect]) -> dict[str, Any]:
    """The year's ranges from its count, its dedicated-line count and the open items' effects."""
    low, high = unique, unique
    components: dict[str, list[int]] = {cls: [0, 0] for cls in CLASSES}
    counts: dict[tuple[int, int], int] = defaultdict(int)
    moving = 0
    for effect in found:
        d, n = effect.in_year(year)
        if not (d or n):
            continue
        moving += 1
        low += min(0, n)
        high += max(0, n)
        components[effect.cls][0] += min(0, n)
        components[effect.cls][1] += max(0, n)
        counts[(d, n)] += 1
    a, e, b, c = counts[(1, 1)], counts[(0, 1)], counts[(-1, -1)], counts[(0, -1)]
    f, g = counts[(1, 0)], counts[(-1, 0)]
    rate = _rate(dedicated, unique)
    top = _rate(dedicated + a + f, unique + a - c)
    bottom = _rate(dedicated - b - g, unique + e - b)
    return {
        "unique_requests_range": [low, high],
        "dedicated_line_rate_range": [min(rate, bottom), max(rate, top)],
        "open_items_moving_count": moving,
        "range_components": components,
    }


def range_text(unique: int, span: Sequence[int], moving: int) -> str:
    """``56 requests (55–58 depending on 4 open review items)``; no brackets when nothing is open."""
    noun = "request" if unique == 1 else "requests"
    if moving == 0:
        return f"{unique} {noun}"
    items = "item" if moving == 1 else "items"
    return f"{unique} {noun} ({span[0]}–{span[1]} depending on {moving} open review {items})"
