"""RFC 7591: a relying party registers itself, then logs a person in with its own http."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from mock_idp.browser import Robot
from tests.mock_idp.oauth_flow import Pkce, query_of


def test_metadata_advertises_the_registration_endpoint(http):
    doc = http.get("/.well-known/oauth-authorization-server").json()
    assert doc["registration_endpoint"] == doc["issuer"] + "/oauth/register"


def test_registered_confidential_client_completes_a_code_flow(http, mock_server):
    redirect_uri = "http://localhost:8099/cb"
    registered = http.post(
        "/oauth/register",
        json={
            "redirect_uris": [redirect_uri],
            "client_name": "certified RP",
            "scope": "openid email offline_access",
        },
    )
    assert registered.status_code == 201
    meta = registered.json()
    assert meta["token_endpoint_auth_method"] == "client_secret_basic"
    pkce = Pkce.new()
    query = {
        "response_type": "code",
        "client_id": meta["client_id"],
        "redirect_uri": redirect_uri,
        "scope": "openid offline_access",
        "state": "xyz",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }
    callback = Robot(client=http).final_redirect(f"{mock_server.url}/authorize?{urlencode(query)}")
    assert callback.startswith(redirect_uri + "?")
    code = query_of(callback)["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": pkce.verifier,
    }
    wrong = http.post("/oauth/token", data=form, auth=(meta["client_id"], "not-the-secret"))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    tokens = http.post("/oauth/token", data=form, auth=(meta["client_id"], meta["client_secret"]))
    assert tokens.status_code == 200, tokens.text
    assert {"access_token", "refresh_token", "id_token"} <= set(tokens.json())


def test_public_registration_gets_no_secret(http):
    meta = http.post(
        "/oauth/register",
        json={"redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none"},
    ).json()
    assert "client_secret" not in meta


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "invalid_redirect_uri"),
        ({"redirect_uris": ["/relative"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://rp.example/cb#frag"]}, "invalid_redirect_uri"),
        (
            {"redirect_uris": ["https://rp.example/cb"], "response_types": ["token"]},
            "invalid_client_metadata",
        ),
        (
            {"redirect_uris": ["https://rp.example/cb"], "grant_types": ["password"]},
            "invalid_client_metadata",
        ),
        (
            {"redirect_uris": ["https://rp.example/cb"], "token_endpoint_auth_method": "tls"},
            "invalid_client_metadata",
        ),
    ],
)
def test_bad_client_metadata_is_refused(http, body, error):
    answer = http.post("/oauth/register", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"] == error


def test_non_json_registration_is_a_clear_400(http):
    answer = http.post(
        "/oauth/register", content=b"nope", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_client_metadata"
