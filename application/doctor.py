"""``detainer-intake doctor``: is this machine and this configuration ready for a run?

Each check answers one question with one ``Check`` (ok or not, a detail, and for a failure the
remedy). Nothing here changes anything: the ledger is never migrated (its revision is only
compared with the code's head, as the read-only commands do), the mailbox is opened read-only
(IMAP EXAMINE), a folder's writability is tried with a temporary file that is removed at once.
No detail names a person or holds a password: paths, versions, counts and error class names only,
URLs with their password masked.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import shutil
import ssl
import stat
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from core.channels import Channel
from core.config import FolderChannelSettings, MailChannelSettings, Settings
from core.errors import ChannelUnavailable

PREFECT_API_ENV = "PREFECT_API_URL"
TOOL_TIMEOUT = 30.0  # seconds for `tesseract --version` and the like
NETWORK_TIMEOUT = 15.0  # at most, per connection attempt
POPPLER_TOOLS = ("pdftoppm", "pdfinfo", "pdftotext")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    remedy: str = ""

    def line(self) -> str:
        text = f"{'ok' if self.ok else 'FAIL'} {self.name}: {self.detail}"
        return f"{text} — {self.remedy}" if not self.ok and self.remedy else text


def masked_url(value: str) -> str:
    """``value`` with the password of a URL replaced by ``***`` (``postgresql://u:***@h/db``); else as it is."""
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return value
    if not password or "@" not in parts.netloc:
        return value
    userinfo, host = parts.netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in the order a run needs them."""
    checks: list[Check] = []
    for check in CHECKS:
        checks.extend(check(settings))
    return checks


# --------------------------------------------------------------------------- OCR and PDF tools


def _tool_output(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False)
    return (done.stdout or "") + (done.stderr or "")


def check_tesseract(settings: Settings) -> Iterator[Check]:
    tesseract = shutil.which("tesseract")
    install = "install tesseract-ocr and tesseract-ocr-osd (bin/setup)"
    if tesseract is None:
        yield Check("tesseract", False, "not found on PATH", install)
        yield Check("tesseract languages", False, "cannot be listed without tesseract", install)
        return
    try:
        version = _tool_output([tesseract, "--version"]).splitlines()
        listing = _tool_output([tesseract, "--list-langs"]).splitlines()
    except (OSError, subprocess.TimeoutExpired) as exc:
        yield Check("tesseract", False, f"{tesseract} does not run ({type(exc).__name__})", install)
        return
    yield Check("tesseract", True, f"{version[0].strip() if version else 'unknown version'} ({tesseract})")
    # Tesseract 4 prints the list on stderr, 5 on stdout: every line but the header is a language.
    installed = {line.strip() for line in listing if line.strip() and not line.startswith("List of")}
    needed = [lang for lang in settings.parsing.tesseract_lang.split("+") if lang] + ["osd"]
    missing = [lang for lang in needed if lang not in installed]
    if missing:
        packages = " ".join(f"tesseract-ocr-{lang}" for lang in missing)
        yield Check("tesseract languages", False, f"missing {', '.join(missing)}", f"install {packages}")
    else:
        yield Check("tesseract languages", True, ", ".join(needed) + " installed")


def check_poppler(settings: Settings) -> Iterator[Check]:
    found = {tool: shutil.which(tool) for tool in POPPLER_TOOLS}
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        yield Check("poppler", False, f"{', '.join(missing)} not found on PATH", "install poppler-utils (bin/setup)")
        return
    try:
        lines = _tool_output([str(found["pdfinfo"]), "-v"]).splitlines()
    except (OSError, subprocess.TimeoutExpired) as exc:
        yield Check("poppler", False, f"pdfinfo does not run ({type(exc).__name__})", "reinstall poppler-utils")
        return
    version = next((line.strip() for line in lines if "version" in line), "unknown version")
    yield Check("poppler", True, f"{', '.join(POPPLER_TOOLS)} found ({version})")


# --------------------------------------------------------------------------- ledger


def check_ledger(settings: Settings) -> Iterator[Check]:
    from ledger.db import current_revision, head_revision, is_sqlite, make_engine

    url = settings.ledger_url
    shown = masked_url(url)
    upgrade = "run `detainer-intake db upgrade` (or a run)"
    try:
        sqlite = is_sqlite(url)
    except Exception as exc:  # any unparsable URL is the operator's to fix
        yield Check("ledger", False, f"cannot parse [ledger] url ({type(exc).__name__})", "fix [ledger] url")
        return
    if sqlite:
        database = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
        if database and database != ":memory:" and not database.startswith("file:") and not Path(database).is_file():
            yield Check("ledger", False, f"no ledger database at {database}", upgrade + " to create it")
            return
    engine = None
    try:
        engine = make_engine(url)
        revision = current_revision(engine)
    except Exception as exc:  # unreachable, refused, no driver: each is reported
        yield Check("ledger", False, f"cannot open {shown} ({type(exc).__name__})", "check [ledger] url and the server")
        return
    finally:
        if engine is not None:
            engine.dispose()
    head = head_revision()
    if revision != head:
        yield Check("ledger", False, f"{shown} is at schema {revision or 'none'}, the code at {head}", upgrade)
    else:
        yield Check("ledger", True, f"{shown} reachable, schema at head ({head})")


# --------------------------------------------------------------------------- archive


def _writable_folder(name: str, folder: Path, remedy: str) -> Check:
    """``folder`` (or, when it is still to be created, its nearest existing parent) takes a new file."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return Check(name, False, f"{folder}: {existing} is not a folder", remedy)
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(name, False, f"{existing} is not writable ({type(exc).__name__})", remedy)
    if existing != folder:
        return Check(name, True, f"{folder} will be created (0700) in {existing}, which is writable")
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        return Check(name, False, f"{folder} is open to others (mode {mode:04o}); it holds personal data",
                     f"chmod 700 {folder}")
    return Check(name, True, f"{folder} writable, mode {mode:04o}")


def check_archive(settings: Settings) -> Iterator[Check]:
    remedy = "fix [archive] path or the folder's owner and mode"
    yield _writable_folder("archive", settings.archive.path, remedy)
    yield _writable_folder(
        "extraction cache", settings.archive.extraction_cache_path, "fix [archive] extraction_cache or its folder"
    )


# --------------------------------------------------------------------------- channels


def check_channels(settings: Settings) -> Iterator[Check]:
    for channel in Channel:
        configured = getattr(settings.channels, channel.value)
        name = f"channel {channel.value}"
        if not configured.enabled:
            yield Check(name, True, "disabled (enabled = false, or nothing to read configured): not read")
        elif isinstance(configured, MailChannelSettings):
            login = _mailbox_check(name, configured)
            yield login
            if login.ok and configured.maildir is None and configured.action == "flag":
                yield _keyword_check(configured)
        else:
            yield _folder_check(name, configured, stations=channel is Channel.station_fax)


def _folder_check(name: str, configured: FolderChannelSettings, *, stations: bool) -> Check:
    folder = configured.path
    if folder is None:
        return Check(name, False, "enabled but no path", "set its path, or enabled = false")
    if not folder.is_dir():
        return Check(name, False, f"{folder} is not a folder" if folder.exists() else f"{folder} does not exist",
                     "fix its path, or mount the share")
    try:
        with os.scandir(folder) as entries:
            subfolders = sum(1 for entry in entries if entry.is_dir() and not entry.name.startswith("."))
    except OSError as exc:
        return Check(name, False, f"{folder} cannot be read ({type(exc).__name__})", "give this user read access")
    if configured.move_processed and not os.access(folder, os.W_OK | os.X_OK):
        return Check(name, False, f"{folder} is not writable (move_processed = true)",
                     "give this user write access, or move_processed = false")
    detail = f"{folder} readable"
    if stations:
        detail += f", {subfolders} station folder(s)"
    return Check(name, True, detail)


def _keyword_check(mail: MailChannelSettings, ssl_context: ssl.SSLContext | None = None) -> Check:
    """action = "flag" needs a folder that keeps new keywords (what ``mailbox check`` reports): a run's SELECT,
    nothing fetched or marked."""
    from ingest.mail_actions import KeywordsNotSupported
    from ingest.mailbox import inspect_mailbox
    from ingest.state import MemoryState

    name = "mailbox keywords"
    try:
        report = inspect_mailbox(mail, MemoryState(), ssl_context=ssl_context)
    except ChannelUnavailable as exc:
        return Check(name, False, exc.message.removeprefix("bfs_email: "), exc.remedy)
    if not report["folders"][0].get("keywords", True):
        return Check(name, False, f"folder {mail.folder!r} keeps no new keywords: action = \"flag\" cannot mark "
                                  "handled messages (runs go on; the ledger alone knows them)",
                     KeywordsNotSupported.remedy)
    return Check(name, True, f"folder {mail.folder!r} keeps {mail.flag} (action = \"flag\")")


def _mailbox_check(name: str, mail: MailChannelSettings, ssl_context: ssl.SSLContext | None = None) -> Check:
    if mail.maildir is not None:
        if not any((mail.maildir / sub).is_dir() for sub in ("cur", "new")):
            return Check(name, False, f"Maildir {mail.maildir} has no cur/ or new/ folder", "fix maildir")
        return Check(name, True, f"Maildir {mail.maildir} readable")
    if not mail.host or not mail.username:
        remedy = "set host and username, or enabled = false"
        return Check(name, False, "enabled but no host/username (nor a maildir)", remedy)
    if mail.auth == "oauth2":
        return _oauth2_check(name, mail, ssl_context)
    try:
        password = mail.password()
    except OSError as exc:
        return Check(name, False, f"password file unreadable ({type(exc).__name__})", "fix password_file")
    if not password:
        where = f"${mail.password_env}" if mail.password_env else "password_file"
        remedy = "set password_env's variable or password_file"
        return Check(name, False, f"no password ({where} is empty or unset)", remedy)
    return _imap_check(name, mail, password, ssl_context)


def _oauth2_check(name: str, mail: MailChannelSettings, context: ssl.SSLContext | None) -> Check:
    """Log in with the OAuth2 token as a run does (ingest.mailbox.check_login) and examine the folder read-only."""
    from ingest.mailbox import check_login

    try:
        messages = check_login(mail, context)
    except ChannelUnavailable as exc:
        return Check(name, False, exc.message.removeprefix("bfs_email: "), exc.remedy)
    where = f"{mail.host}:{mail.port}"
    return Check(name, True, f"IMAP {where} ({mail.security}) OAuth2 login ({mail.oauth2.provider}) ok, folder "
                             f"{mail.folder!r}: {messages} message(s)")


def _imap_check(name: str, mail: MailChannelSettings, password: str, context: ssl.SSLContext | None) -> Check:
    from imapclient import IMAPClient

    where = f"{mail.host}:{mail.port}"
    step = "connect to"
    client = None
    try:
        context = context or ssl.create_default_context()
        client = IMAPClient(
            mail.host, port=mail.port, ssl=mail.security == "ssl", ssl_context=context,
            timeout=min(mail.timeout_seconds, NETWORK_TIMEOUT),
        )
        if mail.security == "starttls":
            step = "start TLS with"
            client.starttls(context)
        step = "log in to"
        client.login(mail.username, password)
        step = f"select folder {mail.folder!r} on"
        selected = client.select_folder(mail.folder, readonly=True)  # EXAMINE: nothing changes
    except (imaplib.IMAP4.error, OSError) as exc:
        return Check(name, False, f"cannot {step} {where} ({type(exc).__name__})",
                     "check host, port, security, username, password and folder")
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.logout()
    messages = int(selected.get(b"EXISTS", 0))
    return Check(name, True, f"IMAP {where} ({mail.security}) login ok, folder {mail.folder!r}: {messages} message(s)")


# --------------------------------------------------------------------------- Prefect


def check_prefect(settings: Settings) -> Iterator[Check]:
    url = os.environ.get(PREFECT_API_ENV, "").strip()
    if not url:
        yield Check("prefect api", True, f"{PREFECT_API_ENV} not set: `run` uses a temporary in-process server")
        return
    shown = masked_url(url)
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=NETWORK_TIMEOUT) as response:  # noqa: S310
            healthy = response.status == 200
    except (urllib.error.URLError, OSError, ValueError) as exc:
        yield Check("prefect api", False, f"{shown} unreachable ({type(exc).__name__})",
                    "start `prefect server start`, or fix or unset PREFECT_API_URL")
        return
    if healthy:
        yield Check("prefect api", True, f"{shown} healthy")
    else:
        yield Check("prefect api", False, f"{shown}/health did not answer 200", "check the Prefect server's log")


CHECKS: tuple[Callable[[Settings], Iterator[Check]], ...] = (
    check_tesseract,
    check_poppler,
    check_ledger,
    check_archive,
    check_channels,
    check_prefect,
)
