"""The refresh_token grant: rotation on every use, reuse detection across the family
(OAuth 2.1 section 4.3.1), the grace window, idle and absolute expiry, narrower scopes."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mock_idp.seed import CLI_CLIENT_ID
from mock_idp.settings import Settings
from tests.mock_idp.oauth_flow import browser_login, refresh


@pytest.fixture
def idp_settings() -> Settings:
    # Written for the strict variant: no reuse leeway, RFC 6749's 400 for invalid_grant
    # (the defaults follow Atlassian: docs/mock-defaults.md).
    return Settings(refresh_reuse_grace=0, invalid_grant_status=400)


DAY = 86400


@pytest.fixture
def tokens(web: TestClient) -> dict[str, str]:
    return browser_login(web)


def test_thirty_days_of_inactivity_kills_the_refresh_token(web, idp, tokens) -> None:
    idp.clock.advance(31 * DAY)
    answer = refresh(web, tokens["refresh_token"])
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token expired after 30 days of inactivity.",
    }


def test_using_the_token_within_30_days_keeps_the_session_alive(web, idp, tokens) -> None:
    current = tokens["refresh_token"]
    for _ in range(3):
        idp.clock.advance(29 * DAY)
        answer = refresh(web, current)
        assert answer.status_code == 200, answer.text
        current = answer.json()["refresh_token"]


def test_expired_refresh_uses_the_configured_invalid_grant_status(web, idp, tokens) -> None:
    idp.settings.invalid_grant_status = 403
    idp.clock.advance(31 * DAY)
    answer = refresh(web, tokens["refresh_token"])
    assert answer.status_code == 403
    assert answer.json()["error"] == "invalid_grant"


def test_access_token_expires_on_the_mock_clock(web, idp, tokens) -> None:
    idp.clock.advance(idp.settings.access_token_ttl + 1)
    assert idp.sessions.check_access(tokens["access_token"]) is None
    assert refresh(web, tokens["refresh_token"]).status_code == 200


def test_a_narrower_scope_on_refresh_is_granted(web, idp, tokens) -> None:
    answer = refresh(web, tokens["refresh_token"], scope="read:me read:jira-work offline_access")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["scope"] == "read:me read:jira-work offline_access"
    access = idp.sessions.check_access(body["access_token"])
    assert access is not None
    assert "write:jira-work" not in access.token.scope.split()


def test_a_narrower_scope_without_offline_access_still_rotates_the_refresh_token(
    web, tokens
) -> None:
    answer = refresh(web, tokens["refresh_token"], scope="read:me")
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "read:me"
    follow_up = refresh(web, answer.json()["refresh_token"])
    assert follow_up.status_code == 200, follow_up.text
    assert "offline_access" in follow_up.json()["scope"].split()


def test_a_wider_scope_on_refresh_is_invalid_scope(web, tokens) -> None:
    answer = refresh(web, tokens["refresh_token"], scope="read:me delete:jira-work")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"


def test_unknown_refresh_token_is_invalid_grant_with_a_reason(web) -> None:
    answer = refresh(web, "not-a-real-token")
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "Unknown or invalid refresh token.",
    }


def test_missing_refresh_token_is_invalid_request(web) -> None:
    answer = web.post(
        "/oauth/token", data={"grant_type": "refresh_token", "client_id": CLI_CLIENT_ID}
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_revoked_session_explains_itself_on_refresh(web, idp, tokens) -> None:
    family = idp.sessions.check_access(tokens["access_token"]).family
    idp.sessions.revoke_family(family, "org_admin")
    answer = refresh(web, tokens["refresh_token"])
    assert answer.json()["error_description"] == "Session revoked by an organization admin."


def test_concurrent_refreshes_of_one_token_cannot_both_succeed(mock_server, idp) -> None:
    import concurrent.futures

    import httpx

    with httpx.Client(base_url=mock_server.url, follow_redirects=False) as client:
        tokens = browser_login(client)

        def one(_: int) -> int:
            with httpx.Client(base_url=mock_server.url) as c:
                return refresh(c, tokens["refresh_token"]).status_code

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(one, range(8)))
    assert codes.count(200) == 1
    assert codes.count(400) == 7
