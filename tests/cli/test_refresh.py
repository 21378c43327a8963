"""Refresh against the real mock IdP: the 75 % threshold by server time, the 401 retry,
dead sessions and their messages, and delegated tokens."""

from __future__ import annotations

import time

import pytest

from mock_idp.seed import ACME_ORG_ID
from tests.cli import stored
from tests.cli.conftest import DAY, HOUR, api_statuses, count
from tests.mock_idp.oauth_flow import refresh


def test_an_expired_access_token_is_refreshed_once_after_a_401_and_the_call_succeeds(
    logged_in, twg, mock_idp, config_dir
):
    old = stored.tokens(config_dir)
    now = mock_idp.clock.advance(9 * HOUR)
    result = twg.run("api", "/me")

    assert result.code == 0, result.err
    assert '"email": "alice@example.com"' in result.out
    assert count(mock_idp, "token.rotated") == 1
    # The expired token was refused once, then the retry with the new one succeeded.
    assert api_statuses(mock_idp, "/me")[-2:] == [401, 200]
    new = stored.tokens(config_dir)
    assert new["refresh_token"] != old["refresh_token"]
    assert new["access_token"] != old["access_token"]
    assert stored.conf(config_dir)["last_refresh_at"] == pytest.approx(now, abs=5)


def test_refresh_happens_before_the_call_once_75_percent_of_the_lifetime_passed(
    logged_in, twg, mock_idp
):
    # Both clocks move (a real wait): past 75 % of 8 h, not yet expired.
    mock_idp.clock.advance(6.5 * HOUR)
    result = twg.run("api", "/me", local_now=lambda: time.time() + 6.5 * HOUR)

    assert result.code == 0, result.err
    assert count(mock_idp, "token.rotated") == 1
    # login's /me, then exactly one more: no 401 round trip was needed.
    assert api_statuses(mock_idp, "/me") == [200, 200]


def test_auth_refresh_is_a_no_op_while_fresh_and_refreshes_once_due_by_the_mock_clock(
    logged_in, twg, mock_idp
):
    fresh = twg.run("auth", "refresh")
    assert fresh.code == 0
    assert "still fresh" in fresh.err
    assert count(mock_idp, "token.rotated") == 0

    mock_idp.clock.advance(7 * HOUR)  # past 75 % of the 8 h lifetime, by the server's clock
    due = twg.run("auth", "refresh", "--json")

    assert due.code == 0, due.err
    assert due.json()["refreshed"] is True
    assert count(mock_idp, "token.rotated") == 1


def test_auth_refresh_force_rotates(logged_in, twg, mock_idp, config_dir):
    old = stored.tokens(config_dir)["refresh_token"]
    result = twg.run("auth", "refresh", "--force", "--json")

    assert result.code == 0, result.err
    assert result.json()["refreshed"] is True
    assert count(mock_idp, "token.rotated") == 1
    new = stored.tokens(config_dir)["refresh_token"]
    assert new != old
    # The old token is spent: inside Atlassian's 10-minute reuse leeway (the mock's
    # default, docs/mock-defaults.md) a replay gets the same successor, never a new one.
    assert refresh(mock_idp.http, old).json()["refresh_token"] == new
    assert count(mock_idp, "refresh.reuse_within_grace") == 1


def test_expiry_uses_server_time_not_the_local_clock(twg, mock_idp, config_dir):
    """The mock's clock runs a year ahead of this machine: expiry must still be right."""
    server_now = mock_idp.clock.set(time.time() + 365 * DAY)
    assert twg.run("login").code == 0

    conf = stored.conf(config_dir)
    assert conf["access_expires_at"] == pytest.approx(server_now + 8 * HOUR, abs=5)
    assert conf["clock_skew"] == pytest.approx(365 * DAY, abs=5)
    status = twg.run("auth", "status", "--json").json()
    assert status["access_token_state"].startswith("fresh (7h")


def test_server_time_learned_by_one_run_is_used_by_the_next(logged_in, twg, mock_idp, config_dir):
    mock_idp.clock.advance(7 * HOUR)  # past 75 %, but the access token is still valid
    assert twg.run("api", "/me").code == 0
    assert count(mock_idp, "token.rotated") == 0  # it decided before seeing the server's clock

    status = twg.run("auth", "status", "--json")  # no network at all
    assert "refresh due" in status.json()["access_token_state"]
    assert twg.run("api", "/me").code == 0
    assert count(mock_idp, "token.rotated") == 1  # refreshed ahead of expiry, by server time
    assert (config_dir / "server-time.json").stat().st_mode & 0o777 == 0o600


def test_thirty_days_of_inactivity_gives_a_clear_auth_invalid(logged_in, twg, mock_idp, config_dir):
    mock_idp.clock.advance(31 * DAY)
    result = twg.run("api", "/me", "--json")

    assert result.code == 77
    error = result.json()["error"]
    assert error["code"] == "AUTH_INVALID"
    assert "30 days of inactivity" in error["message"]
    assert "twg login" in error["message"]
    # Local tokens are cleared (the secrets file held nothing else), and later commands
    # still say why.
    assert not (config_dir / "credentials").exists()
    again = twg.run("auth", "status", "--json")
    assert again.code == 77
    assert "30 days of inactivity" in again.json()["error"]["message"]


def test_an_admin_revocation_names_the_organization_admin(logged_in, twg, mock_idp):
    mock_idp.idp.sessions.revoke_sessions(org_id=ACME_ORG_ID, reason="org_admin")
    mock_idp.clock.advance(9 * HOUR)
    result = twg.run("api", "/me")

    assert result.code == 77
    assert "revoked by an organization admin" in result.err
    assert "twg login" in result.err


def test_invalid_grant_as_403_like_atlassian_is_handled_like_400(logged_in, twg, mock_idp):
    mock_idp.settings(invalid_grant_status=403)
    mock_idp.idp.sessions.revoke_sessions(org_id=ACME_ORG_ID, reason="org_admin")
    result = twg.run("auth", "refresh", "--force", "--json")

    assert result.code == 77
    assert result.json()["error"]["code"] == "AUTH_INVALID"
    assert "organization admin" in result.json()["error"]["message"]


def test_a_logout_elsewhere_says_revoked_elsewhere(logged_in, twg, mock_idp, config_dir):
    # Another copy of these credentials logged out: the family is revoked at the mock.
    revoked = mock_idp.http.post(
        "/oauth/revoke",
        data={"token": stored.tokens(config_dir)["refresh_token"], "client_id": "twg-cli"},
    )
    assert revoked.status_code == 200
    result = twg.run("auth", "refresh", "--force", "--json")

    assert result.code == 77
    assert result.json()["error"]["code"] == "AUTH_INVALID"
    assert "revoked elsewhere" in result.json()["error"]["message"]


def test_reuse_elsewhere_gives_a_used_twice_message(logged_in, twg, mock_idp, config_dir):
    # Another copy of these credentials refreshed first: ours is now a replayed token.
    assert refresh(mock_idp.http, stored.tokens(config_dir)["refresh_token"]).status_code == 200
    mock_idp.clock.advance(9 * HOUR)
    result = twg.run("api", "/me")

    assert result.code == 77
    assert "used twice" in result.err
    assert count(mock_idp, "refresh.reuse_detected") == 1


def test_not_logged_in_is_auth_required_with_exit_77_and_sends_nothing(twg, mock_idp):
    result = twg.run("api", "/me", "--json")

    assert result.code == 77
    error = result.json()["error"]
    assert set(error) == {"code", "message"}
    assert error["code"] == "AUTH_REQUIRED"
    assert "twg login" in error["message"]
    assert mock_idp.audit("api.call") == []
    assert mock_idp.audit("token.") == []


def test_a_delegated_access_token_is_used_as_is_and_never_refreshed(
    logged_in, twg, mock_idp, config_dir
):
    token = stored.tokens(config_dir)["access_token"]
    result = twg.run("api", "/me", env={"TWG_OAUTH_ACCESS_TOKEN": token})
    assert result.code == 0, result.err

    mock_idp.clock.advance(9 * HOUR)
    expired = twg.run("api", "/me", env={"TWG_OAUTH_ACCESS_TOKEN": token})
    assert expired.code == 77
    assert "TWG_OAUTH_ACCESS_TOKEN" in expired.err
    assert count(mock_idp, "token.rotated") == 0
