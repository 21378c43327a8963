"""A session survives what other processes do to it: a writer that died between saving the
secrets and auth.conf, another process saving new tokens while ours learns the old ones
are dead (compare-and-clear), and a session without a refresh token. All through the CLI
against the real mock, so the tests hold whatever the storage layout is."""

from __future__ import annotations

import json

import httpx

from tests.cli import stored
from tests.cli.conftest import HOUR, count
from tests.mock_idp.helpers import login as mock_session
from tests.mock_idp.oauth_flow import refresh


def write_secrets(config_dir, **secrets: str) -> None:
    """Replace the session's secrets as another (non-twg or dying) writer would."""
    path = config_dir / "credentials"
    data = json.loads(path.read_text())
    [issuer] = data["sessions"]
    data["sessions"][issuer] = secrets
    path.write_text(json.dumps(data))


def test_a_save_cut_off_before_auth_conf_is_recovered_with_the_newer_secrets(
    logged_in, twg, mock_idp, config_dir
):
    # A refresh that died half-way: the mock rotated the token, the new secrets are on
    # disk, but auth.conf still describes the old ones.
    old = stored.tokens(config_dir)
    newer = refresh(mock_idp.http, old["refresh_token"]).json()
    write_secrets(
        config_dir, access_token=newer["access_token"], refresh_token=newer["refresh_token"]
    )

    result = twg.run("api", "/me")

    # twg trusted the newer secrets (the old refresh token would be a replay) and, not
    # knowing their expiry, refreshed them first.
    assert result.code == 0, result.err
    assert count(mock_idp, "refresh.reuse_detected") == 0
    assert count(mock_idp, "token.rotated") == 2
    after = stored.tokens(config_dir)
    assert after["refresh_token"] not in (old["refresh_token"], newer["refresh_token"])
    status = twg.run("auth", "status", "--json")
    assert status.code == 0
    assert status.json()["access_token_state"].startswith("fresh")


def test_a_dead_session_never_clears_tokens_another_process_saved_meanwhile(
    logged_in, twg, mock_idp, config_dir
):
    ours = stored.tokens(config_dir)
    family = mock_idp.idp.sessions.check_access(ours["access_token"]).family
    mock_idp.idp.sessions.revoke_family(family, "org_admin")
    mock_idp.clock.advance(9 * HOUR)
    theirs = mock_session(mock_idp.idp)  # a new session another process saved

    class AnotherWriter(httpx.HTTPTransport):
        """While our refresh is on its way, the other process saves its tokens."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/oauth/token":
                write_secrets(
                    config_dir,
                    access_token=theirs.access_token,
                    refresh_token=theirs.refresh_token,
                )
            return super().handle_request(request)

    result = twg.run("api", "/me", transport=AnotherWriter())

    assert result.code == 77
    assert "revoked by an organization admin" in result.err
    # Compare-and-clear: the tokens on disk are not the ones that failed, so they stay.
    assert stored.tokens(config_dir) == {
        "access_token": theirs.access_token,
        "refresh_token": theirs.refresh_token,
    }
    # And they work: the next run picks them up.
    again = twg.run("api", "/me")
    assert again.code == 0, again.err


def test_an_expired_session_without_a_refresh_token_says_log_in_and_sends_nothing(
    logged_in, twg, mock_idp, config_dir
):
    secrets = stored.tokens(config_dir)
    write_secrets(config_dir, access_token=secrets["access_token"])
    conf = stored.conf(config_dir)
    conf["refresh_fp"] = None  # a session that never had one (no offline_access)
    (config_dir / "auth.conf").write_text(json.dumps(conf))
    mock_idp.clock.advance(9 * HOUR)

    result = twg.run("api", "/me", "--json")

    assert result.code == 77
    error = result.json()["error"]
    assert error["code"] == "AUTH_INVALID"
    assert error["message"].startswith("Your access token expired and there is no refresh token.")
    assert "twg login" in error["message"]
    assert mock_idp.audit("token.rotated") == []
    assert mock_idp.audit("refresh.") == []
