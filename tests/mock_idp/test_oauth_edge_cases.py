"""Corners of the protocol a careless client (or attacker) reaches: blank and repeated
scopes on refresh, prompt=none, media-type case, failed PKCE attempts, and HTML-free
error answers on the API endpoints."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from mock_idp.settings import Settings
from tests.mock_idp.oauth_flow import (
    Pkce,
    authorize,
    authorize_params,
    browser_login,
    query_of,
    redeem,
    refresh,
)


@pytest.fixture
def idp_settings() -> Settings:
    # Written for the strict variant: no reuse leeway, RFC 6749's 400 for invalid_grant
    # (the defaults follow Atlassian: docs/mock-defaults.md).
    return Settings(refresh_reuse_grace=0, invalid_grant_status=400)


@pytest.fixture
def tokens(http: httpx.Client) -> dict[str, Any]:
    return browser_login(http)


def scope_of(http: httpx.Client, access_token: str) -> str:
    answer = http.post("/oauth/introspect", data={"token": access_token, "client_id": "twg-cli"})
    return str(answer.json()["scope"])


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_a_blank_scope_on_refresh_means_the_original_scope(
    http: httpx.Client, tokens: dict[str, Any], blank: str
) -> None:
    response = refresh(http, tokens["refresh_token"], scope=blank)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == tokens["scope"]
    assert scope_of(http, body["access_token"]) == tokens["scope"]


def test_a_repeated_scope_on_refresh_is_one_scope(
    http: httpx.Client, tokens: dict[str, Any]
) -> None:
    response = refresh(http, tokens["refresh_token"], scope="read:me  read:me read:jira-work")
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "read:me read:jira-work"
    assert scope_of(http, response.json()["access_token"]) == "read:me read:jira-work"


def test_a_narrowed_refresh_does_not_narrow_the_session(
    http: httpx.Client, tokens: dict[str, Any]
) -> None:
    # RFC 6749 section 6: the new refresh token keeps the scope originally granted.
    narrowed = refresh(http, tokens["refresh_token"], scope="read:me").json()
    again = refresh(http, narrowed["refresh_token"]).json()
    assert again["scope"] == tokens["scope"]


def test_prompt_none_is_login_required_with_state_and_iss(http: httpx.Client, mock_server) -> None:
    params = authorize_params(Pkce.new(), prompt="none", state="silent")
    response = http.get("/authorize?" + urlencode(params))
    assert response.status_code == 302
    query = query_of(response.headers["location"])
    assert query["error"] == "login_required"
    assert query["state"] == "silent"
    assert query["iss"] == mock_server.url
    assert "code" not in query


def test_prompt_none_with_a_bad_redirect_uri_still_never_redirects(http: httpx.Client) -> None:
    params = authorize_params(Pkce.new(), prompt="none", redirect_uri="http://evil.example/cb")
    response = http.get("/authorize?" + urlencode(params))
    assert response.status_code == 400
    assert "location" not in response.headers


def test_prompt_consent_and_login_still_show_the_pages(http: httpx.Client) -> None:
    for prompt in ("consent", "login", "login consent"):
        params = authorize_params(Pkce.new(), prompt=prompt)
        response = http.get("/authorize?" + urlencode(params))
        assert response.status_code == 303, prompt


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect", "/oauth/device/code"])
def test_json_media_type_is_case_insensitive(http: httpx.Client, path: str) -> None:
    response = http.post(
        path,
        content=json.dumps({"token": "unknown", "client_id": "twg-cli"}),
        headers={"Content-Type": "Application/JSON; charset=UTF-8"},
    )
    assert response.status_code == 200, response.text


def test_failed_pkce_attempts_do_not_burn_the_code_for_its_owner(http: httpx.Client) -> None:
    pkce = Pkce.new()
    code = authorize(http, authorize_params(pkce))["code"]
    for verifier in ("", "short", Pkce.new().verifier):
        failed = redeem(http, code, pkce, code_verifier=verifier)
        assert failed.status_code == 400
        assert failed.json()["error"] in {"invalid_request", "invalid_grant"}
    assert redeem(http, code, pkce).status_code == 200


@pytest.mark.parametrize(
    "challenge", ["short", "!" * 43, "a" * 129, "ä" * 43], ids=["short", "bad", "long", "utf8"]
)
def test_malformed_code_challenges_go_back_as_invalid_request(
    http: httpx.Client, challenge: str
) -> None:
    params = authorize_params(Pkce.new(), code_challenge=challenge)
    response = http.get("/authorize?" + urlencode(params))
    assert response.status_code == 302
    assert query_of(response.headers["location"])["error"] == "invalid_request"


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect", "/oauth/device/code"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_methods_on_api_endpoints_are_json_405(
    http: httpx.Client, path: str, method: str
) -> None:
    response = http.request(method, path)
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_an_oversized_body_is_a_4xx_not_a_500(http: httpx.Client) -> None:
    response = http.post(
        "/oauth/token",
        content=b"grant_type=refresh_token&refresh_token=" + b"x" * 2_000_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


def test_token_endpoint_json_media_type_is_case_insensitive(
    http: httpx.Client, tokens: dict[str, Any]
) -> None:
    response = http.post(
        "/oauth/token",
        content=json.dumps(
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": "twg-cli",
            }
        ),
        headers={"Content-Type": "APPLICATION/JSON"},
    )
    assert response.status_code == 200, response.text


def test_a_client_without_the_device_grant_cannot_start_one(http: httpx.Client, idp) -> None:
    from mock_idp.seed import apply_seed

    apply_seed(
        idp.store,
        {
            "clients": [
                {
                    "client_id": "web-only",
                    "redirect_uris": ["http://127.0.0.1/callback"],
                    "grant_types": ["authorization_code", "refresh_token"],
                }
            ]
        },
        idp.clock.now(),
    )
    response = http.post("/oauth/device/code", data={"client_id": "web-only"})
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_device_codes_are_short_consonant_codes_and_unique(http: httpx.Client) -> None:
    codes = {
        http.post("/oauth/device/code", data={"client_id": "twg-cli"}).json()["user_code"]
        for _ in range(20)
    }
    assert len(codes) == 20
    for code in codes:
        assert len(code) == 9
        assert code[4] == "-"
        assert not set(code) & set("AEIOUY0123456789")
