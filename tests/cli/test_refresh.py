"""Refresh: 75% threshold, 401 retry, dead sessions and their messages, the preflight."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.cli import stored as saved
from tests.cli.fake_idp import DAY


def stored(config_dir):
    return saved.tokens(config_dir)


def test_expired_access_token_is_refreshed_once_on_401_and_the_call_succeeds(
    logged_in, twg, fake, config_dir
):
    old = stored(config_dir)
    fake.now += 9 * 3600
    result = twg("api", "/me")

    assert result.code == 0, result.err
    assert json.loads(result.out)["email"] == "alice@example.com"
    assert fake.refresh_count() == 1
    new = stored(config_dir)
    assert new["refresh_token"] != old["refresh_token"]
    conf = saved.conf(config_dir)
    assert conf["last_refresh_at"] == pytest.approx(fake.now, abs=2)


def test_refresh_happens_before_the_call_once_75_percent_of_the_lifetime_passed(
    logged_in, twg, fake
):
    # Both clocks move (a real wait): past 75% of 8 h, not yet expired.
    fake.now += 6.5 * 3600
    result = twg("api", "/me", local_shift=6.5 * 3600)

    assert result.code == 0, result.err
    assert fake.refresh_count() == 1
    api_calls = [r for r in fake.requests if r[1] == "/me"]
    # login's /me, then exactly one more: no 401 round trip was needed.
    assert len(api_calls) == 2


def test_auth_refresh_is_a_no_op_while_fresh(logged_in, twg, fake):
    result = twg("auth", "refresh")

    assert result.code == 0
    assert "still fresh" in result.err
    assert fake.refresh_count() == 0


def test_auth_refresh_force_rotates(logged_in, twg, fake, config_dir):
    old = stored(config_dir)["refresh_token"]
    result = twg("auth", "refresh", "--force", "--json")

    assert result.code == 0, result.err
    assert result.json()["refreshed"] is True
    assert fake.refresh_count() == 1
    assert stored(config_dir)["refresh_token"] != old


def test_expiry_uses_server_time_not_the_local_clock(logged_in, twg, fake, config_dir):
    """The fake IdP's clock is a year ahead of this machine: expiry must still be right."""
    conf = saved.conf(config_dir)
    assert conf["access_expires_at"] == pytest.approx(fake.now + 8 * 3600, abs=2)
    assert conf["clock_skew"] > 3600  # the fake's clock runs far ahead
    status = twg("auth", "status", "--json").json()
    assert status["access_token_state"].startswith("fresh (7h")


def test_thirty_days_of_inactivity_gives_a_clear_auth_invalid(logged_in, twg, fake, config_dir):
    fake.now += 31 * DAY
    result = twg("api", "/me", "--json")

    assert result.code == 77
    error = result.json()["error"]
    assert error["code"] == "AUTH_INVALID"
    assert "30 days of inactivity" in error["message"]
    assert "twg login" in error["message"]
    # Local tokens are cleared, and later commands still say why.
    assert "refresh_token" not in stored_or_empty(config_dir)
    again = twg("auth", "status", "--json")
    assert again.code == 77
    assert "30 days of inactivity" in again.json()["error"]["message"]


def stored_or_empty(config_dir):
    path = config_dir / "credentials"
    return saved.tokens(config_dir) if path.exists() else {}


def test_admin_revocation_names_the_organization_admin(logged_in, twg, fake):
    fake.revoke_all("org_admin")
    result = twg("api", "/me")

    assert result.code == 77
    assert "revoked by an organization admin" in result.err
    assert "twg login" in result.err


def test_reuse_elsewhere_gives_a_revoked_elsewhere_message(logged_in, twg, fake, config_dir):
    # Another copy of these credentials refreshed first: ours is now a replayed token.
    import httpx

    leaked = stored(config_dir)["refresh_token"]
    with httpx.Client(transport=fake.transport()) as client:
        client.post(
            "https://idp.test/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": leaked, "client_id": "twg-cli"},
        )
    fake.now += 9 * 3600
    result = twg("api", "/me")

    assert result.code == 77
    assert "used twice" in result.err


def test_invalid_grant_as_400_is_handled_like_403(logged_in, twg, fake):
    fake.invalid_grant_status = 400
    fake.revoke_all("logout")
    result = twg("api", "/me", "--json")

    assert result.code == 77
    assert result.json()["error"]["code"] == "AUTH_INVALID"
    assert "revoked elsewhere" in result.json()["error"]["message"]


def _make_readonly(path):
    os.chmod(path, 0o500)
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if done.returncode != 0:
            os.chmod(path, 0o700)
            pytest.skip("running as root on a file system without chattr +i")


def _make_writable(path):
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)
    os.chmod(path, 0o700)


def test_preflight_sends_nothing_when_the_config_dir_is_read_only(logged_in, twg, fake, config_dir):
    fake.now += 9 * 3600
    _make_readonly(config_dir)
    try:
        result = twg("api", "/me", env={"CLAUDECODE": "1"})
    finally:
        _make_writable(config_dir)

    assert result.code == 74  # EX_IOERR: the config dir cannot be written
    assert fake.refresh_count() == 0
    assert "Nothing was sent" in result.err
    assert "Claude Code" in result.err
    assert "normal terminal" in result.err
    # The refresh token is unspent: from a normal terminal the refresh works.
    again = twg("api", "/me")
    assert again.code == 0, again.err
    assert fake.refresh_count() == 1


def test_not_logged_in_is_auth_required_with_exit_77(twg, fake):
    result = twg("api", "/me", "--json")

    assert result.code == 77
    assert result.json() == {
        "error": {"code": "AUTH_REQUIRED", "message": result.json()["error"]["message"]}
    }
    assert "twg login" in result.json()["error"]["message"]
    assert fake.requests == []


def test_delegated_access_token_is_used_as_is_and_never_refreshed(twg, fake):
    token = fake._issue(fake._new_family())["access_token"]
    result = twg("api", "/me", env={"TWG_OAUTH_ACCESS_TOKEN": token})
    assert result.code == 0, result.err

    fake.now += 9 * 3600
    expired = twg("api", "/me", env={"TWG_OAUTH_ACCESS_TOKEN": token})
    assert expired.code == 77
    assert "TWG_OAUTH_ACCESS_TOKEN" in expired.err
    assert fake.refresh_count() == 0
