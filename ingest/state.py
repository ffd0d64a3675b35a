"""What the ingest needs to know from the ledger, and an in-memory stand-in for tests.

The ledger implements ``IntakeState``. The contract, by what the orchestrator commits:

- every committed receipt's ``source_key`` is returned by ``known_source_keys`` for any
  prefix it starts with (the fax folders ask for ``"file:<channel>:"``);
- a mail message is *handled* once its message record is committed, with or without
  documents (``MailMessage.message_key``), and also once it is quarantined. Handled
  messages are never fetched again; their post-commit action (flag/move) is redone on the
  next run if it did not happen (e.g. a crash right after the commit);
- each ``MailMessage`` with ``error`` set adds one failed attempt for its key. The attempt
  that reaches ``max_attempts`` comes back with ``quarantined=True``: record it in the
  quarantine list with its error (it is then handled). A message whose attempts already
  reach ``max_attempts`` is not fetched either.
- ``MailMessage.already_received`` documents are committed arrivals seen again under a new
  key (the mailbox was renumbered): do not count them again.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from ingest.models import MailMessage, Receipt, ReceivedDocument


class IntakeState(Protocol):
    def known_source_keys(self, prefix: str) -> set[str]:
        """Source keys of committed receipts starting with ``prefix``."""
        ...

    def mail_attempts(self, message_key: str) -> int:
        """Failed attempts recorded for this message so far (0 when none)."""
        ...

    def mail_handled(self, message_key: str) -> bool:
        """True once the message (documents or none) is committed, or quarantined."""
        ...

    def mail_statuses(self, prefix: str) -> dict[str, str]:
        """``handled`` / ``failed`` / ``quarantined`` of every recorded message whose key starts with ``prefix``."""
        ...


class MemoryState:
    """``IntakeState`` kept in memory, with the recording side the ledger implements for real."""

    def __init__(self) -> None:
        self.source_keys: set[str] = set()
        self.receipts: list[Receipt] = []  # counted arrivals, in commit order
        self.handled: set[str] = set()
        self.attempts: Counter[str] = Counter()
        self.quarantine: dict[str, str] = {}  # message key -> error

    # IntakeState
    def known_source_keys(self, prefix: str) -> set[str]:
        return {key for key in self.source_keys if key.startswith(prefix)}

    def mail_attempts(self, message_key: str) -> int:
        return self.attempts[message_key]

    def mail_handled(self, message_key: str) -> bool:
        return message_key in self.handled

    def mail_statuses(self, prefix: str) -> dict[str, str]:
        keys = {key for key in self.handled | set(self.attempts) if key.startswith(prefix)}
        return {
            key: "quarantined" if key in self.quarantine else "handled" if key in self.handled else "failed"
            for key in keys
        }

    # recording (the orchestrator + ledger do this after storing the bytes)
    def commit_document(self, document: ReceivedDocument) -> None:
        """Record a receipt (counted once per source key)."""
        key = document.receipt.source_key
        if key not in self.source_keys:
            self.source_keys.add(key)
            self.receipts.append(document.receipt)

    def record_message(self, message: MailMessage) -> None:
        if message.error is None:
            for document in message.documents:
                self.commit_document(document)
            self.handled.add(message.message_key)
            return
        self.attempts[message.message_key] += 1
        if message.quarantined:
            self.quarantine[message.message_key] = message.error
            self.handled.add(message.message_key)
