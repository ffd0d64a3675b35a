"""What ``assign`` returns: each copy's link to its request (with the rule that made it), the
cancellation notices' links, and the matches offered for review."""

from __future__ import annotations

from dataclasses import dataclass, field

RULE_FIRST = "first"
RULE_SAME_CONTENT = "same_content"  # a further arrival of identical bytes (RequestView.receipt_rules)
RULE_SAME_IDENTITY = "same_identity"
RULE_FUZZY = "fuzzy"
RULE_OPERATOR = "operator_merge"
RULE_CANCELS = "cancels"
RULE_UNLINKED = "unlinked"


@dataclass(frozen=True)
class Link:
    copy_key: str
    request_id: str
    rule: str
    score: float


@dataclass(frozen=True)
class CancelLink:
    copy_key: str
    request_id: str | None
    rule: str
    score: float


@dataclass(frozen=True)
class Review:
    """A match the rules could not settle with confidence. Reasons are slugs, never values."""

    key: str
    kind: str  # match | cancellation
    copy_key: str
    other_copy_key: str | None
    score: float
    default_decision: str  # merge | separate | link | none
    reason: str


@dataclass
class Assignment:
    requests: dict[str, str] = field(default_factory=dict)  # request id -> founding copy key
    members: dict[str, list[str]] = field(default_factory=dict)  # request id -> copy keys, in order
    links: dict[str, Link] = field(default_factory=dict)  # copy key -> link (requests only)
    cancellations: dict[str, CancelLink] = field(default_factory=dict)  # copy key -> link
    reviews: list[Review] = field(default_factory=list)
