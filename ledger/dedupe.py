"""Cross-channel dedupe: detainer copies -> unique requests. Pure functions over plain data.

The same detainer reaches the department by the dedicated fax line, a station's fax and
the BFS mailbox, as different bytes. ``assign`` groups every copy into requests with
these rules, in order, each recorded with its reason:

1. identical bytes (same SHA-256): one document, so literally the same copies;
2. ``same_identity``: same A-number (file number) and same event number;
3. ``fuzzy``: same A-number, or same name (OCR-tolerant) and date of birth, with issued
   dates at most ``issued_window_days`` apart and no conflicting event number.

Never merged: different event numbers, issued dates further apart than the window,
different A-numbers (a one-character difference is offered for review, default separate).
Never merged automatically, only offered for review (kept apart): copies whose arrivals are
more than ``max_arrival_gap_days`` apart, a copy whose issue date is further than the window
from one of the request's, and a copy whose event number, read without confidence, has another
office code or year-month, unless its issue date agrees (``hold_apart``).
A copy whose cancel box is checked is a cancellation notice: linked to the request it
cancels, never counted as a request. Matches scoring below ``review_below`` are merged
(their default) but also queued for review; near misses stay separate and are queued
(among them a copy whose identifiers OCR lost but whose name agrees with a request's
copies that arrived within the window).
Operator decisions (same / not the same) override all of this.

Order independence: ``assign`` sorts copies by their document's first arrival (then a
stable key) and walks them greedily, so the result depends only on the set of copies.
Request ids derive from the founding (earliest) copy's content key.

The rules live in ``ledger.dedupe_rules`` (one module per concern); this module is the entry
point the ledger and the application import them from.
"""

from __future__ import annotations

from ledger.dedupe_rules.cancellation import link_cancellation
from ledger.dedupe_rules.config import DedupeConfig
from ledger.dedupe_rules.copy_facts import CopyFacts
from ledger.dedupe_rules.forming_request import FormingRequest, arrived_near, best_name_score
from ledger.dedupe_rules.grouping import assign
from ledger.dedupe_rules.hold_apart import event_structure, hold_apart, structurally_different
from ledger.dedupe_rules.identity import (
    FAR,
    SAME,
    Identity,
    block_keys,
    closeness,
    copy_key,
    pair,
    request_id_for,
    slipped,
    token_linked,
)
from ledger.dedupe_rules.matching import NEAR_NAME_MARGIN, OFFER_NAME_MARGIN, Match, compare
from ledger.dedupe_rules.names import name_score, name_tokens
from ledger.dedupe_rules.normalize import (
    normalize_event_number,
    normalize_file_number,
    normalize_name,
    normalize_subject_id,
)
from ledger.dedupe_rules.outcome import (
    RULE_CANCELS,
    RULE_FIRST,
    RULE_FUZZY,
    RULE_OPERATOR,
    RULE_SAME_CONTENT,
    RULE_SAME_IDENTITY,
    RULE_UNLINKED,
    Assignment,
    CancelLink,
    Link,
    Review,
)

__all__ = [
    "FAR",
    "NEAR_NAME_MARGIN",
    "OFFER_NAME_MARGIN",
    "RULE_CANCELS",
    "RULE_FIRST",
    "RULE_FUZZY",
    "RULE_OPERATOR",
    "RULE_SAME_CONTENT",
    "RULE_SAME_IDENTITY",
    "RULE_UNLINKED",
    "SAME",
    "Assignment",
    "CancelLink",
    "CopyFacts",
    "DedupeConfig",
    "FormingRequest",
    "Identity",
    "Link",
    "Match",
    "Review",
    "arrived_near",
    "assign",
    "best_name_score",
    "block_keys",
    "closeness",
    "compare",
    "copy_key",
    "event_structure",
    "hold_apart",
    "link_cancellation",
    "name_score",
    "name_tokens",
    "normalize_event_number",
    "normalize_file_number",
    "normalize_name",
    "normalize_subject_id",
    "pair",
    "request_id_for",
    "slipped",
    "structurally_different",
    "token_linked",
]
