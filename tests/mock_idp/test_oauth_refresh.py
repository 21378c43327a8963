"""The refresh_token grant over a real socket: rotation on every use (OAuth 2.1 section
4.3.1), reuse detection revoking the family (RFC 9700 section 4.14.2) and its grace window,
scope narrowing (RFC 6749 section 6), idle and absolute expiry by the mock clock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_idp.settings import DAY, HOUR, Settings
from tests.mock_idp.helpers import events
from tests.mock_idp.oauth_flow import browser_login, refresh
from twg.lazy_tls import trust_store


@pytest.fixture
def idp_settings() -> Settings:
    # Written for the strict variant: no reuse leeway, RFC 6749's 400 for invalid_grant
    # (the defaults follow Atlassian: docs/mock-defaults.md).
    return Settings(refresh_reuse_grace=0, invalid_grant_status=400)


@pytest.fixture
def tokens(http: httpx.Client) -> dict[str, Any]:
    return browser_login(http)


def active(http: httpx.Client, token: str) -> bool:
    answer = http.post("/oauth/introspect", data={"token": token, "client_id": "twg-cli"})
    return bool(answer.json()["active"])


def test_refresh_rotates_both_tokens(http: httpx.Client, tokens: dict[str, Any], idp) -> None:
    response = refresh(http, tokens["refresh_token"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["access_token"] != tokens["access_token"]
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 8 * HOUR
    assert body["scope"] == tokens["scope"]
    assert response.headers["cache-control"] == "no-store"
    assert idp.sessions.check_access(body["access_token"]) is not None
    # The new pair works; the chain goes on.
    assert refresh(http, body["refresh_token"]).status_code == 200


def test_refresh_accepts_a_json_body(http: httpx.Client, tokens: dict[str, Any]) -> None:
    response = http.post(
        "/oauth/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": "twg-cli",
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"]


def test_reusing_a_rotated_token_revokes_the_whole_family(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    newer = refresh(http, tokens["refresh_token"]).json()
    idp.clock.advance(1)
    reuse = refresh(http, tokens["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token reuse detected; the session was revoked.",
    }
    # The legitimate newest token is dead too, and so is its access token.
    after = refresh(http, newer["refresh_token"])
    assert after.status_code == 400
    assert after.json()["error"] == "invalid_grant"
    assert not active(http, newer["access_token"])
    assert idp.sessions.check_access(newer["access_token"]) is None
    assert events(idp, "refresh.reuse_detected")
    assert events(idp, "family.revoked")[-1]["reason"] == "reuse_detected"


def test_reuse_within_the_grace_window_is_allowed(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    idp.settings.refresh_reuse_grace = 600
    newer = refresh(http, tokens["refresh_token"]).json()
    idp.clock.advance(300)
    again = refresh(http, tokens["refresh_token"])
    assert again.status_code == 200, again.text
    assert refresh(http, newer["refresh_token"]).status_code == 200
    assert events(idp, "refresh.reuse_within_grace")
    assert not events(idp, "family.revoked")


def test_reuse_after_the_grace_window_revokes(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    idp.settings.refresh_reuse_grace = 600
    refresh(http, tokens["refresh_token"])
    idp.clock.advance(601)
    reuse = refresh(http, tokens["refresh_token"])
    assert reuse.status_code == 400
    assert "reuse detected" in reuse.json()["error_description"]


def test_narrower_scope_on_refresh_is_granted(http: httpx.Client, tokens: dict[str, Any]) -> None:
    response = refresh(http, tokens["refresh_token"], scope="read:me read:jira-work")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "read:me read:jira-work"
    introspected = http.post(
        "/oauth/introspect", data={"token": body["access_token"], "client_id": "twg-cli"}
    ).json()
    assert introspected["scope"] == "read:me read:jira-work"


def test_a_narrower_scope_without_offline_access_still_rotates_the_refresh_token(
    http: httpx.Client, tokens: dict[str, Any]
) -> None:
    answer = refresh(http, tokens["refresh_token"], scope="read:me")
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "read:me"
    follow_up = refresh(http, answer.json()["refresh_token"])
    assert follow_up.status_code == 200, follow_up.text
    assert "offline_access" in follow_up.json()["scope"].split()


def test_wider_scope_on_refresh_is_invalid_scope(
    http: httpx.Client, tokens: dict[str, Any]
) -> None:
    response = refresh(http, tokens["refresh_token"], scope="read:me delete:jira-work")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    # A refused request did not consume the token.
    assert refresh(http, tokens["refresh_token"]).status_code == 200


def test_thirty_days_of_inactivity_expires_the_refresh_token(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    idp.clock.advance(31 * DAY)
    response = refresh(http, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token expired after 30 days of inactivity.",
    }


def test_using_the_session_every_few_weeks_keeps_it_alive(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    token = tokens["refresh_token"]
    for _ in range(3):
        idp.clock.advance(29 * DAY)
        response = refresh(http, token)
        assert response.status_code == 200, response.text
        token = response.json()["refresh_token"]


def test_absolute_lifetime_ends_the_session_even_when_used(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    token = tokens["refresh_token"]
    for _ in range(13):  # 13 x 28 days = 364 days, always within the idle limit
        idp.clock.advance(28 * DAY)
        token = refresh(http, token).json()["refresh_token"]
    idp.clock.advance(2 * DAY)
    response = refresh(http, token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "maximum lifetime" in response.json()["error_description"]


def test_invalid_grant_status_403_setting(http: httpx.Client, tokens: dict[str, Any], idp) -> None:
    idp.settings.invalid_grant_status = 403
    idp.clock.advance(31 * DAY)
    response = refresh(http, tokens["refresh_token"])
    assert response.status_code == 403
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["error_description"].endswith("30 days of inactivity.")


def test_access_token_expires_after_eight_hours(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    assert active(http, tokens["access_token"])
    idp.clock.advance(8 * HOUR - 60)
    assert active(http, tokens["access_token"])
    idp.clock.advance(61)
    assert not active(http, tokens["access_token"])
    # The refresh token outlives it.
    assert refresh(http, tokens["refresh_token"]).status_code == 200


def test_access_token_lifetime_follows_the_setting(http: httpx.Client, idp) -> None:
    idp.settings.access_token_ttl = 120
    body = browser_login(http)
    assert body["expires_in"] == 120
    idp.clock.advance(121)
    assert not active(http, body["access_token"])


def test_unknown_refresh_token_is_invalid_grant_with_a_reason(http: httpx.Client) -> None:
    response = refresh(http, "no-such-token")
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Unknown or invalid refresh token.",
    }


def test_missing_refresh_token_is_invalid_request(http: httpx.Client) -> None:
    answer = http.post("/oauth/token", data={"grant_type": "refresh_token", "client_id": "twg-cli"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_a_revoked_session_explains_itself_on_refresh(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    family = idp.sessions.check_access(tokens["access_token"]).family
    idp.sessions.revoke_family(family, "org_admin")
    answer = refresh(http, tokens["refresh_token"])
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "Session revoked by an organization admin.",
    }


def test_concurrent_refreshes_of_one_token_cannot_both_succeed(
    http: httpx.Client, tokens: dict[str, Any], mock_server
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def one(_: int) -> int:
        with httpx.Client(base_url=mock_server.url, verify=trust_store()) as client:
            return refresh(client, tokens["refresh_token"]).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(one, range(8)))
    assert codes.count(200) == 1
    assert codes.count(400) == 7


def test_refresh_token_of_another_client_is_refused(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    from mock_idp.seed import apply_seed

    apply_seed(
        idp.store,
        {"clients": [{"client_id": "other-cli", "redirect_uris": ["http://127.0.0.1/callback"]}]},
        idp.clock.now(),
    )
    response = refresh(http, tokens["refresh_token"], client_id="other-cli")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert refresh(http, tokens["refresh_token"]).status_code == 200


def test_reuse_within_grace_does_not_restart_the_grace_window(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    idp.settings.refresh_reuse_grace = 600
    refresh(http, tokens["refresh_token"])
    idp.clock.advance(500)
    assert refresh(http, tokens["refresh_token"]).status_code == 200
    # 1,000 s after the first rotation: past the window, however recently it was reused.
    idp.clock.advance(500)
    reuse = refresh(http, tokens["refresh_token"])
    assert reuse.status_code == 400
    assert "reuse detected" in reuse.json()["error_description"]
