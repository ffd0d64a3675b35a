"""Post-commit actions on a handled mail message: "the intake is done with this message".

Setting ``channels.bfs_email.action``: ``flag`` adds the keyword ``flag``; ``move`` moves the
message to ``move_to``; ``none`` leaves it. Each is a small class per store (the mailbox session
picks it); ``pending`` tells whether a handled message the poll sees again still lacks it (a
crash right after the commit), so the next poll catches it up. ``check`` runs when the folder is
selected: a folder whose ``PERMANENTFLAGS`` allow no new keyword (no ``\\*``) cannot keep ``flag``'s
keyword (Exchange Online's shared folders, some appliances): the server would drop it silently and
every run would flag the same messages again. ``flag`` then falls back, for that session, to what
``none`` does (the ledger's record of handled messages, with the UID high-water mark, is what
keeps them from being read twice) and says so once in the run's log; ``move`` works everywhere.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

from imapclient import IMAPClient

from core.config import MailChannelSettings
from core.errors import ChannelUnavailable

log = logging.getLogger(__name__)

DELETED = b"\\Deleted"
ANY_KEYWORD = b"\\*"


class KeywordsNotSupported(ChannelUnavailable):
    """The mailbox folder does not keep new keywords, so ``action = "flag"`` cannot mark handled messages.

    Not raised by a poll (``AddKeyword`` falls back to the ledger's record); its remedy is what the run's
    warning and ``mailbox inspect`` recommend."""

    remedy = (
        'To mark handled messages in the mailbox, set action = "move" (with move_to, a folder of the mailbox) in '
        '[channels.bfs_email]; or action = "none" to say that the ledger alone knows what was handled; '
        "`detainer-intake mailbox inspect` shows what the folder supports."
    )


def keeps_keyword(permanent_flags: object, keyword: bytes) -> bool:
    """Whether a folder with these ``PERMANENTFLAGS`` keeps ``keyword`` (any new keyword, or this one)."""
    flags = {bytes(flag).lower() for flag in permanent_flags or ()}  # type: ignore[attr-defined]
    return ANY_KEYWORD in flags or keyword.lower() in flags


class ImapAction(Protocol):
    name: str  # the setting's value, for the log

    @property
    def touches_mailbox(self) -> bool: ...

    def pending(self, flags: set[bytes]) -> bool: ...

    def check(self, selected: dict[bytes, object], where: str) -> None:
        """Raise ``ChannelUnavailable`` when the selected folder cannot take this action."""
        ...

    def pending_search(self) -> list[str | bytes] | None:
        """SEARCH criteria of the messages still lacking the action (None: it leaves no trace to look for)."""
        ...

    def apply(self, client: IMAPClient, uid: int) -> None: ...


class MaildirAction(Protocol):
    name: str
    touches_mailbox: bool

    def pending(self, flags: set[bytes]) -> bool: ...

    def apply(self, root: Path, path: Path) -> None: ...


class NoAction:
    """``action = "none"``, and ``flag`` in a Maildir export (no keywords there): the ledger knows what was handled."""

    name = "none"
    touches_mailbox = False

    def pending(self, flags: set[bytes]) -> bool:
        return False

    def check(self, selected: dict[bytes, object], where: str) -> None:
        pass

    def pending_search(self) -> list[str | bytes] | None:
        return None

    def apply(self, where: object, message: object) -> None:
        pass


class AddKeyword:
    """IMAP: add the keyword (``$DetainerIntake``); ``\\Seen`` is left as the reader left it. On a folder
    that keeps no new keyword it leaves no trace, like ``NoAction`` (``check``)."""

    name = "flag"

    def __init__(self, keyword: str) -> None:
        self.keyword = keyword.encode()
        self.kept = True  # False once check() found a folder that keeps no new keyword

    @property
    def touches_mailbox(self) -> bool:
        return self.kept

    def pending(self, flags: set[bytes]) -> bool:
        return self.kept and self.keyword not in flags

    def pending_search(self) -> list[str | bytes] | None:
        return ["NOT", "KEYWORD", self.keyword] if self.kept else None

    def check(self, selected: dict[bytes, object], where: str) -> None:
        kept = keeps_keyword(selected.get(b"PERMANENTFLAGS"), self.keyword)
        if self.kept and not kept:
            log.warning(
                'bfs_email: %s keeps no new keywords (PERMANENTFLAGS lack \\*): action = "flag" cannot mark handled '
                'messages, so this run leaves them unmarked and the ledger alone knows what was handled (as with '
                'action = "none"). %s', where, KeywordsNotSupported.remedy,
            )
        self.kept = kept

    def apply(self, client: IMAPClient, uid: int) -> None:
        if self.kept:
            client.add_flags([uid], [self.keyword])


class MoveToFolder:
    """IMAP: UID MOVE to the folder (created when missing), else COPY + ``\\Deleted`` + UID EXPUNGE."""

    name = "move"
    touches_mailbox = True

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def pending(self, flags: set[bytes]) -> bool:
        return True  # still in the polled folder

    def pending_search(self) -> list[str | bytes] | None:
        return []  # every message still in the folder

    def check(self, selected: dict[bytes, object], where: str) -> None:
        pass  # \\Deleted (the COPY fallback) is a system flag every server keeps

    def apply(self, client: IMAPClient, uid: int) -> None:
        if not client.folder_exists(self.folder):
            client.create_folder(self.folder)
        if client.has_capability("MOVE"):
            client.move([uid], self.folder)
        else:
            client.copy([uid], self.folder)
            client.add_flags([uid], [DELETED])
            if client.has_capability("UIDPLUS"):
                client.uid_expunge([uid])


class MoveToMaildirFolder:
    """Maildir: file the message under the Maildir++ folder ``.<folder>`` (its ``cur/``)."""

    name = "move"
    touches_mailbox = True

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def pending(self, flags: set[bytes]) -> bool:
        return True  # still in new/ or cur/

    def apply(self, root: Path, path: Path) -> None:
        target = root / f".{self.folder}"
        for sub in ("cur", "new", "tmp"):
            (target / sub).mkdir(parents=True, exist_ok=True)
        os.rename(path, target / "cur" / path.name)


def imap_action(settings: MailChannelSettings) -> ImapAction:
    if settings.action == "flag":
        return AddKeyword(settings.flag)
    if settings.action == "move":
        return MoveToFolder(settings.move_to)
    return NoAction()


def maildir_action(settings: MailChannelSettings) -> MaildirAction:
    return MoveToMaildirFolder(settings.move_to) if settings.action == "move" else NoAction()
