"""RFC 8414 authorization server metadata (also served as OpenID discovery)."""

from __future__ import annotations

from email.utils import formatdate

import httpx
import pytest

PATHS = ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]


@pytest.mark.parametrize("path", PATHS)
def test_metadata_names_every_endpoint_under_the_requests_issuer(mock_server, path: str) -> None:
    answer = httpx.get(mock_server.url + path)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    meta = answer.json()
    issuer = mock_server.url
    assert meta["issuer"] == issuer
    assert meta["authorization_endpoint"] == issuer + "/authorize"
    assert meta["token_endpoint"] == issuer + "/oauth/token"
    assert meta["revocation_endpoint"] == issuer + "/oauth/revoke"
    assert meta["introspection_endpoint"] == issuer + "/oauth/introspect"
    assert meta["device_authorization_endpoint"] == issuer + "/oauth/device/code"


def test_metadata_advertises_oauth_2_1_capabilities_only(mock_server) -> None:
    meta = httpx.get(mock_server.url + PATHS[0]).json()
    assert meta["response_types_supported"] == ["code"]
    assert meta["response_modes_supported"] == ["query"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
    }
    methods = ["none", "client_secret_basic", "client_secret_post"]
    assert meta["token_endpoint_auth_methods_supported"] == methods
    assert meta["revocation_endpoint_auth_methods_supported"] == methods
    assert meta["introspection_endpoint_auth_methods_supported"] == methods
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert {"offline_access", "read:me", "read:jira-work"} <= set(meta["scopes_supported"])


def test_metadata_issuer_follows_the_configured_issuer(idp, mock_server) -> None:
    idp.settings.issuer = "http://mock-idp:8080"
    meta = httpx.get(mock_server.url + PATHS[0]).json()
    assert meta["issuer"] == "http://mock-idp:8080"
    assert meta["token_endpoint"] == "http://mock-idp:8080/oauth/token"


def test_metadata_is_get_only(mock_server) -> None:
    answer = httpx.post(mock_server.url + PATHS[0])
    assert answer.status_code == 405
    assert answer.json()["error"] == "method_not_allowed"


def test_date_header_follows_the_mock_clock(idp, mock_server) -> None:
    idp.clock.advance(400 * 86400)
    answer = httpx.get(mock_server.url + PATHS[0])
    served = answer.headers["date"]
    expected = formatdate(idp.clock.now(), usegmt=True)
    assert served[:16] == expected[:16]  # same day (seconds may tick)
