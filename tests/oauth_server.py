"""A local OAuth2 authorisation server for the mailbox tests, and Dovecot checking its tokens.

``OAuthServer`` runs in a thread on 127.0.0.1 and is both

- the token endpoint (``POST /token``): the client-credentials grant (client id and secret in HTTP
  Basic or the form), and the JWT-bearer grant a Google service account uses (its assertion signed
  with the account's key, ``sub`` the mailbox user); each token is valid ``expires_in`` seconds;
- the introspection endpoint Dovecot's ``oauth2`` passdb calls (``POST /introspect``, RFC 7662):
  ``active`` only for a known, unexpired token of a client that is not revoked, issued for the
  IMAP audience, with the mailbox user as ``username``.

``dovecot_oauth2`` is a plain-IMAP Dovecot (``tests.imap_server``) taking XOAUTH2 and OAUTHBEARER
logins checked against such a server (``server.oauth``). Use with
``pytest_plugins = ["tests.imap_server", "tests.oauth_server"]``.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.imap_server import DovecotServer

IMAP_AUDIENCE = "imap"


@dataclass
class Issued:
    client_id: str
    username: str
    audience: str
    expires_at: float


@dataclass
class OAuthServer:
    clients: dict[str, str] = field(default_factory=dict)  # client id -> secret
    client_users: dict[str, str] = field(default_factory=dict)  # client id -> the mailbox user its tokens act as
    google_keys: dict[str, Any] = field(default_factory=dict)  # service account email -> public key
    expires_in: int = 3600
    audience: str = IMAP_AUDIENCE  # what new tokens are issued for
    revoked: set[str] = field(default_factory=set)
    tokens: dict[str, Issued] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)  # "token:<grant>" / "introspect:<active>"
    port: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        handler = _handler(self)
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = int(self._http.server_address[1])
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        return self.url + "/token"

    @property
    def introspection_url(self) -> str:
        return self.url + "/introspect"

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def add_client(self, client_id: str, secret: str, username: str) -> None:
        self.clients[client_id] = secret
        self.client_users[client_id] = username

    def revoke(self, client_id: str) -> None:
        """The client is disabled: its tokens turn inactive and it gets no new one."""
        self.revoked.add(client_id)

    def expire_all(self) -> None:
        with self._lock:
            for issued in self.tokens.values():
                issued.expires_at = 0.0

    def count(self, prefix: str) -> int:
        return sum(1 for entry in self.requests if entry.startswith(prefix))

    # endpoints ------------------------------------------------------------------------------------
    def issue(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type", "")
        self.requests.append(f"token:{grant}")
        if grant == "client_credentials":
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
            if authorization and authorization.startswith("Basic "):
                client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            if self.clients.get(client_id) != secret or client_id in self.revoked:
                return 401, {"error": "invalid_client", "error_description": f"client {client_id} refused"}
            username = self.client_users[client_id]
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            import jwt

            assertion = form.get("assertion", "")
            issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss", "")
            key = self.google_keys.get(issuer)
            if key is None or issuer in self.revoked:
                return 401, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
            try:
                # google-auth addresses its assertion to Google's token endpoint, wherever it posts it.
                claims = jwt.decode(assertion, key, algorithms=["RS256"],
                                    audience=[self.token_url, "https://oauth2.googleapis.com/token"])
            except jwt.PyJWTError:
                return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
            if claims.get("scope") != "https://mail.google.com/":
                return 400, {"error": "invalid_scope"}
            client_id, username = issuer, str(claims.get("sub", ""))
        else:
            return 400, {"error": "unsupported_grant_type"}
        token = "tok-" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = Issued(client_id, username, self.audience, time.time() + self.expires_in)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}

    def introspect(self, form: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            issued = self.tokens.get(form.get("token", ""))
        active = (
            issued is not None
            and issued.expires_at > time.time()
            and issued.client_id not in self.revoked
            and issued.audience == IMAP_AUDIENCE
        )
        self.requests.append(f"introspect:{active}")
        if not active or issued is None:
            return {"active": False}
        return {"active": True, "username": issued.username, "client_id": issued.client_id, "aud": issued.audience}


def _handler(server: OAuthServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            form = {key: values[0] for key, values in parse_qs(body).items()}
            if self.path.startswith("/token"):
                status, payload = server.issue(form, self.headers.get("Authorization"))
            elif self.path.startswith("/introspect"):
                status, payload = 200, server.introspect(form)
            else:
                status, payload = 404, {"error": "not_found"}
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


def google_service_account(server: OAuthServer, folder: Path, email: str = "intake@dept-project.example") -> Path:
    """A service account key file (a fresh RSA key) whose token_uri is ``server``'s; the server knows its key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    server.google_keys[email] = key.public_key()
    path = folder / "service-account.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "dept-project", "private_key_id": "k1", "private_key": pem,
        "client_email": email, "client_id": "1234567890", "token_uri": server.token_url,
    }))
    path.chmod(0o600)
    return path


@pytest.fixture
def oauth_server() -> Iterator[OAuthServer]:
    server = OAuthServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def dovecot_oauth2(oauth_server: OAuthServer) -> Iterator[DovecotServer]:
    """A plain-IMAP Dovecot also taking XOAUTH2/OAUTHBEARER, tokens introspected at ``server.oauth``."""
    server = DovecotServer("none")
    server.oauth2_introspection_url = oauth_server.introspection_url
    server.oauth = oauth_server  # type: ignore[attr-defined]
    try:
        server.start()
        yield server
    finally:
        server.stop()
