"""Body of ``detainer-intake mailbox inspect``; ``detainer_intake.cli`` wires it to typer.

A dry run over the BFS mailbox: logs in as a run does (password or OAuth2), selects the folder and
prints what the server offers (AUTH mechanisms, MOVE, UIDPLUS, whether the folder keeps keywords),
per folder the message count, UIDVALIDITY and the range of delivery dates, and what the next run
would fetch (new above the ledger's high-water mark, older ones not handled, actions to catch up,
the receive window). Nothing is fetched, flagged, moved or recorded. No password, token or personal
data is printed. Exit 0; a mailbox that cannot be opened exits 5 with the remedy. ``mailbox check`` is
the same with exit 5 also when a problem is listed.
"""

from __future__ import annotations

import json
from typing import Any

from core.config import Settings
from core.errors import ChannelUnavailable, ExitCode, LedgerError
from detainer_intake.commands.common import open_configured
from ingest.mailbox import inspect_mailbox
from ingest.state import IntakeState, MemoryState


def inspect_command(settings: Settings, as_json: bool, *, strict: bool = False) -> int:
    """``strict`` (``mailbox check``): a problem found (a folder that cannot keep the action's
    keyword, a disabled mailbox) exits 5 instead of 0."""
    mail = settings.channels.bfs_email
    if mail.maildir is None and not mail.host:
        raise ChannelUnavailable(
            "bfs_email: no mailbox configured (neither host nor maildir)",
            remedy="Set [channels.bfs_email] host and username (or maildir); README, \"The BFS mailbox\".",
        )
    ledger = None
    note = ""
    state: IntakeState
    try:
        ledger = open_configured(settings, writes=False)
        state = ledger
    except LedgerError:
        state, note = MemoryState(), "the ledger cannot be read: counted as if nothing had been handled yet"
    try:
        report = inspect_mailbox(mail, state)
    finally:
        if ledger is not None:
            ledger.close()
    if note:
        report["note"] = note
    if not mail.enabled:
        report.setdefault("problems", []).append("enabled = false: runs do not read this mailbox")
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        for line in _lines(report):
            print(line)
    if strict and report.get("problems"):
        return int(ExitCode.channel_unavailable)
    return int(ExitCode.ok)


def _lines(report: dict[str, Any]) -> list[str]:
    lines = []
    if report["store"] == "maildir":
        lines.append(f"mailbox: Maildir {report['maildir']}")
    else:
        lines.append(f"mailbox: IMAP {report['server']} ({report['security']}), login {report['login']}")
        lines.append(
            f"server: AUTH {', '.join(report['auth_mechanisms']) or 'none advertised'}; "
            f"MOVE {_yes(report['move'])}; UIDPLUS {_yes(report['uidplus'])}; action = \"{report['action']}\""
        )
    for folder in report["folders"]:
        dates = f", delivered {folder['first'][:10]} .. {folder['last'][:10]} (UTC)" if folder.get("first") else ""
        text = f"folder {folder['folder']!r}: {folder['messages']} message(s)"
        if "uidvalidity" in folder:
            text += f", UIDVALIDITY {folder['uidvalidity']}"
        text += dates
        if "keywords" in folder:
            text += f"; keeps new keywords: {_yes(folder['keywords'])}"
        lines.append(text)
        plan = folder.get("next_run")
        if plan and "new" in plan:
            window = " ".join(str(part) for part in plan["window"]) or "none"
            lines.append(
                f"  next run: {plan['to_read']} to fetch ({plan['new']} new above UID {plan['above_uid']}, "
                f"{plan['older_not_handled']} older not handled), {plan['actions_to_catch_up']} action(s) to catch "
                f"up; server-side window: {window}"
            )
        elif plan:
            lines.append(f"  next run: {plan['to_read']} to read")
    for problem in report.get("problems", []):
        lines.append(f"PROBLEM: {problem}")
    if report.get("note"):
        lines.append(f"note: {report['note']}")
    lines.append("nothing was fetched, marked or recorded")
    return lines


def _yes(value: object) -> str:
    return "yes" if value else "no"
