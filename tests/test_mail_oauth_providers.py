"""The Microsoft (MSAL) and Google (google-auth) token providers of ingest.oauth.

Google: the service account's key file names the local authorisation server (tests/oauth_server.py) as
its ``token_uri``, so google-auth signs and posts its real JWT-bearer grant there, and the token logs in
to a real Dovecot. Microsoft: MSAL's HTTP is answered at the transport (``responses``, under ``requests``):
its tenant discovery and its client-credentials request, with a client secret or a certificate (the
client assertion checked against the certificate); the token then logs in to the real Dovecot.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import pytest
import responses

from core.config import MailChannelSettings
from ingest import oauth
from ingest.mailbox import MailboxSession
from ingest.oauth import MailboxLoginRefused, TokenRefused
from ingest.state import MemoryState
from tests.test_wild_inputs import _detainer, _message

if TYPE_CHECKING:
    from tests.imap_server import DovecotServer
    from tests.oauth_server import OAuthServer

pytest_plugins = ["tests.imap_server", "tests.oauth_server"]

TZ = "America/New_York"
TENANT = "11111111-2222-3333-4444-555555555555"
APP = "66666666-7777-8888-9999-000000000000"
SECRET = "azure-client-secret-for-tests-only"
LOGIN = "https://login.microsoftonline.com"


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    oauth.forget_tokens()
    yield
    oauth.forget_tokens()


def _poll(settings: MailChannelSettings) -> list[Any]:
    with MailboxSession(settings) as session:
        return list(session.poll(MemoryState(), TZ))


# --------------------------------------------------------------------------- Google


def test_google_service_account_token_logs_in_as_the_mailbox_user(
    dovecot_oauth2: DovecotServer, tmp_path: Path
) -> None:
    from tests.oauth_server import google_service_account

    server: OAuthServer = dovecot_oauth2.oauth  # type: ignore[attr-defined]
    key_file = google_service_account(server, tmp_path)
    dovecot_oauth2.append(_message(1, "detainer.pdf", _detainer(0)))
    settings = dovecot_oauth2.settings(
        auth="oauth2", password_file=None, action="none",
        oauth2={"provider": "google", "service_account_file": key_file, "mechanism": "oauthbearer"},
    )
    messages = _poll(settings)
    assert len(messages) == 1 and [d.receipt.file_name for d in messages[0].documents] == ["detainer.pdf"]
    # The JWT-bearer grant, its subject the mailbox user (Dovecot checked the token's username).
    assert server.requests == ["token:urn:ietf:params:oauth:grant-type:jwt-bearer", "introspect:True"]

    # The key deleted in the Cloud console: Google refuses the grant; the remedy names delegation.
    server.revoke("intake@dept-project.example")
    oauth.forget_tokens()
    with pytest.raises(TokenRefused) as caught:
        _poll(settings)
    assert "Google refused a token (invalid_grant)" in caught.value.message
    assert "Domain-wide delegation" in caught.value.remedy and "https://mail.google.com/" in caught.value.remedy
    assert "PRIVATE KEY" not in caught.value.message


# --------------------------------------------------------------------------- Microsoft


def _discovery() -> dict[str, str]:
    base = f"{LOGIN}/{TENANT}"
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
    }


class _Entra:
    """The Microsoft identity platform's two endpoints MSAL calls, answered at the transport."""

    def __init__(self, mock: responses.RequestsMock, server: OAuthServer, username: str,
                 certificate: Any = None) -> None:
        self.server, self.username, self.certificate = server, username, certificate
        self.token_requests: list[dict[str, str]] = []
        self.refuse: dict[str, Any] | None = None
        mock.add(responses.GET, re.compile(rf"{LOGIN}/{TENANT}/v2\.0/\.well-known/openid-configuration.*"),
                 json=_discovery())
        mock.add(responses.GET, re.compile(rf"{LOGIN}/common/discovery/instance.*"), json={
            "tenant_discovery_endpoint": f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": "login.microsoftonline.com", "preferred_cache": "login.windows.net",
                          "aliases": ["login.microsoftonline.com", "login.windows.net"]}],
        })
        mock.add_callback(responses.POST, f"{LOGIN}/{TENANT}/oauth2/v2.0/token", callback=self.token)

    def token(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = {k: v[0] for k, v in parse_qs(request.body if isinstance(request.body, str)
                                             else request.body.decode()).items()}
        self.token_requests.append(form)
        if self.refuse is not None:
            return 401, {}, json.dumps(self.refuse)
        assert form["grant_type"] == "client_credentials" and form["client_id"] == APP
        assert form["scope"].split() == ["https://outlook.office365.com/.default"]
        if self.certificate is None:
            assert form["client_secret"] == SECRET
        else:
            import jwt

            assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            claims = jwt.decode(form["client_assertion"], self.certificate.public_key(), algorithms=["RS256", "PS256"],
                                audience=f"{LOGIN}/{TENANT}/oauth2/v2.0/token")
            assert claims["iss"] == claims["sub"] == APP
        # The token Exchange would accept: the local server issues it, and Dovecot introspects it there.
        self.server.add_client(APP, SECRET, self.username)
        _, issued = self.server.issue({"grant_type": "client_credentials", "client_id": APP, "client_secret": SECRET},
                                      None)
        return 200, {}, json.dumps({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                    "access_token": issued["access_token"]})


@pytest.fixture
def entra_mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _microsoft(server: DovecotServer, **oauth2: object) -> MailChannelSettings:
    values: dict[str, object] = {"provider": "microsoft", "tenant": TENANT, "client_id": APP,
                                 "client_secret_env": "TEST_AZURE_SECRET"}
    values.update(oauth2)
    return server.settings(auth="oauth2", password_file=None, action="none", oauth2=values)


def test_microsoft_client_secret_token_logs_in_and_a_refusal_names_the_azure_settings(
    dovecot_oauth2: DovecotServer, entra_mock: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # MSAL's and urllib3's debug lines too
    monkeypatch.setenv("TEST_AZURE_SECRET", SECRET)
    entra = _Entra(entra_mock, dovecot_oauth2.oauth, dovecot_oauth2.user)  # type: ignore[attr-defined]
    dovecot_oauth2.append(_message(1, "detainer.pdf", _detainer(0)))
    settings = _microsoft(dovecot_oauth2)
    assert len(_poll(settings)) == 1
    assert len(entra.token_requests) == 1
    _poll(settings)
    assert len(entra.token_requests) == 1  # kept in memory

    # The server refuses the token (as Exchange does without the mailbox permission; here Dovecot's
    # introspection says inactive: issued for another audience). The kept token is dropped and MSAL asked
    # again, not its cache; the second refusal is typed, its remedy the Azure/Exchange settings.
    dovecot_oauth2.oauth.audience = "https://graph.microsoft.com"  # type: ignore[attr-defined]
    oauth.token_source(settings).invalidate()
    with pytest.raises(MailboxLoginRefused) as caught:
        _poll(settings)
    assert len(entra.token_requests) == 2
    for setting in ("IMAP.AccessAsApp", "New-ServicePrincipal", "Add-MailboxPermission", "admin consent"):
        assert setting in caught.value.remedy

    # A wrong secret: Entra's error code and AADSTS number, never its description's free text or the secret.
    entra.refuse = {"error": "invalid_client", "error_description": f"AADSTS7000215: Invalid client secret "
                    f"provided for app '{APP}'. Trace ID: 0"}
    oauth.forget_tokens()
    with pytest.raises(TokenRefused) as refused:
        _poll(settings)
    assert refused.value.message.endswith("(invalid_client, AADSTS7000215)")
    assert "IMAP.AccessAsApp" in refused.value.remedy
    assert SECRET not in caplog.text and SECRET not in refused.value.message
    tokens = list(dovecot_oauth2.oauth.tokens)  # type: ignore[attr-defined]
    assert len(tokens) == 2 and not any(token in caplog.text for token in tokens)


def test_microsoft_certificate_credential(
    dovecot_oauth2: DovecotServer, entra_mock: responses.RequestsMock, tmp_path: Path
) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "detainer-intake")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / "app.pem"
    pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
        + certificate.public_bytes(serialization.Encoding.PEM)
    )
    entra = _Entra(entra_mock, dovecot_oauth2.oauth, dovecot_oauth2.user, certificate)  # type: ignore[attr-defined]
    dovecot_oauth2.append(_message(1, "detainer.pdf", _detainer(0)))
    settings = _microsoft(dovecot_oauth2, client_secret_env=None, certificate_file=pem)
    assert len(_poll(settings)) == 1 and len(entra.token_requests) == 1
    assert "client_secret" not in entra.token_requests[0]

    # A file without the private key is refused before anything is sent.
    oauth.forget_tokens()
    pem.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(TokenRefused, match="needs the private key and the certificate"):
        _poll(settings)
    assert len(entra.token_requests) == 1
