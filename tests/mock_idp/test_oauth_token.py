"""The token endpoint's authorization_code grant (OAuth 2.1 section 4.1.3, RFC 7636) and
what every token response must look like, for public and confidential clients."""

from __future__ import annotations

import base64

import pytest
from starlette.testclient import TestClient

from mock_idp.seed import CLI_CLIENT_ID, apply_seed
from mock_idp.settings import Settings
from tests.mock_idp.helpers import events
from tests.mock_idp.oauth_flow import (
    REDIRECT_URI,
    Pkce,
    authorize,
    authorize_params,
    browser_login,
    redeem,
    refresh,
)


@pytest.fixture
def idp_settings() -> Settings:
    # Written for the strict variant: no reuse leeway, RFC 6749's 400 for invalid_grant
    # (the defaults follow Atlassian: docs/mock-defaults.md).
    return Settings(refresh_reuse_grace=0, invalid_grant_status=400)


SECRET_CLIENT_ID = "reporting-app"
SECRET = "s3cret-of-the-reporting-app"


@pytest.fixture
def confidential(idp) -> str:
    client = {
        "client_id": SECRET_CLIENT_ID,
        "name": "Reporting app",
        "redirect_uris": ["https://reports.example/cb"],
        "grant_types": ["authorization_code", "refresh_token"],
        "client_secret": SECRET,
    }
    apply_seed(idp.store, {"clients": [client]}, idp.clock.now())
    return SECRET_CLIENT_ID


def code_for(web: TestClient, pkce: Pkce, **overrides: str | None) -> str:
    return authorize(web, authorize_params(pkce, **overrides))["code"]


def test_code_grant_returns_bearer_tokens_with_ttl_scope_and_no_store(web, idp) -> None:
    pkce = Pkce.new()
    answer = redeem(web, code_for(web, pkce), pkce)
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == idp.settings.access_token_ttl == 8 * 3600
    assert body["scope"].split() == [
        "read:me",
        "read:jira-work",
        "write:jira-work",
        "offline_access",
    ]
    assert body["access_token"] != body["refresh_token"]
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-type"].startswith("application/json")
    assert idp.sessions.check_access(body["access_token"]) is not None


def test_no_refresh_token_without_offline_access(web) -> None:
    tokens = browser_login(web, scope="read:me read:jira-work")
    assert "refresh_token" not in tokens
    assert tokens["scope"] == "read:me read:jira-work"


def test_access_token_ttl_follows_the_setting(web, idp) -> None:
    idp.settings.access_token_ttl = 900
    assert browser_login(web)["expires_in"] == 900


def test_token_endpoint_accepts_a_json_body(web) -> None:
    pkce = Pkce.new()
    code = code_for(web, pkce)
    answer = web.post(
        "/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLI_CLIENT_ID,
            "code_verifier": pkce.verifier,
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["token_type"] == "Bearer"


def test_wrong_pkce_verifier_is_invalid_grant(web, idp) -> None:
    pkce = Pkce.new()
    code = code_for(web, pkce)
    answer = redeem(web, code, Pkce.new())
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert answer.headers["cache-control"] == "no-store"


def test_missing_pkce_verifier_is_refused(web) -> None:
    pkce = Pkce.new()
    code = code_for(web, pkce)
    answer = web.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLI_CLIENT_ID,
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"] in ("invalid_request", "invalid_grant")


def test_code_is_bound_to_its_redirect_uri(web) -> None:
    pkce = Pkce.new()
    code = code_for(web, pkce)
    answer = redeem(web, code, pkce, redirect_uri="http://127.0.0.1:9999/callback")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_code_is_bound_to_its_client(web, confidential) -> None:
    pkce = Pkce.new()
    code = code_for(web, pkce)
    answer = redeem(web, code, pkce, client_id=SECRET_CLIENT_ID, client_secret=SECRET)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_code_expires_after_auth_code_ttl_on_the_mock_clock(web, idp) -> None:
    pkce = Pkce.new()
    code = code_for(web, pkce)
    idp.clock.advance(idp.settings.auth_code_ttl + 1)
    answer = redeem(web, code, pkce)
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "Authorization code has expired.",
    }


def test_code_just_inside_its_lifetime_still_works(web, idp) -> None:
    pkce = Pkce.new()
    code = code_for(web, pkce)
    idp.clock.advance(idp.settings.auth_code_ttl - 1)
    assert redeem(web, code, pkce).status_code == 200


def test_replayed_code_fails_and_revokes_the_tokens_of_its_first_use(web, idp) -> None:
    pkce = Pkce.new()
    code = code_for(web, pkce)
    first = redeem(web, code, pkce).json()
    replay = redeem(web, code, pkce)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert "already used" in replay.json()["error_description"]
    assert [e["event"] for e in events(idp, "code.")] == [
        "code.issued",
        "code.redeemed",
        "code.replayed",
    ]
    assert code not in str(events(idp, ""))
    revoked = events(idp, "family.revoked")
    assert revoked[-1]["reason"] == "code_replay"
    # The refresh token and access token from the first redemption are dead.
    dead = refresh(web, first["refresh_token"])
    assert dead.status_code == 400
    assert dead.json()["error_description"] == (
        "Authorization code was used twice; the session was revoked."
    )
    assert idp.sessions.check_access(first["access_token"]) is None


def test_invalid_grant_status_follows_the_setting(web, idp) -> None:
    idp.settings.invalid_grant_status = 403
    pkce = Pkce.new()
    answer = redeem(web, "no-such-code", pkce)
    assert answer.status_code == 403
    assert answer.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("grant_type", ["password", "implicit", "client_credentials", "nope"])
def test_grants_outside_oauth_2_1_are_unsupported(web, grant_type: str) -> None:
    answer = web.post(
        "/oauth/token",
        data={
            "grant_type": grant_type,
            "client_id": CLI_CLIENT_ID,
            "username": "alice@example.com",
            "password": "x",
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_unknown_client_at_the_token_endpoint_is_invalid_client(web) -> None:
    answer = redeem(web, "whatever", Pkce.new(), client_id="nobody")
    # RFC 6749 section 5.2: 401 is required only when the Authorization header was used.
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("content", "ctype"),
    [
        (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"grant_type=a&grant_type=b", "application/x-www-form-urlencoded"),
        (b"", "application/x-www-form-urlencoded"),
        (b"<xml/>", "text/xml"),
    ],
)
def test_garbage_token_requests_get_rfc_shaped_4xx(web, content: bytes, ctype: str) -> None:
    answer = web.post("/oauth/token", content=content, headers={"content-type": ctype})
    assert 400 <= answer.status_code < 500
    body = answer.json()
    assert body["error"] in ("invalid_request", "unsupported_grant_type", "invalid_client")
    assert "Traceback" not in answer.text


def test_get_on_the_token_endpoint_is_405_json(web) -> None:
    answer = web.get("/oauth/token")
    assert answer.status_code == 405
    assert answer.json()["error"] == "method_not_allowed"


def _confidential_code(web: TestClient, pkce: Pkce) -> str:
    params = authorize_params(
        pkce, client_id=SECRET_CLIENT_ID, redirect_uri="https://reports.example/cb"
    )
    return authorize(web, params)["code"]


def test_confidential_client_with_basic_auth(web, confidential) -> None:
    pkce = Pkce.new()
    code = _confidential_code(web, pkce)
    basic = base64.b64encode(f"{SECRET_CLIENT_ID}:{SECRET}".encode()).decode()
    answer = web.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://reports.example/cb",
            "code_verifier": pkce.verifier,
        },
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200, answer.text
    assert "refresh_token" in answer.json()


def test_confidential_client_with_post_auth_and_refresh(web, confidential) -> None:
    pkce = Pkce.new()
    code = _confidential_code(web, pkce)
    answer = redeem(
        web,
        code,
        pkce,
        client_id=SECRET_CLIENT_ID,
        client_secret=SECRET,
        redirect_uri="https://reports.example/cb",
    )
    assert answer.status_code == 200, answer.text
    rotated = refresh(
        web, answer.json()["refresh_token"], client_id=SECRET_CLIENT_ID, client_secret=SECRET
    )
    assert rotated.status_code == 200, rotated.text


def test_confidential_client_with_a_wrong_secret_is_invalid_client(web, confidential) -> None:
    pkce = Pkce.new()
    code = _confidential_code(web, pkce)
    answer = redeem(
        web,
        code,
        pkce,
        client_id=SECRET_CLIENT_ID,
        client_secret="wrong",
        redirect_uri="https://reports.example/cb",
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_confidential_client_without_its_secret_is_invalid_client(web, confidential) -> None:
    pkce = Pkce.new()
    code = _confidential_code(web, pkce)
    answer = redeem(
        web, code, pkce, client_id=SECRET_CLIENT_ID, redirect_uri="https://reports.example/cb"
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_tokens_never_appear_in_the_audit_log(web, idp) -> None:
    tokens = browser_login(web)
    refreshed = refresh(web, tokens["refresh_token"]).json()
    log = str(events(idp, ""))
    for body in (tokens, refreshed):
        assert body["access_token"] not in log
        assert body["refresh_token"] not in log
