"""Client authentication on every client-facing endpoint (token, revocation, introspection,
device authorization): public clients send only client_id, confidential clients use Basic
or POST, and one method per request (RFC 6749 sections 2.3 and 5.2)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from mock_idp.seed import apply_seed
from tests.mock_idp.oauth_flow import Pkce, authorize, authorize_params
from twg.lazy_tls import trust_store

SECRET = "conf-secret-for-tests"
ENDPOINTS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect", "/oauth/device/code"]


@pytest.fixture
def http(mock_server, idp) -> Iterator[httpx.Client]:
    apply_seed(
        idp.store,
        {
            "clients": [
                {
                    "client_id": "conf",
                    "redirect_uris": ["http://127.0.0.1/callback"],
                    "client_secret": SECRET,
                }
            ]
        },
        idp.clock.now(),
    )
    with httpx.Client(
        base_url=mock_server.url, follow_redirects=False, timeout=10, verify=trust_store()
    ) as client:
        yield client


def basic(user: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(user).decode()}


def body_for(path: str, client_id: str = "twg-cli") -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "refresh_token": "unknown-token",
        "token": "unknown-token",
        "client_id": client_id,
        "scope": "read:me",
    }


@pytest.mark.parametrize("path", ENDPOINTS)
def test_failed_basic_credentials_are_not_retried_as_the_public_client(
    http: httpx.Client, path: str
) -> None:
    response = http.post(path, data=body_for(path), headers=basic(b"conf:wrong"))
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "header",
    ["Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "basic Og=="],
)
def test_malformed_basic_headers_are_invalid_client_not_a_500(
    http: httpx.Client, path: str, header: str
) -> None:
    response = http.post(path, data=body_for(path), headers={"Authorization": header})
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_public_client_cannot_authenticate_with_an_empty_basic_secret(
    http: httpx.Client, path: str
) -> None:
    response = http.post(path, data=body_for(path), headers=basic(b"twg-cli:"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect", "/oauth/device/code"])
def test_confidential_client_with_basic_auth_is_accepted(http: httpx.Client, path: str) -> None:
    data = {"token": "unknown-token", "scope": "read:me"}
    response = http.post(path, data=data, headers=basic(f"conf:{SECRET}".encode()))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect", "/oauth/device/code"])
def test_confidential_client_with_post_auth_is_accepted(http: httpx.Client, path: str) -> None:
    data = {"token": "unknown-token", "client_id": "conf", "client_secret": SECRET}
    response = http.post(path, data=data)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect", "/oauth/device/code"])
def test_confidential_client_without_its_secret_is_refused(http: httpx.Client, path: str) -> None:
    response = http.post(path, data={"token": "unknown-token", "client_id": "conf"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect", "/oauth/device/code"])
def test_public_client_sending_only_client_id_is_accepted(http: httpx.Client, path: str) -> None:
    response = http.post(path, data={"token": "unknown-token", "client_id": "twg-cli"})
    assert response.status_code == 200, response.text


def test_confidential_client_tokens_introspect_only_for_it(http: httpx.Client) -> None:
    pkce = Pkce.new()
    params = authorize_params(pkce, client_id="conf")
    code = authorize(http, params)["code"]
    tokens = http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": params["redirect_uri"],
            "code_verifier": pkce.verifier,
        },
        headers=basic(f"conf:{SECRET}".encode()),
    ).json()
    own = http.post(
        "/oauth/introspect",
        data={"token": tokens["access_token"]},
        headers=basic(f"conf:{SECRET}".encode()),
    ).json()
    assert own["active"] is True
    assert own["client_id"] == "conf"
    foreign = http.post(
        "/oauth/introspect", data={"token": tokens["access_token"], "client_id": "twg-cli"}
    ).json()
    assert foreign == {"active": False}
    # The public client cannot revoke it either: 200, but the token stays live.
    revoked = http.post(
        "/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": "twg-cli"}
    )
    assert revoked.status_code == 200
    still = http.post(
        "/oauth/introspect",
        data={"token": tokens["access_token"]},
        headers=basic(f"conf:{SECRET}".encode()),
    ).json()
    assert still["active"] is True
