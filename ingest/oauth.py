"""OAuth2 access tokens for the BFS mailbox's IMAP login (SASL XOAUTH2 or OAUTHBEARER).

``channels.bfs_email.auth = "oauth2"`` logs in with a token of the OAuth2 client-credentials grant
instead of a password (Exchange Online has basic authentication off for IMAP; Google Workspace
expects OAuth). The token comes from the provider named in ``[channels.bfs_email.oauth2]``:

- ``microsoft``: MSAL's confidential client (tenant, client id, a client secret or a certificate),
  scope ``https://outlook.office365.com/.default``;
- ``google``: google-auth's service account (its JSON key file) with domain-wide delegation, the
  mailbox user as subject, scope ``https://mail.google.com/``;
- ``generic``: a plain client-credentials POST to ``token_url`` (other providers, and the tests'
  local token endpoint, through the same code as production: only the URL differs).

Tokens are kept in memory, one ``TokenSource`` per mailbox and client in this process, and fetched
again before they expire. Secrets (client secret, private keys) come from a file or an environment
variable named in the configuration, never from the configuration itself; neither they nor a token
appear in a log line or an error message. A token the provider will not issue raises
``TokenRefused``; a token the IMAP server refuses, ``MailboxLoginRefused``: each names, as its
remedy, the Azure or Google setting to check.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from core.config import MailChannelSettings, OAuth2Settings
from core.errors import ChannelUnavailable

log = logging.getLogger(__name__)

MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_SCOPE = "https://mail.google.com/"
HTTP_TIMEOUT = 30.0
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")  # an OAuth error code, never free text
_AADSTS = re.compile(r"\bAADSTS\d{4,9}\b")

REMEDIES = {
    "microsoft": (
        "In Azure (Entra ID) check the app registration: tenant and client ID as configured, the client secret or "
        "certificate not expired, the Office 365 Exchange Online application permission IMAP.AccessAsApp granted "
        "with admin consent; in Exchange Online, the app's service principal registered (New-ServicePrincipal) and "
        "given access to the mailbox (Add-MailboxPermission -AccessRights FullAccess); username is the mailbox's "
        "address. See README, \"The BFS mailbox\"."
    ),
    "google": (
        "In the Google Admin console check Security > API controls > Domain-wide delegation: the service account's "
        "client ID authorised for the scope https://mail.google.com/; the key file current (not deleted in the "
        "Cloud console); IMAP enabled for the user; username is the mailbox user's address. See README, "
        "\"The BFS mailbox\"."
    ),
    "generic": (
        "Check [channels.bfs_email.oauth2]: token_url, client_id, the client secret, scope; the provider must issue "
        "a token the IMAP server accepts for username (audience, scope, the client not revoked)."
    ),
}


class TokenRefused(ChannelUnavailable):
    """The OAuth2 provider would not issue an access token for the mailbox."""

    remedy = REMEDIES["generic"]


class MailboxLoginRefused(ChannelUnavailable):
    """The IMAP server refused the OAuth2 access token (expired, wrong audience or scope, client revoked)."""

    remedy = REMEDIES["generic"]


class TokenProvider(Protocol):
    """Fetches a new access token: (token, seconds it is valid)."""

    name: str

    def fetch(self) -> tuple[str, float]: ...


@dataclass
class _Token:
    value: str = field(repr=False)
    expires_at: float  # time.time()
    lifetime: float


class TokenSource:
    """A provider's token, kept in memory and fetched again before it expires (thread-safe).

    A token is renewed once less than ``refresh_margin_seconds`` of it is left (at most half of
    its lifetime, so a short-lived token is still used). ``invalidate`` drops a token the server refused.
    """

    def __init__(
        self, provider: TokenProvider, refresh_margin_seconds: float = 300.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.provider = provider
        self.margin = refresh_margin_seconds
        self.clock = clock
        self.fetches = 0
        self._token: _Token | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.provider.name

    def token(self) -> tuple[str, bool]:
        """(access token, True when it was fetched just now)."""
        with self._lock:
            now = self.clock()
            cached = self._token
            if cached is not None and cached.expires_at - now > min(self.margin, cached.lifetime / 2):
                return cached.value, False
            value, expires_in = self.provider.fetch()
            self.fetches += 1
            lifetime = max(float(expires_in), 0.0)
            self._token = _Token(value, now + lifetime, lifetime)
            log.info("bfs_email: OAuth2 token from %s, valid %d s", self.provider.name, int(lifetime))
            return value, True

    def invalidate(self) -> None:
        with self._lock:
            self._token = None


# --------------------------------------------------------------------------- providers


def _secret(settings: OAuth2Settings) -> str | None:
    try:
        return settings.client_secret()
    except OSError as exc:
        raise TokenRefused(f"bfs_email: OAuth2 client secret file unreadable ({type(exc).__name__})") from None


def _read(path: Path, what: str, provider: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TokenRefused(f"bfs_email: {what} unreadable ({type(exc).__name__})", remedy=REMEDIES[provider]) from None


def _error_code(payload: Any) -> str:
    """The OAuth error code (and an AADSTS number) of a token endpoint's answer: no free text, which may echo input."""
    if not isinstance(payload, dict):
        return "no error code"
    parts = []
    code = payload.get("error")
    if isinstance(code, str) and _SAFE_CODE.match(code):
        parts.append(code)
    description = payload.get("error_description")
    if isinstance(description, str):
        parts.extend(dict.fromkeys(_AADSTS.findall(description)))
    return ", ".join(parts) or "no error code"


def _lifetime(payload: dict[str, Any]) -> float:
    """``expires_in`` of a token response (RFC 6749: recommended, not required; absent: an hour)."""
    try:
        return float(payload.get("expires_in", 3600))
    except (TypeError, ValueError):
        return 3600.0


class GenericProvider:
    """A client-credentials POST (RFC 6749 4.4) to ``token_url``: client id and secret in HTTP Basic."""

    name = "generic"

    def __init__(self, settings: OAuth2Settings) -> None:
        if not settings.token_url or not settings.client_id:
            raise TokenRefused("bfs_email: auth = \"oauth2\" (generic) needs oauth2.token_url and oauth2.client_id")
        self.settings = settings

    def fetch(self) -> tuple[str, float]:
        import requests

        s = self.settings
        secret = _secret(s)
        if not secret:
            raise TokenRefused("bfs_email: no OAuth2 client secret (set client_secret_env's variable or "
                               "client_secret_file)")
        data = {"grant_type": "client_credentials"}
        if s.scope:
            data["scope"] = s.scope
        try:
            response = requests.post(
                str(s.token_url), data=data, auth=(str(s.client_id), secret), timeout=HTTP_TIMEOUT,
                headers={"Accept": "application/json"},
            )
        except requests.RequestException as exc:
            raise ChannelUnavailable(f"bfs_email: token endpoint unreachable ({type(exc).__name__})") from None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code != 200 or not isinstance(payload, dict) or not payload.get("access_token"):
            raise TokenRefused(
                f"bfs_email: the token endpoint refused a token (HTTP {response.status_code}: {_error_code(payload)})"
            )
        return str(payload["access_token"]), _lifetime(payload)


class MicrosoftProvider:
    """MSAL's confidential client: ``acquire_token_for_client`` (client credentials) for Exchange Online IMAP."""

    name = "microsoft"

    def __init__(self, settings: OAuth2Settings, http_client: Any = None) -> None:
        if not settings.tenant or not settings.client_id:
            raise TokenRefused("bfs_email: auth = \"oauth2\" (microsoft) needs oauth2.tenant and oauth2.client_id",
                               remedy=REMEDIES["microsoft"])
        self.settings = settings
        self.http_client = http_client
        self._app: Any = None

    def _credential(self) -> str | dict[str, str]:
        s = self.settings
        if s.certificate_file is not None:
            pem = _read(s.certificate_file, "OAuth2 certificate file", self.name)
            certificates = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, re.S)
            if "PRIVATE KEY-----" not in pem or not certificates:
                raise TokenRefused("bfs_email: the OAuth2 certificate file needs the private key and the "
                                   "certificate (PEM)", remedy=REMEDIES[self.name])
            return {"private_key": pem, "public_certificate": certificates[0]}
        secret = _secret(s)
        if not secret:
            raise TokenRefused("bfs_email: no OAuth2 client secret (set client_secret_env's variable, "
                               "client_secret_file or certificate_file)", remedy=REMEDIES[self.name])
        return secret

    def fetch(self) -> tuple[str, float]:
        import msal
        import requests

        s = self.settings
        try:
            if self._app is None:
                self._app = msal.ConfidentialClientApplication(
                    str(s.client_id), client_credential=self._credential(),
                    authority=f"{s.authority_host.rstrip('/')}/{s.tenant}",
                    http_client=self.http_client, timeout=HTTP_TIMEOUT,
                )
            # TokenSource keeps the token: MSAL's own cache would hand back a token the server refused.
            self._app.token_cache = msal.TokenCache()
            result = self._app.acquire_token_for_client(scopes=[s.scope or MICROSOFT_SCOPE])
        except TokenRefused:
            raise
        except requests.RequestException as exc:
            raise ChannelUnavailable(f"bfs_email: Microsoft identity platform unreachable ({type(exc).__name__})",
                                     ) from None
        except ValueError as exc:  # MSAL: unknown tenant (OIDC discovery failed), a malformed key
            raise TokenRefused(f"bfs_email: Microsoft identity platform refused the client ({type(exc).__name__})",
                               remedy=REMEDIES[self.name]) from None
        if not isinstance(result, dict) or "access_token" not in result:
            raise TokenRefused(f"bfs_email: Microsoft identity platform refused a token ({_error_code(result)})",
                               remedy=REMEDIES[self.name])
        return str(result["access_token"]), _lifetime(result)


class GoogleProvider:
    """google-auth's service account with domain-wide delegation, acting as the mailbox user."""

    name = "google"

    def __init__(self, settings: OAuth2Settings, username: str) -> None:
        if settings.service_account_file is None:
            raise TokenRefused("bfs_email: auth = \"oauth2\" (google) needs oauth2.service_account_file",
                               remedy=REMEDIES["google"])
        self.settings = settings
        self.username = username
        self._credentials: Any = None

    def fetch(self) -> tuple[str, float]:
        from datetime import UTC, datetime

        import google.auth.exceptions
        import google.auth.transport.requests
        from google.oauth2 import service_account

        s = self.settings
        try:
            if self._credentials is None:
                assert s.service_account_file is not None
                self._credentials = service_account.Credentials.from_service_account_file(
                    str(s.service_account_file), scopes=[s.scope or GOOGLE_SCOPE], subject=self.username
                )
            self._credentials.refresh(google.auth.transport.requests.Request())
        except OSError as exc:
            raise TokenRefused(f"bfs_email: the service account key file is unreadable ({type(exc).__name__})",
                               remedy=REMEDIES[self.name]) from None
        except google.auth.exceptions.RefreshError as exc:
            raise TokenRefused(f"bfs_email: Google refused a token ({_google_error(exc)})",
                               remedy=REMEDIES[self.name]) from None
        except google.auth.exceptions.TransportError as exc:
            raise ChannelUnavailable(f"bfs_email: Google's token endpoint unreachable ({type(exc).__name__})",
                                     ) from None
        except (ValueError, KeyError) as exc:  # not a service account key
            raise TokenRefused(f"bfs_email: the service account key file is not valid ({type(exc).__name__})",
                               remedy=REMEDIES[self.name]) from None
        expiry = self._credentials.expiry
        expires_in = 3600.0
        if isinstance(expiry, datetime):
            expires_in = (expiry.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()
        return str(self._credentials.token), expires_in


def _google_error(exc: Exception) -> str:
    for arg in exc.args[1:]:
        if isinstance(arg, dict):
            return _error_code(arg)
    return "no error code"


# --------------------------------------------------------------------------- the process's token sources

_SOURCES: dict[tuple[object, ...], TokenSource] = {}
_SOURCES_LOCK = threading.Lock()


def provider_for(settings: MailChannelSettings) -> TokenProvider:
    oauth = settings.oauth2
    if oauth.provider == "microsoft":
        return MicrosoftProvider(oauth)
    if oauth.provider == "google":
        return GoogleProvider(oauth, str(settings.username or ""))
    return GenericProvider(oauth)


def token_source(settings: MailChannelSettings) -> TokenSource:
    """The token source of this mailbox and client, shared by every session of this process."""
    oauth = settings.oauth2
    key = (
        oauth.provider, oauth.tenant, oauth.client_id, oauth.token_url, oauth.scope, oauth.authority_host,
        str(oauth.service_account_file), str(oauth.certificate_file), oauth.client_secret_env,
        str(oauth.client_secret_file), settings.username,
    )
    with _SOURCES_LOCK:
        source = _SOURCES.get(key)
        if source is None:
            source = TokenSource(provider_for(settings), oauth.refresh_margin_seconds)
            _SOURCES[key] = source
        return source


def forget_tokens() -> None:
    """Drop every cached token and provider (tests; a changed secret)."""
    with _SOURCES_LOCK:
        _SOURCES.clear()
