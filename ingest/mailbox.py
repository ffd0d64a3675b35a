"""The BFS mailbox: IMAP (production) or a local Maildir (mail exports, the sample corpus).

Reading never changes the mailbox: IMAP bodies are fetched with ``BODY.PEEK[]`` (``\\Seen``
stays as it was) together with INTERNALDATE; a Maildir is only read. Each message comes
back as a ``MailMessage`` (documents, rejected parts, or an error), keyed by
(account, folder, UIDVALIDITY, UID) or by its Maildir file name (``ingest.models``).
Maildir files get CRLF line ends, as an IMAP server would serve them, so a message read
from a Maildir and the same message served over IMAP give identical bytes and receipts.

The post-commit action (``MailboxSession.complete`` / ``complete_message``) runs only after
the orchestrator stored the message's documents and committed the ledger (or recorded its
quarantine): add the keyword ``flag``, or move to ``move_to`` (UID MOVE, else COPY +
``\\Deleted`` + UID EXPUNGE), or nothing: the classes of ``ingest.mail_actions``. It marks
"the intake is done with this message"; quarantined messages are listed by
``detainer-intake review list``. A handled message whose action did not happen (crash right
after the commit) gets it on the next poll. In a Maildir, ``flag`` does nothing (the export
stays as it was) and ``move`` files the message under the Maildir++ folder ``.<move_to>``.

A poll fetches only what it needs (``_ImapSource.plan``): the messages above the highest UID the
ledger recorded for the folder and UIDVALIDITY (``UID n+1:*``), and below it the ones still in the
folder and not handled; handled messages still lacking their action are found by SEARCH. The receive
window (``max_age_days``, a backfill's dates) is part of every SEARCH. ``inspect_mailbox`` reports that
plan and the server's capabilities without taking anything; ``check_login`` only logs in and examines.
At select, the action checks the folder can take it (``flag``: ``PERMANENTFLAGS`` with ``\\*``).

A message that cannot be fetched or parsed comes back with ``error`` set and is retried on
later runs; the attempt reaching ``max_attempts`` is marked ``quarantined`` and the
message is not fetched again. A dropped connection costs the message being fetched one
attempt; the session reconnects and carries on with the rest of the mailbox.

TLS is the default (``security = "ssl"``: IMAPS; ``"starttls"``); the connection is plain
only with ``security = "none"``. The password comes from ``password_env`` or
``password_file`` and never appears in errors or logs. With ``auth = "oauth2"`` the login is SASL
XOAUTH2 (or OAUTHBEARER) with a client-credentials token from ``ingest.oauth``; a token the server
refuses is fetched again once, then ends the poll as ``MailboxLoginRefused``.
"""

from __future__ import annotations

import imaplib
import logging
import os
import re
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from core.channels import Channel
from core.config import MailChannelSettings
from core.errors import ChannelUnavailable, MalformedMessage
from ingest.folders import mtime_utc
from ingest.mail_actions import (
    ImapAction,
    KeywordsNotSupported,
    MaildirAction,
    imap_action,
    keeps_keyword,
    maildir_action,
)
from ingest.mime import parse_message
from ingest.models import MailMessage, ReceivedDocument, ReceivedFrom, RejectedPart, sha256_hex
from ingest.oauth import REMEDIES, MailboxLoginRefused, TokenSource, token_source
from ingest.state import IntakeState

log = logging.getLogger(__name__)

MAX_RECONNECTS = 3  # per poll
_LISTING_CHUNK = 500
_CONNECTION_ERRORS = (imaplib.IMAP4.abort, OSError)  # the session is gone
_IMAP_ERRORS = (imaplib.IMAP4.error, OSError)  # includes NO/BAD answers (IMAPClientError)
_MID_UNSAFE = re.compile(r"[;\s]")
_BARE_LF = re.compile(rb"(?<!\r)\n")


def poll_mailbox(settings: MailChannelSettings, state: IntakeState, tz: str) -> Iterator[MailMessage]:
    """Every message not handled yet, oldest first, over one connection.

    Prefer ``MailboxSession`` when the post-commit actions should share the connection.
    """
    with MailboxSession(settings) as session:
        yield from session.poll(state, tz)


def complete_message(settings: MailChannelSettings, message: MailMessage) -> bool:
    """The post-commit action for one message over its own connection; True when done."""
    with MailboxSession(settings) as session:
        return session.complete(message)


class MailboxSession:
    """One connection to the configured mailbox serving a poll and its completions.

    ``with MailboxSession(settings) as s: for m in s.poll(state, tz): ...commit...; s.complete(m)``
    Raises ``ChannelUnavailable`` when the mailbox cannot be opened.
    """

    def __init__(self, settings: MailChannelSettings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self._source: _MaildirSource | _ImapSource
        if settings.maildir is not None:
            self._source = _MaildirSource(settings)
        else:
            self._source = _ImapSource(settings, ssl_context)

    def __enter__(self) -> MailboxSession:
        self._source.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._source.close()

    def poll(
        self, state: IntakeState, tz: str, since: date | None = None, until: date | None = None
    ) -> Iterator[MailMessage]:
        """Messages not handled yet, oldest first; over IMAP only those the window's SEARCH finds
        (``max_age_days``, and ``since``/``until`` of a backfill, a day wider: the caller applies the exact window)."""
        known = _known_mail_arrivals(state)
        builder = _Builder(self.settings, ZoneInfo(tz), known)
        if isinstance(self._source, _ImapSource):
            yield from self._source.poll(state, builder, search_window(self.settings, since, until))
        else:
            yield from self._source.poll(state, builder)

    def complete(self, message: MailMessage) -> bool:
        """Flag or move ``message`` as configured (after the ledger commit); True when done.

        A failed message that will be retried is left alone (moving it would end its retries).
        """
        if message.error is not None and not message.quarantined:
            log.warning("bfs_email: %s failed and will be retried; no post-commit action", message.message_key)
            return False
        if not self._source.action.touches_mailbox:
            return True
        return self._source.complete(message)


def _known_mail_arrivals(state: IntakeState) -> set[tuple[str, str]]:
    """(Message-ID, part) of every committed mail document, whatever key it came under."""
    known = set()
    for prefix in ("imap:", "maildir:"):
        for key in state.known_source_keys(prefix):
            head, sep, part = key.rpartition(";part=")
            mid = head.rpartition(";MID=")[2] if sep else "-"
            if mid != "-":
                known.add((mid, part))
    return known


class _Builder:
    """Turns raw message bytes into a ``MailMessage`` (shared by both sources)."""

    def __init__(self, settings: MailChannelSettings, zone: ZoneInfo, known: set[tuple[str, str]]) -> None:
        self.settings = settings
        self.zone = zone
        self.known = known

    def failed(self, key: str, error: str, attempts: int, **where: Any) -> MailMessage:
        attempt = attempts + 1
        log.warning(
            "bfs_email: %s failed (attempt %d of %d): %s", key, attempt, self.settings.max_attempts, error
        )
        return MailMessage(
            message_key=key, received_at=where.pop("received_at", None), error=error, attempt=attempt,
            quarantined=attempt >= self.settings.max_attempts, **where,
        )

    def build(
        self,
        raw: bytes,
        key: str,
        attempts: int,
        delivered_at: datetime | None,
        **where: Any,
    ) -> MailMessage:
        """``delivered_at``: the store's delivery time (IMAP INTERNALDATE, Maildir file mtime)."""
        try:
            parsed = parse_message(raw, self.zone)
        except MalformedMessage as exc:
            error = f"{exc.reason}: {exc.message}"
            failure = self.failed(key, error, attempts, received_at=delivered_at, **where)
            failure.raw, failure.raw_sha256 = raw, sha256_hex(raw)
            return failure
        received_from: ReceivedFrom = "received_header"
        received_at = parsed.received_header_at
        if received_at is None:
            received_at, received_from = delivered_at, "internaldate"
        if received_at is None:
            received_at, received_from = parsed.date_header_at, "date_header"
        if received_at is None:  # a server that sent no INTERNALDATE: when we saw it
            received_at, received_from = datetime.now(UTC), "internaldate"
        message = MailMessage(
            message_key=key, received_at=received_at, received_from=received_from,
            message_id=parsed.message_id, sender=parsed.sender, raw=raw, raw_sha256=sha256_hex(raw),
            rejected_parts=list(parsed.rejected), attempt=attempts + 1, **where,
        )
        mid = _MID_UNSAFE.sub("_", parsed.message_id) if parsed.message_id else "-"
        for doc in parsed.documents:
            if len(doc.content) > self.settings.max_attachment_bytes:
                size = len(doc.content)
                message.rejected_parts.append(
                    RejectedPart(doc.file_name, "too_large", doc.content_type, size, doc.part, doc.sha256)
                )
                continue
            document = ReceivedDocument.build(
                doc.content,
                channel=Channel.bfs_email,
                source_key=f"{key};MID={mid};part={doc.index}",
                received_at=received_at,
                received_from=received_from,
                file_name=doc.file_name,
                sender=parsed.sender,
                message_id=parsed.message_id,
            )
            if (mid, str(doc.index)) in self.known:
                message.already_received.append(document)
            else:
                message.documents.append(document)
        return message


# --------------------------------------------------------------------------- IMAP


@dataclass(frozen=True)
class Plan:
    """What a poll of an IMAP folder takes (``_ImapSource.plan``)."""

    mark: int  # the highest UID the ledger recorded in this folder and UIDVALIDITY (0: none)
    new: list[int]  # above the mark (within the window)
    older: list[int]  # at or below it, not handled (the retry set, left-overs), within the window
    catch_up: list[int]  # handled, still lacking the post-commit action

    @property
    def to_read(self) -> list[int]:
        return sorted(set(self.new) | set(self.older))


def search_window(
    settings: MailChannelSettings, since: date | None = None, until: date | None = None, today: date | None = None
) -> list[Any]:
    """SEARCH criteria for the receive window: ``max_age_days`` and a backfill's ``since``/``until``.

    IMAP compares dates of INTERNALDATE (the server's delivery time) without the time of day, and the
    intake dates a message by its Received header in the department's zone: each bound is widened by a
    day here, the exact window is applied to the arrivals afterwards.
    """
    criteria: list[Any] = []
    starts = [day for day in (since,) if day is not None]
    if settings.max_age_days:
        starts.append((today or datetime.now(UTC).date()) - timedelta(days=settings.max_age_days))
    if starts:
        criteria += ["SINCE", max(starts) - timedelta(days=1)]
    if until is not None:
        criteria += ["BEFORE", until + timedelta(days=2)]
    return criteria


class _ImapSource:
    def __init__(self, settings: MailChannelSettings, ssl_context: ssl.SSLContext | None) -> None:
        self.settings = settings
        self.ssl_context = ssl_context
        self.client: IMAPClient | None = None
        self.uidvalidity: int | None = None
        self.action: ImapAction = imap_action(settings)
        self.checked = True  # False: ``inspect`` reports what the folder allows instead of refusing it
        self.readonly = False  # True: EXAMINE (``check_login``)
        self.greeting_capabilities: set[bytes] = set()  # before login (the AUTH= mechanisms)
        self.selected: dict[bytes, Any] = {}

    # connection -----------------------------------------------------------------------------
    def open(self) -> None:
        s = self.settings
        if not s.host or not s.username:
            raise ChannelUnavailable("bfs_email: no IMAP host/username configured (nor a maildir)")
        login = _login_for(s)
        if s.security == "none":
            log.warning("bfs_email: connecting WITHOUT TLS (security = \"none\")")
        context = self.ssl_context or ssl.create_default_context()
        client: IMAPClient | None = None
        try:
            client = IMAPClient(
                s.host, port=s.port, ssl=s.security == "ssl", ssl_context=context, timeout=s.timeout_seconds
            )
            if s.security == "starttls":
                client.starttls(context)
            self.greeting_capabilities = {bytes(c).upper() for c in client.capabilities()}
            login(client)
            client.normalise_times = False
            selected = client.select_folder(s.folder, readonly=self.readonly)
        except _IMAP_ERRORS as exc:
            if client is not None:
                _quietly_close(client)
            raise ChannelUnavailable(
                f"bfs_email: cannot open folder {s.folder!r} on {s.host}:{s.port} ({type(exc).__name__})"
            ) from exc
        except ChannelUnavailable:
            if client is not None:
                _quietly_close(client)
            raise
        try:
            if self.checked:
                self.action.check(selected, f"folder {s.folder!r} on {s.host}")
        except ChannelUnavailable:
            _quietly_close(client)
            raise
        self.selected = selected
        uidvalidity = int(selected[b"UIDVALIDITY"])
        if self.uidvalidity is not None and uidvalidity != self.uidvalidity:
            _quietly_close(client)
            raise ChannelUnavailable("bfs_email: UIDVALIDITY changed during the run; the next run re-reads")
        self.client, self.uidvalidity = client, uidvalidity

    def close(self) -> None:
        if self.client is not None:
            _quietly_close(self.client)
            self.client = None

    def _reconnect(self) -> None:
        self.close()
        self.open()

    @property
    def base_key(self) -> str:
        s = self.settings
        return f"imap:{s.username}@{s.host}/{s.folder};UIDVALIDITY={self.uidvalidity}"

    # poll -------------------------------------------------------------------------------------
    def plan(self, state: IntakeState, window: list[Any]) -> Plan:
        """What the next poll takes, from the ledger's record of this folder and UIDVALIDITY and SEARCHes only.

        The high-water mark is the highest UID recorded (handled, failed or quarantined) under this
        folder's current UIDVALIDITY: above it, ``UID n+1:*`` is new; at or below it, only the
        messages still in the folder and not handled are read again (the retry set, and any left by
        a run that ended early), and a handled message still lacking its action gets it. Every search
        carries the ``window`` criteria (``SINCE`` / ``BEFORE``), so nothing outside it is fetched.
        A new UIDVALIDITY has no record: everything is new, and Message-ID dedupe keeps the counts.
        """
        client = self.client
        assert client is not None
        prefix = f"{self.base_key};UID="
        recorded: dict[int, str] = {}
        for key, status in state.mail_statuses(prefix).items():
            tail = key[len(prefix) :]
            if tail.isdigit():
                recorded[int(tail)] = status
        done = {uid for uid, status in recorded.items() if status in ("handled", "quarantined")}
        mark = max(recorded, default=0)
        new = [uid for uid in client.search(["UID", f"{mark + 1}:*", *window]) if uid > mark]
        older = [uid for uid in client.search(["UID", f"1:{mark}", *window]) if uid not in done] if mark else []
        catch_up: list[int] = []
        pending = self.action.pending_search()
        if mark and pending is not None:
            catch_up = [uid for uid in client.search(["UID", f"1:{mark}", "NOT", "DELETED", *pending]) if uid in done]
        return Plan(mark, sorted(new), sorted(older), sorted(catch_up))

    def poll(self, state: IntakeState, builder: _Builder, window: list[Any] | None = None) -> Iterator[MailMessage]:
        assert self.client is not None
        try:
            plan = self.plan(state, window or [])
            listing: dict[int, dict[bytes, Any]] = {}
            uids = plan.to_read
            for start in range(0, len(uids), _LISTING_CHUNK):
                listing.update(self.client.fetch(uids[start : start + _LISTING_CHUNK], ["INTERNALDATE"]))
        except _IMAP_ERRORS as exc:
            raise ChannelUnavailable(f"bfs_email: cannot list the folder ({type(exc).__name__})") from exc
        log.info("bfs_email: %d new above UID %d, %d older not handled, %d action(s) to catch up",
                 len(plan.new), plan.mark, len(plan.older), len(plan.catch_up))
        base = self.base_key
        for uid in plan.catch_up:
            where = {"folder": self.settings.folder, "uidvalidity": self.uidvalidity, "uid": uid}
            self.complete(MailMessage(message_key=f"{base};UID={uid}", received_at=None, **where))  # type: ignore[arg-type]
        reconnects = 0
        for uid in sorted(listing):
            internal = _aware_utc(listing[uid].get(b"INTERNALDATE"))
            key = f"{base};UID={uid}"
            where = {"folder": self.settings.folder, "uidvalidity": self.uidvalidity, "uid": uid}
            attempts = state.mail_attempts(key)
            if attempts >= self.settings.max_attempts:
                continue
            try:
                assert self.client is not None
                response = self.client.fetch([uid], ["BODY.PEEK[]", "INTERNALDATE"])
            except _IMAP_ERRORS as exc:
                lost = isinstance(exc, _CONNECTION_ERRORS)
                error = f"fetch_failed: {'connection lost' if lost else 'refused'} ({type(exc).__name__})"
                yield builder.failed(key, error, attempts, received_at=internal, **where)
                if lost:
                    reconnects += 1
                    if reconnects > MAX_RECONNECTS:
                        raise ChannelUnavailable("bfs_email: the connection keeps dropping") from exc
                    self._reconnect()
                continue
            data = response.get(uid)
            if not data or b"BODY[]" not in data:
                continue  # expunged by someone else since the listing
            internal = _aware_utc(data.get(b"INTERNALDATE")) or internal
            yield builder.build(bytes(data[b"BODY[]"]), key, attempts, internal, **where)

    # post-commit ------------------------------------------------------------------------------
    def complete(self, message: MailMessage) -> bool:
        s = self.settings
        if message.uid is None or message.folder != s.folder or message.uidvalidity != self.uidvalidity:
            log.warning("bfs_email: %s is not in the open folder; action skipped", message.message_key)
            return False
        client = self.client
        assert client is not None
        try:
            self.action.apply(client, message.uid)
        except _IMAP_ERRORS as exc:
            log.warning("bfs_email: post-commit %s of %s failed (%s); retried next run",
                        self.action.name, message.message_key, type(exc).__name__)
            if isinstance(exc, _CONNECTION_ERRORS):
                try:
                    self._reconnect()
                except ChannelUnavailable:
                    pass
            return False
        return True


def check_login(settings: MailChannelSettings, ssl_context: ssl.SSLContext | None = None) -> int:
    """Connect, log in as a run does (password or OAuth2) and EXAMINE the folder (read-only: nothing changes);
    returns its message count. Raises ``ChannelUnavailable`` (or its typed refusals) with the remedy."""
    imap = _ImapSource(settings, ssl_context)
    imap.checked, imap.readonly = False, True
    imap.open()
    try:
        return int(imap.selected.get(b"EXISTS", 0))
    finally:
        imap.close()


def inspect_mailbox(
    settings: MailChannelSettings, state: IntakeState, *, ssl_context: ssl.SSLContext | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """What the mailbox holds and what the next run would take, without taking anything (a dry run).

    Logs in as a run does and SELECTs the folder (a run's SELECT: no message is fetched, flagged,
    moved or expunged; only message dates and flags are read). Returns plain data: the server's
    capabilities (AUTH mechanisms, MOVE, UIDPLUS, keyword support), per folder its message count,
    UIDVALIDITY and delivery-date range, and the next run's plan (``_ImapSource.plan``).
    """
    if settings.maildir is not None:
        source = _MaildirSource(settings)
        source.open()
        found = source._messages()
        handled = sum(state.mail_handled(source.key_for(path)) for path, _ in found)
        return {"store": "maildir", "maildir": str(settings.maildir), "folders": [
            {"folder": ".", "messages": len(found), "next_run": {"to_read": len(found) - handled}}
        ]}
    imap = _ImapSource(settings, ssl_context)
    imap.checked = False
    imap.open()
    try:
        client = imap.client
        assert client is not None
        capabilities = {bytes(c).upper() for c in client.capabilities()}
        window = search_window(settings, today=today)
        plan = imap.plan(state, window)
        folder = _folder_facts(client, imap.selected)
        folder["folder"] = settings.folder
        keyword = settings.flag.encode()
        folder["keywords"] = keeps_keyword(imap.selected.get(b"PERMANENTFLAGS"), keyword)
        folder["next_run"] = {
            "new": len(plan.new), "above_uid": plan.mark, "older_not_handled": len(plan.older),
            "actions_to_catch_up": len(plan.catch_up), "to_read": len(plan.to_read),
            "window": [str(c) if isinstance(c, date) else c for c in window],
        }
        folders = [folder]
        if settings.action == "move" and client.folder_exists(settings.move_to):
            moved = client.select_folder(settings.move_to, readonly=True)
            facts = _folder_facts(client, moved)
            facts["folder"] = settings.move_to
            folders.append(facts)
        problems = []
        if settings.action == "flag" and not folder["keywords"]:
            problems.append('the folder keeps no new keywords: action = "flag" leaves handled messages unmarked '
                            "(the ledger alone knows them). " + KeywordsNotSupported.remedy)
        return {
            "store": "imap", "server": f"{settings.host}:{settings.port}", "security": settings.security,
            "login": settings.auth if settings.auth == "password" else f"oauth2 ({settings.oauth2.provider}, "
            f"{settings.oauth2.mechanism})",
            "auth_mechanisms": sorted(c.decode()[5:] for c in imap.greeting_capabilities if c.startswith(b"AUTH=")),
            "move": b"MOVE" in capabilities, "uidplus": b"UIDPLUS" in capabilities,
            "action": settings.action, "folders": folders, "problems": problems,
        }
    finally:
        imap.close()


def _folder_facts(client: IMAPClient, selected: dict[bytes, Any]) -> dict[str, Any]:
    """Message count, UIDVALIDITY and the range of delivery dates (INTERNALDATE, UTC) of the selected folder."""
    uids = sorted(client.search(["ALL"]))
    dates: list[datetime] = []
    for start in range(0, len(uids), _LISTING_CHUNK):
        for data in client.fetch(uids[start : start + _LISTING_CHUNK], ["INTERNALDATE"]).values():
            when = _aware_utc(data.get(b"INTERNALDATE"))
            if when is not None:
                dates.append(when)
    return {
        "messages": len(uids), "uidvalidity": int(selected.get(b"UIDVALIDITY", 0)),
        "first": min(dates).isoformat() if dates else None, "last": max(dates).isoformat() if dates else None,
    }


def _login_for(settings: MailChannelSettings) -> Callable[[IMAPClient], None]:
    """How this mailbox logs in: a password is read before connecting, a token once the server offers its mechanism."""
    if settings.auth == "oauth2":
        source = token_source(settings)
        return lambda client: oauth2_login(client, settings, source)
    try:
        password = settings.password()
    except OSError as exc:
        raise ChannelUnavailable(f"bfs_email: password file unreadable ({type(exc).__name__})") from exc
    if not password:
        raise ChannelUnavailable("bfs_email: no password (set password_env's variable or password_file)")
    username = str(settings.username)
    return lambda client: client.login(username, password)


def oauth2_login(client: IMAPClient, settings: MailChannelSettings, source: TokenSource) -> None:
    """SASL XOAUTH2 or OAUTHBEARER with the source's token; a refused cached token is renewed once.

    Raises ``MailboxLoginRefused`` (its remedy names the provider's settings) when the server refuses
    a freshly fetched token; the token is never in the message.
    """
    mechanism = settings.oauth2.mechanism.upper()
    offered = {bytes(c).upper() for c in client.capabilities()}  # cached from before the login
    if b"AUTH=" + mechanism.encode() not in offered:
        raise ChannelUnavailable(
            f"bfs_email: {settings.host} offers no AUTH={mechanism} (it offers "
            f"{', '.join(sorted(c.decode()[5:] for c in offered if c.startswith(b'AUTH='))) or 'none'})",
            remedy="Set oauth2.mechanism to a mechanism the server offers (`detainer-intake mailbox inspect` lists "
            "them), or auth = \"password\".",
        )
    username = str(settings.username)
    for _ in range(2):
        token, fresh = source.token()
        try:
            if mechanism == "OAUTHBEARER":
                client.oauthbearer_login(username, token)
            else:
                client.oauth2_login(username, token)
            return
        except LoginError:
            source.invalidate()
            if fresh:
                break
            log.info("bfs_email: the server refused the kept OAuth2 token; fetching a new one")
    raise MailboxLoginRefused(
        f"bfs_email: {settings.host} refused the OAuth2 token of {source.name} for the mailbox ({mechanism})",
        remedy=REMEDIES[source.name],
    )


def _quietly_close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection may already be gone
        try:
            client.shutdown()
        except Exception:  # noqa: S110 - nothing left to release
            pass


def _aware_utc(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# --------------------------------------------------------------------------- Maildir


class _MaildirSource:
    def __init__(self, settings: MailChannelSettings) -> None:
        assert settings.maildir is not None
        self.settings = settings
        self.root = settings.maildir
        self.action: MaildirAction = maildir_action(settings)

    def open(self) -> None:
        if not any((self.root / sub).is_dir() for sub in ("cur", "new")):
            raise ChannelUnavailable("bfs_email: the Maildir has no cur/ or new/ folder")

    def close(self) -> None:
        pass

    def key_for(self, path: Path) -> str:
        return f"maildir:{self.root.name}/{path.name.split(':', 1)[0]}"

    def _messages(self) -> list[tuple[Path, os.stat_result]]:
        found = []
        for sub in ("new", "cur"):
            folder = self.root / sub
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.name.startswith("."):
                    continue
                try:
                    st = path.stat()
                except OSError:
                    continue
                if path.is_file():
                    found.append((path, st))
        return sorted(found, key=lambda item: (item[1].st_mtime_ns, item[0].name))

    def poll(self, state: IntakeState, builder: _Builder) -> Iterator[MailMessage]:
        for path, st in self._messages():
            key = self.key_for(path)
            mtime = mtime_utc(st.st_mtime_ns)
            if state.mail_handled(key):
                if self.action.pending(set()):
                    self.complete(MailMessage(message_key=key, received_at=mtime, path=str(path)))
                continue
            attempts = state.mail_attempts(key)
            if attempts >= self.settings.max_attempts:
                continue
            try:
                raw = path.read_bytes()
            except OSError as exc:
                yield builder.failed(key, f"read_failed: {type(exc).__name__}", attempts, received_at=mtime,
                                     path=str(path))
                continue
            # A Maildir's delivery time is the file's mtime (what Dovecot reports as INTERNALDATE).
            yield builder.build(_crlf(raw), key, attempts, mtime, path=str(path))

    def complete(self, message: MailMessage) -> bool:
        if not self.action.touches_mailbox:
            return True
        if message.path is None or not Path(message.path).exists():
            log.warning("bfs_email: %s is no longer in the Maildir; action skipped", message.message_key)
            return False
        self.action.apply(self.root, Path(message.path))
        return True


def _crlf(raw: bytes) -> bytes:
    """Line ends as IMAP serves them (Maildir files usually hold bare LF), so both sources agree."""
    return _BARE_LF.sub(b"\r\n", raw)
