"""OAuth2 login to the BFS mailbox on a real Dovecot whose ``oauth2`` passdb introspects every token at a
local authorisation server (tests/oauth_server.py), the intake fetching its token from that server's
token endpoint through the production code (ingest.oauth: only the URLs differ)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.config import MailChannelSettings, load_settings
from core.errors import ChannelUnavailable, ExitCode, IntakeError
from flows import steps
from flows.sequence import InProcess, PollFailed, run_sequence
from ingest import oauth
from ingest.channel import IntakeChannel
from ingest.mailbox import MailboxSession
from ingest.oauth import MailboxLoginRefused, TokenRefused
from ingest.state import MemoryState
from tests.conftest import write_config
from tests.test_wild_inputs import _detainer, _message

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.imap_server import DovecotServer, DroppingProxy
    from tests.oauth_server import OAuthServer

pytest_plugins = ["tests.imap_server", "tests.oauth_server", "tests.server_support"]

TZ = "America/New_York"
CLIENT, SECRET = "intake-app", "client-secret-for-tests-only"


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    oauth.forget_tokens()
    yield
    oauth.forget_tokens()


def _settings(server: DovecotServer, tmp_path: Path, **oauth2: object) -> MailChannelSettings:
    oauth_server: OAuthServer = server.oauth  # type: ignore[attr-defined]
    oauth_server.add_client(CLIENT, SECRET, server.user)
    secret = tmp_path / "client-secret"
    secret.write_text(SECRET + "\n")
    values: dict[str, object] = {
        "provider": "generic", "token_url": oauth_server.token_url, "client_id": CLIENT,
        "client_secret_env": None, "client_secret_file": secret,
    }
    values.update(oauth2)
    return server.settings(auth="oauth2", password_file=None, oauth2=values, action="none")


def _poll(settings: MailChannelSettings) -> list[str]:
    state = MemoryState()
    with MailboxSession(settings) as session:
        return [m.message_key for m in session.poll(state, TZ)]


@pytest.mark.parametrize("mechanism", ["xoauth2", "oauthbearer"])
def test_oauth2_login_with_a_token_from_the_token_endpoint(
    dovecot_oauth2: DovecotServer, tmp_path: Path, mechanism: str
) -> None:
    dovecot_oauth2.append(_message(1, "detainer.pdf", _detainer(0)))
    settings = _settings(dovecot_oauth2, tmp_path, mechanism=mechanism)
    state = MemoryState()
    with MailboxSession(settings) as session:
        messages = list(session.poll(state, TZ))
    assert len(messages) == 1 and messages[0].error is None
    assert [d.receipt.file_name for d in messages[0].documents] == ["detainer.pdf"]
    server: OAuthServer = dovecot_oauth2.oauth  # type: ignore[attr-defined]
    assert server.count("token:client_credentials") == 1
    assert server.requests.count("introspect:True") == 1  # Dovecot checked the token there

    # A second session of the process uses the kept token: no new token request.
    _poll(settings)
    assert server.count("token:") == 1


def test_a_token_near_its_expiry_is_renewed_before_it_is_used(dovecot_oauth2: DovecotServer, tmp_path: Path) -> None:
    server: OAuthServer = dovecot_oauth2.oauth  # type: ignore[attr-defined]
    server.expires_in = 8
    settings = _settings(dovecot_oauth2, tmp_path, refresh_margin_seconds=60)
    _poll(settings)
    _poll(settings)  # within the first half of its life: kept
    assert server.count("token:") == 1
    time.sleep(4.5)  # past half of its 8 s: renewed before the login, never sent expired
    _poll(settings)
    assert server.count("token:") == 2
    assert "introspect:False" not in server.requests


def test_a_kept_token_the_server_refuses_is_fetched_again_once(dovecot_oauth2: DovecotServer, tmp_path: Path) -> None:
    """Expired (or revoked) behind the intake's back mid-run: the reconnect gets a new token."""
    server: OAuthServer = dovecot_oauth2.oauth  # type: ignore[attr-defined]
    settings = _settings(dovecot_oauth2, tmp_path)
    _poll(settings)
    server.expire_all()
    _poll(settings)
    assert server.requests.count("introspect:False") == 1 and server.count("token:") == 2


def test_a_token_that_expires_mid_poll_is_renewed_when_the_session_reconnects(
    dovecot_oauth2: DovecotServer, tmp_path: Path, dropping_proxy: Callable[[int], DroppingProxy]
) -> None:
    server: OAuthServer = dovecot_oauth2.oauth  # type: ignore[attr-defined]
    uids = [dovecot_oauth2.append(_message(n, f"d{n}.pdf", _detainer(n))) for n in range(3)]
    proxy = dropping_proxy(dovecot_oauth2.port)
    settings = _settings(dovecot_oauth2, tmp_path).model_copy(update={"port": proxy.port})
    state = MemoryState()
    with MailboxSession(settings) as session:
        messages = session.poll(state, TZ)
        first = next(messages)
        server.expire_all()  # the token runs out while the poll goes on ...
        proxy.arm(b"BODY[]", after=16)  # ... and the connection drops in the next message's fetch
        rest = list(messages)
    assert first.error is None and first.uid == uids[0]
    assert [(m.uid, m.error is None) for m in rest] == [(uids[1], False), (uids[2], True)]
    assert "connection lost" in str(rest[0].error)
    # The reconnect's login was refused with the kept token, which was then fetched again.
    assert server.requests.count("introspect:False") == 1 and server.count("token:") == 2


def _refused(settings: MailChannelSettings) -> IntakeError:
    with pytest.raises(ChannelUnavailable) as caught:
        _poll(settings)
    return caught.value


def test_refusals_are_typed_with_the_setting_to_check_and_no_secret(
    dovecot_oauth2: DovecotServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server: OAuthServer = dovecot_oauth2.oauth  # type: ignore[attr-defined]
    dovecot_oauth2.append(_message(1, "detainer.pdf", _detainer(0)))

    # Wrong audience: issued, but the server's introspection says inactive for IMAP.
    server.audience = "https://graph.example.org"
    error = _refused(_settings(dovecot_oauth2, tmp_path))
    assert isinstance(error, MailboxLoginRefused) and error.exit_code == ExitCode.channel_unavailable
    assert "refused the OAuth2 token" in error.message and "token_url" in error.remedy
    assert server.requests.count("introspect:False") == 1  # a fresh token is not asked for twice

    # Expired: every token the server issues is already past.
    server.audience, server.expires_in = "imap", 0
    oauth.forget_tokens()
    assert isinstance(_refused(_settings(dovecot_oauth2, tmp_path)), MailboxLoginRefused)

    # Revoked client: the token endpoint refuses it.
    server.expires_in = 3600
    server.revoke(CLIENT)
    oauth.forget_tokens()
    error = _refused(_settings(dovecot_oauth2, tmp_path))
    assert isinstance(error, TokenRefused)
    assert "HTTP 401: invalid_client" in error.message and CLIENT not in error.message  # no echoed description

    # Microsoft's remedy names the Azure and Exchange settings.
    microsoft = MailboxLoginRefused("x", remedy=oauth.REMEDIES["microsoft"])
    assert "IMAP.AccessAsApp" in microsoft.remedy and "Add-MailboxPermission" in microsoft.remedy
    assert "New-ServicePrincipal" in microsoft.remedy
    # Nothing handled, no token and no secret anywhere in the log.
    assert dovecot_oauth2.flags() and all(not flags for flags in dovecot_oauth2.flags().values())
    issued = list(server.tokens)
    assert issued and not any(token in caplog.text for token in issued) and SECRET not in caplog.text


def test_the_server_must_offer_the_mechanism(dovecot: DovecotServer, tmp_path: Path) -> None:
    from tests.oauth_server import OAuthServer

    server = OAuthServer()
    try:
        dovecot.oauth = server  # type: ignore[attr-defined]
        error = _refused(_settings(dovecot, tmp_path))
        assert "offers no AUTH=XOAUTH2" in error.message and "PLAIN" in error.message
        assert server.count("token:") == 0  # no token is asked for a server that would not take it
    finally:
        server.close()


class _GoesOn(InProcess):
    """Like the Prefect runner: a channel that cannot be polled is recorded failed and the run goes on."""

    def poll(self, intake: steps.Intake, channel: IntakeChannel) -> steps.ChannelPoll | PollFailed:  # type: ignore[override]
        from flows.sequence import poll_failure_reason

        try:
            return super().poll(intake, channel)
        except IntakeError as exc:
            return PollFailed(channel, poll_failure_reason(exc))


def test_a_run_reads_the_mailbox_with_oauth2_and_a_refused_token_fails_only_the_channel(
    dovecot_oauth2: DovecotServer, tmp_path: Path, ocr_cache_dir: Path
) -> None:
    server: OAuthServer = dovecot_oauth2.oauth  # type: ignore[attr-defined]
    corpus = tmp_path / "corpus"
    for folder in ("dedicated", "stations", "mailbox/new", "mailbox/cur", "mailbox/tmp"):
        (corpus / folder).mkdir(parents=True)
    dovecot_oauth2.append(_message(1, "detainer.pdf", _detainer(0)))
    mail = _settings(dovecot_oauth2, tmp_path)
    config = write_config(tmp_path / "config.toml", data_dir=tmp_path / "data", sample_root=corpus,
                          extraction_cache=ocr_cache_dir, workers=1)
    base = load_settings(config)

    def run() -> steps.Intake:
        settings = base.model_copy(update={"channels": base.channels.model_copy(update={"bfs_email": mail})})
        intake = steps.Intake.open(settings)
        try:
            run_sequence(intake, _GoesOn())
        finally:
            intake.close()
        return intake

    run()
    intake = steps.Intake.open(base)
    try:
        assert [view.first_channel for view in intake.ledger.requests()] == ["bfs_email"]
        assert intake.ledger.poll_records()[-1].outcome == "read"
    finally:
        intake.close()

    # The client is revoked: its kept token turns inactive, and it gets no new one. The fax channel is read.
    (corpus / "dedicated" / "fax.pdf").write_bytes(_detainer(1))
    server.revoke(CLIENT)
    run()
    intake = steps.Intake.open(base)
    try:
        assert sorted(view.first_channel for view in intake.ledger.requests()) == ["bfs_email", "dedicated_fax"]
        last = {record.channel: record for record in intake.ledger.poll_records()[-3:]}
        assert last["bfs_email"].outcome == "failed"
        assert "token endpoint refused a token (HTTP 401: invalid_client)" in str(last["bfs_email"].reason)
        assert last["dedicated_fax"].outcome == "read"
    finally:
        intake.close()


def test_doctor_logs_in_with_the_oauth2_token_read_only(dovecot_oauth2: DovecotServer, tmp_path: Path) -> None:
    from application.doctor import check_channels
    from core.config import Settings

    server: OAuthServer = dovecot_oauth2.oauth  # type: ignore[attr-defined]
    dovecot_oauth2.append(_message(1, "detainer.pdf", _detainer(0)))
    settings = Settings(channels={"bfs_email": _settings(dovecot_oauth2, tmp_path, mechanism="oauthbearer")})
    (check,) = [c for c in check_channels(settings) if c.name == "channel bfs_email"]
    assert check.ok and "OAuth2 login (generic) ok, folder 'INBOX': 1 message(s)" in check.detail, check
    assert all(not flags for flags in dovecot_oauth2.flags().values())  # examined only: nothing marked

    server.revoke(CLIENT)
    oauth.forget_tokens()
    (check,) = [c for c in check_channels(settings) if c.name == "channel bfs_email"]
    assert not check.ok and "token endpoint refused a token (HTTP 401: invalid_client)" in check.detail
    assert "token_url" in check.remedy and SECRET not in check.detail


def test_a_token_issued_with_no_lifetime_is_never_kept(oauth_server: OAuthServer, tmp_path: Path) -> None:
    oauth_server.add_client(CLIENT, SECRET, "bfs")
    oauth_server.expires_in = 0
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    settings = MailChannelSettings(username="bfs", auth="oauth2", oauth2={  # type: ignore[arg-type]
        "provider": "generic", "token_url": oauth_server.token_url, "client_id": CLIENT, "client_secret_file": secret,
    })
    source = oauth.token_source(settings)
    assert source.token()[1] and source.token()[1]  # fetched both times
    assert oauth_server.count("token:") == 2
