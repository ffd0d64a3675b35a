"""What the operator commands share: the configured ledger, the --who check and a console that
prints values as read (no markup)."""

from __future__ import annotations

import os

from rich.console import Console

from application.review import BadArgument
from core.config import Settings
from ledger.db import open_ledger
from ledger.dedupe import DedupeConfig
from ledger.store import Ledger


def open_configured(settings: Settings, *, writes: bool) -> Ledger:
    """The configured ledger. Only a command that writes may migrate it: a read (metrics, report,
    review list) never changes the schema behind a DBA's back (``detainer-intake db upgrade`` does)."""
    return open_ledger(settings.ledger_url, DedupeConfig.from_settings(settings.dedupe), migrate=writes)


def checked_who(who: str) -> str:
    who = (who or "").strip()
    if not who:
        raise BadArgument("--who must name the person making the change")
    if len(who) > 128:
        raise BadArgument("--who is limited to 128 characters")
    return who


def plain_console() -> Console:
    # No markup: values read from documents and lists (names, file names) may hold "[...]".
    console = Console(highlight=False, soft_wrap=True, markup=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = max(console.width, 160)  # piped to a file or pager: do not fold values at 80 columns
    return console


