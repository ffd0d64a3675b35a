"""``assign``: the greedy walk that groups copies into requests, founding copy first."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from ledger.dedupe_rules.cancellation import link_cancellation
from ledger.dedupe_rules.config import DedupeConfig
from ledger.dedupe_rules.copy_facts import CopyFacts
from ledger.dedupe_rules.forming_request import FormingRequest, arrived_near, days_off
from ledger.dedupe_rules.identity import block_keys, closeness, request_id_for
from ledger.dedupe_rules.matching import Match, compare
from ledger.dedupe_rules.names import name_tokens
from ledger.dedupe_rules.outcome import RULE_FIRST, RULE_OPERATOR, Assignment, Link, Review


def assign(
    copies: Sequence[CopyFacts],
    config: DedupeConfig | None = None,
    decisions: Mapping[tuple[str, str], bool] | None = None,
) -> Assignment:
    """Group copies into requests and link cancellation notices. Deterministic in the *set* of copies.

    ``decisions`` maps a pair of copy keys (sorted, see ``pair``) to the operator's ruling:
    True = the same request, False = not the same.
    """
    config = config or DedupeConfig()
    decisions = decisions or {}
    ordered = sorted(copies, key=lambda c: (c.order, c.key))
    out = Assignment()
    requests: list[FormingRequest] = []
    by_block: dict[tuple[str, object], dict[str, FormingRequest]] = defaultdict(dict)
    by_token: dict[str, dict[str, tuple[FormingRequest, set[str], set[str], set[str]]]] = defaultdict(dict)
    request_of: dict[str, FormingRequest] = {}
    decided: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for (a, b), same in sorted(decisions.items()):
        decided[a].append((b, same))
        decided[b].append((a, same))

    for copy in ordered:
        if copy.cancels_previous:
            continue
        candidates: dict[str, FormingRequest] = {}
        for key in sorted(block_keys(copy), key=repr):
            candidates.update(by_block.get(key, {}))
        for token in sorted(name_tokens(copy.name)):
            # Only a word of the name in common: a candidate if a copy with that word has an
            # identifier an OCR slip or two from this one's (``token_linked``), or arrived
            # within the window (then at most a near miss for review: ``_name_and_arrival``).
            for rid, (req, files, events, subjects) in by_token.get(token, {}).items():
                if rid not in candidates and (
                    closeness(copy.file_number, files) in (1, 2) or closeness(copy.event_number, events) in (1, 2)
                    or closeness(copy.subject_id, subjects) in (1, 2)
                    or arrived_near(copy, req, config.issued_window_days)
                ):
                    candidates[rid] = req
        forced: FormingRequest | None = None
        excluded: set[str] = set()
        for other, same in decided.get(copy.key, ()):
            ruled = request_of.get(other)
            if ruled is None:
                continue
            if same:
                if forced is None or ruled.order < forced.order:
                    forced = ruled
            else:
                excluded.add(ruled.id)

        chosen: FormingRequest | None = None
        link: Link | None = None
        if forced is not None:
            chosen = forced
            link = Link(copy.key, forced.id, RULE_OPERATOR, 100.0)
        else:
            scored: list[tuple[float, int, int, FormingRequest, Match]] = []
            for req in candidates.values():
                if req.id in excluded:
                    continue
                match = compare(copy, req, config)
                if match is not None:
                    scored.append((match.score, days_off(copy, req), req.order, req, match))
            # Best score first; on a tie, the request issued nearest the copy's arrival, then the earliest.
            merges = sorted((s for s in scored if s[4].merge), key=lambda s: (-s[0], s[1], s[2]))
            misses = sorted((s for s in scored if not s[4].merge), key=lambda s: (-s[0], s[1], s[2]))
            if merges:
                score, _, _, chosen, match = merges[0]
                link = Link(copy.key, chosen.id, match.rule, score)
                if len(merges) > 1 and merges[1][0] == score:
                    match = Match(match.rule, score, True, match.reason + "+ambiguous")
                if score < config.review_below or match.reason.endswith("+ambiguous"):
                    out.reviews.append(
                        Review(
                            f"match:{copy.key}:{chosen.founder.key}",
                            "match",
                            copy.key,
                            chosen.founder.key,
                            score,
                            "merge",
                            match.reason,
                        )
                    )
            else:
                for score, _, _, req, match in misses[:1]:
                    out.reviews.append(
                        Review(
                            f"match:{copy.key}:{req.founder.key}",
                            "match",
                            copy.key,
                            req.founder.key,
                            score,
                            "separate",
                            match.reason,
                        )
                    )

        if chosen is None:
            rid = request_id_for(copy.key)
            while rid in out.requests:  # vanishingly unlikely: a hash collision
                rid = request_id_for(rid + copy.key)
            chosen = FormingRequest(rid, len(requests), copy)
            requests.append(chosen)
            out.requests[rid] = copy.key
            out.members[rid] = []
            link = Link(copy.key, rid, RULE_FIRST, 100.0)
        assert link is not None
        chosen.add(copy)
        out.members[chosen.id].append(copy.key)
        out.links[copy.key] = link
        request_of[copy.key] = chosen
        for key in block_keys(copy):
            by_block[key][chosen.id] = chosen
        for token in name_tokens(copy.name):
            _, files, events, subjects = by_token[token].setdefault(chosen.id, (chosen, set(), set(), set()))
            if copy.file_number:
                files.add(copy.file_number)
            if copy.event_number:
                events.add(copy.event_number)
            if copy.subject_id:
                subjects.add(copy.subject_id)

    for copy in ordered:
        if not copy.cancels_previous:
            continue
        out.cancellations[copy.key] = link_cancellation(copy, requests, by_block, request_of, decided, config, out)
    return out
