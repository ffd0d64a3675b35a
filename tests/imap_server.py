"""A real Dovecot IMAP server for the mailbox tests (and a fault-injecting TCP proxy).

``dovecot`` (plain IMAP), ``dovecot_imaps`` (TLS from the first byte) and
``dovecot_starttls`` start their own ``dovecot -F -c <conf>`` on 127.0.0.1 and a free
port, with a passwd-file user, a Maildir under a private folder, and no systemd. Run as
root, the server's helper processes use the packaged ``dovecot``/``dovenull`` users and the
mail user is ``nobody``; otherwise everything runs as the current user. Only Dovecot 2.3
is supported (its configuration syntax); the tests are skipped, loudly, when the binary is
absent (``bin/setup --test`` installs it).

Use the fixtures from a test module with ``pytest_plugins = ["tests.imap_server"]`` (and import
from this module only under ``TYPE_CHECKING``, so that pytest loads it as a plugin first).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Literal

import pytest
from imapclient import IMAPClient

from core.config import MailChannelSettings

Security = Literal["none", "ssl", "starttls"]
DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
DOVEADM = shutil.which("doveadm") or ("/usr/bin/doveadm" if Path("/usr/bin/doveadm").exists() else None)
SKIP_REASON = (
    "DOVECOT IS NOT INSTALLED: the IMAP tests need a real Dovecot 2.3 server "
    "(run `bin/setup --test`, or apt-get install dovecot-imapd)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DovecotServer:
    host = "127.0.0.1"
    user = "bfs"
    password = "test-only-imap-password"  # a throwaway test server

    def __init__(self, security: Security = "none") -> None:
        if DOVECOT is None:
            pytest.skip(SKIP_REASON)
        version = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True, check=True).stdout
        if not version.startswith("2.3"):
            pytest.skip(f"these tests are written for Dovecot 2.3, found {version.strip()}")
        self.security = security
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
        self.root.chmod(0o755)  # Dovecot's auth and mail processes run as other users
        self.home = self.root / "home" / self.user
        self.maildir = self.home / "Maildir"
        self.conf = self.root / "dovecot.conf"
        self.log = self.root / "dovecot.log"
        self.password_file = self.root / "imap-password"
        self.password_file.write_text(self.password + "\n")
        self.password_file.chmod(0o600)
        self.cert: Path | None = None
        # An OAuth2 token introspection endpoint: the server then also takes XOAUTH2 / OAUTHBEARER
        # logins, each token checked there (``passdb { driver = oauth2 }``, introspection_mode = post).
        self.oauth2_introspection_url: str | None = None
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.mail_uid, self.mail_gid = nobody.pw_uid, nobody.pw_gid
            self.internal_user, self.login_user = "dovecot", "dovenull"
        else:
            me = pwd.getpwuid(os.geteuid())
            self.mail_uid, self.mail_gid = me.pw_uid, me.pw_gid
            self.internal_user = self.login_user = me.pw_name
        for sub in ("cur", "new", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        self.fix_ownership()

    # lifecycle ------------------------------------------------------------------------------------
    def start(self) -> DovecotServer:
        if self.security != "none":
            self._make_certificate()
        for _ in range(3):  # the free port may be taken between choosing and binding it
            self.port = free_port()
            self._write_config()
            self.process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
            )
            if self._wait_ready():
                return self
            self.stop_process()
        raise RuntimeError("dovecot did not start:\n" + self.log_tail())

    def stop_process(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def stop(self) -> None:
        self.stop_process()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if self.security == "ssl":
                        return True  # the greeting comes after the TLS handshake
                    sock.settimeout(3)
                    if sock.recv(64).startswith(b"* OK"):
                        return True
            except OSError:
                time.sleep(0.1)
        return False

    def _write_config(self) -> None:
        tls = self.security != "none"
        plain_port = 0 if self.security == "ssl" else self.port
        tls_port = self.port if self.security == "ssl" else 0
        ssl_lines = (
            f"ssl = required\nssl_cert = <{self.cert}\nssl_key = <{self.root / 'key.pem'}\n"
            "ssl_min_protocol = TLSv1.2\n"
            + ("ssl_dh = </usr/share/dovecot/dh.pem\n" if Path("/usr/share/dovecot/dh.pem").exists() else "")
            if tls
            else "ssl = no\n"
        )
        mechanisms, oauth2_passdb = "plain login", ""
        if self.oauth2_introspection_url:
            mechanisms += " xoauth2 oauthbearer"
            oauth2_conf = self.root / "dovecot-oauth2.conf.ext"
            oauth2_conf.write_text(
                "introspection_mode = post\n"
                f"introspection_url = {self.oauth2_introspection_url}\n"
                "force_introspection = yes\n"
                "username_attribute = username\n"
                "active_attribute = active\n"
                "active_value = true\n"
            )
            oauth2_passdb = (
                f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {oauth2_conf}\n}}\n"
            )
        (self.root / "passwd").write_text(
            f"{self.user}:{{PLAIN}}{self.password}:{self.mail_uid}:{self.mail_gid}::{self.home}\n"
        )
        self.conf.write_text(
            f"""# generated by tests/imap_server.py
protocols = imap
listen = {self.host}
base_dir = {self.root / "run"}
state_dir = {self.root / "state"}
log_path = {self.log}
default_internal_user = {self.internal_user}
default_login_user = {self.login_user}
first_valid_uid = 1
{ssl_lines}disable_plaintext_auth = {"yes" if tls else "no"}
auth_mechanisms = {mechanisms}
{oauth2_passdb}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root / "passwd"}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.root / "passwd"}
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = {plain_port}
  }}
  inet_listener imaps {{
    port = {tls_port}
    ssl = yes
  }}
}}
"""
        )

    def _make_certificate(self) -> None:
        self.cert, key = self.root / "cert.pem", self.root / "key.pem"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", str(key), "-out", str(self.cert), "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext", "basicConstraints=critical,CA:TRUE",
            ],
            check=True, capture_output=True,
        )
        key.chmod(0o600)

    # helpers for tests ----------------------------------------------------------------------------
    def settings(self, **overrides: object) -> MailChannelSettings:
        values: dict[str, object] = {
            "enabled": True, "host": self.host, "port": self.port, "security": self.security,
            "username": self.user, "password_env": None, "password_file": self.password_file,
            "timeout_seconds": 10.0,
        }
        values.update(overrides)
        return MailChannelSettings(**values)  # type: ignore[arg-type]

    def ssl_context(self) -> ssl.SSLContext:
        assert self.cert is not None
        return ssl.create_default_context(cafile=str(self.cert))

    @contextmanager
    def client(self, folder: str | None = "INBOX") -> Iterator[IMAPClient]:
        if self.security == "ssl":
            imap = IMAPClient(self.host, port=self.port, ssl=True, ssl_context=self.ssl_context(), timeout=10)
        else:
            imap = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
            if self.security == "starttls":
                imap.starttls(self.ssl_context())
        imap.login(self.user, self.password)
        imap.normalise_times = False
        if folder is not None:
            if not imap.folder_exists(folder):
                imap.create_folder(folder)
            imap.select_folder(folder)
        try:
            yield imap
        finally:
            with suppress(Exception):
                imap.logout()

    def append(
        self, raw: bytes, *, internal_date: datetime | None = None, folder: str = "INBOX", flags: tuple[bytes, ...] = ()
    ) -> int:
        """IMAP APPEND; returns the new UID."""
        with self.client(folder) as imap:
            response = imap.append(folder, raw, flags=flags, msg_time=internal_date)
        # b"[APPENDUID <uidvalidity> <uid>] Append completed."
        return int(response.split(b"]")[0].split()[-1])

    def flags(self, folder: str = "INBOX") -> dict[int, set[bytes]]:
        """Each message's flags, without the session-dependent ``\\Recent``."""
        with self.client(folder) as imap:
            uids = imap.search(["ALL"])
            fetched = imap.fetch(uids, ["FLAGS"]) if uids else {}
            return {uid: set(data[b"FLAGS"]) - {b"\\Recent"} for uid, data in fetched.items()}

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.client(folder) as imap:
            return sorted(imap.search(["ALL"]))

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.client(None) as imap:
            return int(imap.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def doveadm(self, *args: str) -> str:
        if DOVEADM is None:
            pytest.skip("doveadm is not installed")
        done = subprocess.run([DOVEADM, "-c", str(self.conf), *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def set_uidvalidity(self, value: int, folder: str = "INBOX") -> None:
        """What a recreated or restored mailbox looks like to a client: a new UIDVALIDITY."""
        self.doveadm("mailbox", "update", "-u", self.user, "--uid-validity", str(value), folder)

    def deliver_maildir(self, source: Path) -> int:
        """Copy the messages of a Maildir (cur/ and new/, names and mtimes kept) into the user's INBOX."""
        count = 0
        for sub in ("cur", "new"):
            folder = source / sub
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if path.is_file() and not path.name.startswith("."):
                    shutil.copy2(path, self.maildir / sub / path.name)
                    count += 1
        self.fix_ownership()
        return count

    def fix_ownership(self) -> None:
        """Hand the mail user's home (and what tests dropped into it) to the mail user."""
        if os.geteuid() != 0:
            return
        os.chown(self.home, self.mail_uid, self.mail_gid)
        for dirpath, dirnames, filenames in os.walk(self.home):
            for name in dirnames + filenames:
                os.chown(os.path.join(dirpath, name), self.mail_uid, self.mail_gid)


@contextmanager
def running_dovecot(security: Security = "none") -> Iterator[DovecotServer]:
    server = DovecotServer(security)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A plain-IMAP Dovecot (``security = "none"``) with an empty INBOX."""
    with running_dovecot("none") as server:
        yield server


@pytest.fixture
def dovecot_imaps() -> Iterator[DovecotServer]:
    """Dovecot speaking IMAPS with a self-signed certificate (``server.cert``)."""
    with running_dovecot("ssl") as server:
        yield server


@pytest.fixture
def dovecot_starttls() -> Iterator[DovecotServer]:
    """Dovecot requiring STARTTLS on the IMAP port, self-signed certificate."""
    with running_dovecot("starttls") as server:
        yield server


# --------------------------------------------------------------------------- fault injection


class DroppingProxy:
    """A TCP proxy in front of the real server that can cut a connection mid-response.

    ``arm(marker, after=n)``: the next time ``marker`` passes from server to client, forward
    ``n`` more bytes, then close both sides (a connection dropped in the middle of a fetch).
    """

    def __init__(self, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.host, self.upstream_port = host, upstream_port
        self.listener = socket.create_server((host, 0))
        self.port = int(self.listener.getsockname()[1])
        self._lock = threading.Lock()
        self._marker: bytes | None = None
        self._after = 0
        self.drops = 0
        self.connections = 0
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, marker: bytes, after: int = 64) -> None:
        with self._lock:
            self._marker, self._after = marker, after

    def close(self) -> None:
        self._closed = True
        with suppress(OSError):
            self.listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection((self.host, self.upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_server: bool) -> None:
        tail = b""  # end of the previous chunk, for a marker split across chunks
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if from_server:
                    with self._lock:
                        marker, after = self._marker, self._after
                    if marker is not None:
                        combined = tail + data
                        at = combined.find(marker)
                        if at >= 0:
                            end = max(0, at + len(marker) - len(tail))
                            sink.sendall(data[: end + after])
                            with self._lock:
                                self._marker = None
                                self.drops += 1
                            break
                        tail = combined[-len(marker) :]
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close_both(source, sink)


def _close_both(*socks: socket.socket) -> None:
    """End a relayed connection both ways (either side may already be gone)."""
    for sock in socks:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with suppress(OSError):
            sock.close()


class RelayProxy:
    """A TCP proxy in front of the real server that hands every chunk to ``relay`` (both ways) and
    sends on what it returns: subclasses look at or rewrite the conversation, the IMAP path stays real."""

    def __init__(self, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.host, self.upstream_port = host, upstream_port
        self.listener = socket.create_server((host, 0))
        self.port = int(self.listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def relay(self, data: bytes, from_server: bool) -> bytes:
        return data

    def close(self) -> None:
        with suppress(OSError):
            self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection((self.host, self.upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_server: bool) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(self.relay(data, from_server))
        except OSError:
            pass
        finally:
            _close_both(source, sink)


@pytest.fixture
def dropping_proxy() -> Iterator[Callable[[int], DroppingProxy]]:
    """Factory: ``dropping_proxy(server.port)`` -> a ``DroppingProxy``, closed after the test."""
    proxies: list[DroppingProxy] = []

    def make(upstream_port: int) -> DroppingProxy:
        proxies.append(DroppingProxy(upstream_port))
        return proxies[-1]

    yield make
    for proxy in proxies:
        proxy.close()
