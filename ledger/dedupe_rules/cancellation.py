"""Cancellation notices: linked to the request they cancel, never counted as requests."""

from __future__ import annotations

from collections.abc import Mapping

from ledger.dedupe_rules.config import DedupeConfig
from ledger.dedupe_rules.copy_facts import CopyFacts
from ledger.dedupe_rules.forming_request import FormingRequest, best_name_score, days_apart
from ledger.dedupe_rules.identity import block_keys
from ledger.dedupe_rules.outcome import RULE_CANCELS, RULE_OPERATOR, RULE_UNLINKED, Assignment, CancelLink, Review


def _cancel_score(copy: CopyFacts, request: FormingRequest, config: DedupeConfig) -> tuple[float, int] | None:
    """(score, days between the cancelled date and the request's issue date) for a cancellation."""
    files = request.files
    if copy.file_number and files:
        if copy.file_number not in files:
            return None
        score = 100.0
    else:
        name = best_name_score(copy, request)
        dobs = {m.dob for m in request.members if m.dob}
        if not (copy.dob and copy.dob in dobs and name is not None and name >= config.name_similarity):
            return None
        score = name
    if copy.event_number and copy.event_number in request.events:
        return max(score, 99.0), 0
    target = copy.cancelled_detainer_date
    gap = days_apart(target, request.issued) if target else None
    if gap is None:
        score = min(score, 90.0)
        gap = 10**6
    elif gap > config.issued_window_days:
        score = min(score, 70.0)
    else:
        score -= gap
    return round(score, 2), gap


def link_cancellation(
    copy: CopyFacts,
    requests: list[FormingRequest],
    by_block: Mapping[tuple[str, object], dict[str, FormingRequest]],
    request_of: Mapping[str, FormingRequest],
    decided: Mapping[str, list[tuple[str, bool]]],
    config: DedupeConfig,
    out: Assignment,
) -> CancelLink:
    excluded: set[str] = set()
    for other, same in decided.get(copy.key, ()):
        req = request_of.get(other)
        if req is not None and same:
            return CancelLink(copy.key, req.id, RULE_OPERATOR, 100.0)
        if req is not None:
            excluded.add(req.id)
    candidates = {rid: r for key in block_keys(copy) for rid, r in by_block.get(key, {}).items()}
    scored = []
    for req in candidates.values():
        if req.id in excluded:
            continue
        result = _cancel_score(copy, req, config)
        if result is not None:
            scored.append((-result[0], result[1], -req.order, req, result[0]))
    if not scored:
        out.reviews.append(
            Review(
                f"cancel:{copy.key}",
                "cancellation",
                copy.key,
                None,
                0.0,
                "none",
                "cancelled_request_not_found",
            )
        )
        return CancelLink(copy.key, None, RULE_UNLINKED, 0.0)
    scored.sort(key=lambda s: s[:3])
    _, _, _, best, score = scored[0]
    if score < config.review_below:
        out.reviews.append(
            Review(
                f"cancel:{copy.key}",
                "cancellation",
                copy.key,
                best.founder.key,
                score,
                "link",
                "cancellation_match_uncertain",
            )
        )
    return CancelLink(copy.key, best.id, RULE_CANCELS, score)
