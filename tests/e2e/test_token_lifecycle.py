"""Every token scenario end to end: the real CLI against the mock IdP in a container."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mock_idp.control_client import MockIdPClient
from tests.e2e.harness import Cli, Stack, admin
from tests.mock_idp.oauth_flow import refresh

# Generous: the first test also pays for building the image and starting the stack.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

HOUR = 3600
DAY = 24 * HOUR


def _events(mock: MockIdPClient, since: int, name: str) -> list[dict[str, Any]]:
    return [e for e in mock.audit(since=since) if e["event"] == name]


def _stored_refresh_token(cli: Cli) -> str:
    data = json.loads((cli.config_dir / "credentials").read_text(encoding="utf-8"))
    # One section per issuer; the CLI here has a single session.
    token = next(iter(data.get("sessions", {}).values()), {}).get("refresh_token")
    assert token, "the file credential store holds no refresh token"
    return str(token)


def test_login_through_the_browser_gives_status_and_api_me_for_alice(
    cli: Cli, mock: MockIdPClient
) -> None:
    done = cli.login()

    assert "Credentials saved" in done.stdout + done.stderr
    status = cli.json("auth", "status")
    assert status["logged_in"] is True
    assert status["account"]["email"] == "alice@example.com"
    assert status["issuer"] == mock.url
    me = cli("api", "/me")
    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["email"] == "alice@example.com"
    # The token never shows up in what the user sees.
    token = _stored_refresh_token(cli)
    assert token not in done.stdout + done.stderr + me.stdout + me.stderr


def test_call_after_eight_hours_refreshes_and_rotates_the_refresh_token(
    cli: Cli, mock: MockIdPClient
) -> None:
    cli.login()
    first_refresh = _stored_refresh_token(cli)
    mark = mock.last_audit_id()
    assert cli("api", "/me").returncode == 0
    assert _events(mock, mark, "token.rotated") == [], "a fresh token must not be refreshed"

    mock.clock.advance(8 * HOUR + 60)
    me = cli("api", "/me")

    assert me.returncode == 0, me.stderr
    assert json.loads(me.stdout)["email"] == "alice@example.com"
    rotated = _events(mock, mark, "token.rotated")
    assert len(rotated) == 1
    assert _stored_refresh_token(cli) != first_refresh
    # Rotation made the old refresh token single-use history (past the reuse leeway).
    mock.clock.advance(601)
    assert refresh(mock.http, first_refresh).json()["error"] == "invalid_grant"


def test_replaying_a_rotated_refresh_token_revokes_the_session_for_the_cli_too(
    cli: Cli, mock: MockIdPClient
) -> None:
    cli.login()
    stolen = _stored_refresh_token(cli)
    assert cli("auth", "refresh", "--force").returncode == 0
    mock.clock.advance(601)  # past Atlassian's 10-minute reuse leeway, the mock's default

    replay = refresh(mock.http, stolen)

    assert replay.json()["error"] == "invalid_grant"
    assert _events(mock, 0, "refresh.reuse_detected")
    after = cli("api", "/me")
    assert after.returncode == 77
    assert "used twice" in after.stderr


def test_thirty_one_idle_days_exit_77_with_the_inactivity_message_until_login(
    cli: Cli, mock: MockIdPClient
) -> None:
    cli.login()
    mock.clock.advance(31 * DAY)

    expired = cli("api", "/me")

    assert expired.returncode == 77
    assert "30 days of inactivity" in expired.stderr
    assert "twg login" in expired.stderr
    cli.login()
    again = cli("api", "/me")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["email"] == "alice@example.com"


def test_logout_kills_the_refresh_token_at_the_server(cli: Cli, mock: MockIdPClient) -> None:
    cli.login()
    refresh_token = _stored_refresh_token(cli)

    done = cli("logout")

    assert done.returncode == 0, done.stderr
    dead = refresh(mock.http, refresh_token)
    assert dead.status_code == 403  # Atlassian's status for invalid_grant (docs/mock-defaults.md)
    assert dead.json()["error"] == "invalid_grant"
    assert not (cli.config_dir / "credentials").exists()
    after = cli("api", "/me")
    assert after.returncode == 77


def test_org_admin_revocation_tells_the_user_an_admin_revoked_the_session(
    cli: Cli, mock: MockIdPClient
) -> None:
    cli.login()
    account_id = cli.json("auth", "status")["account"]["id"]
    orgs = admin(mock, "GET", "/orgs")
    assert orgs.status_code == 200, orgs.text
    org_id = orgs.json()["data"][0]["id"]

    revoked = admin(mock, "DELETE", f"/orgs/{org_id}/users/{account_id}/twg-cli/sessions")

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_sessions"] >= 1
    after = cli("api", "/me")
    assert after.returncode == 77
    assert "revoked by an organization admin" in after.stderr
    assert _events(mock, 0, "admin.sessions_revoked")


def test_cli_inside_the_compose_network_logs_in_and_calls_the_api(
    stack: Stack, mock: MockIdPClient
) -> None:
    login = stack.compose_run("twg", "login")
    assert login.returncode == 0, f"{login.stdout}\n{login.stderr}"

    me = stack.compose_run("twg", "api", "/me")

    assert me.returncode == 0, f"{me.stdout}\n{me.stderr}"
    assert json.loads(me.stdout)["email"] == "alice@example.com"
    started = _events(mock, 0, "session.started")
    assert len(started) == 1
