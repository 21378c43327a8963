"""Redirect URI validation at /authorize over a real socket: exact match with RFC 8252
section 7.3 port freedom on the registered loopback address, nothing else; a bad redirect
URI or unknown client never redirects (RFC 6749 section 4.1.2.1), repeated parameters are
refused (section 3.1), and other errors go back with error, state and iss (RFC 9207)."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from tests.mock_idp.helpers import events
from tests.mock_idp.oauth_flow import Pkce, authorize_params, query_of


def start(http: httpx.Client, **overrides: str | None) -> httpx.Response:
    return http.get("/authorize?" + urlencode(authorize_params(Pkce.new(), **overrides)))


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:1024/callback",
        "http://127.0.0.1:53682/callback",
        "http://127.0.0.1:65535/callback",
        "http://127.0.0.1/callback",
    ],
)
def test_any_port_on_the_registered_loopback_address_is_accepted(
    http: httpx.Client, redirect_uri: str
) -> None:
    response = start(http, redirect_uri=redirect_uri)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/authorize/login?tx=")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://localhost:53682/callback",  # localhost is not 127.0.0.1 (RFC 8252 8.3)
        "http://[::1]:53682/callback",
        "http://127.0.0.2:53682/callback",
        "http://127.000.000.001:53682/callback",
        "http://127.0.0.1.nip.io:53682/callback",
        "https://127.0.0.1:53682/callback",
        "http://127.0.0.1:53682/other",
        "http://127.0.0.1:53682/callback/",
        "http://127.0.0.1:53682/Callback",
        "http://127.0.0.1:53682/callback?next=evil",
        "http://127.0.0.1:53682/callback#frag",
        "http://user:pw@127.0.0.1:53682/callback",
        "http://127.0.0.1:99999/callback",
        "http://127.0.0.1:0/callback",
        "http://evil.example/callback",
        "http://127.0.0.1.evil.example/callback",
        "https://evil.example/?u=http://127.0.0.1/callback",
        "/callback",
        "not a url",
        "",
    ],
)
def test_other_redirect_uris_get_an_error_page_and_no_redirect(
    http: httpx.Client, idp, redirect_uri: str
) -> None:
    response = start(http, redirect_uri=redirect_uri)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "Authorization request rejected" in response.text
    assert events(idp, "authorize.rejected")[-1]["redirected"] is False


def test_missing_redirect_uri_is_refused_without_redirect(http: httpx.Client) -> None:
    response = start(http, redirect_uri=None)
    assert response.status_code == 400
    assert "location" not in response.headers


@pytest.mark.parametrize("client_id", ["nobody", "", "twg-cli "])
def test_unknown_client_gets_an_error_page_and_no_redirect(
    http: httpx.Client, client_id: str
) -> None:
    response = start(http, client_id=client_id)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "invalid_client" in response.text


@pytest.mark.parametrize(
    "repeated",
    [
        "redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback",
        "state=second",
        "code_challenge=" + Pkce.new().challenge,
        "scope=delete%3Ajira-work",
        "client_id=twg-cli",
    ],
    # Named by parameter: the challenge is random, and pytest-xdist workers must collect
    # the same test ids.
    ids=lambda repeated: repeated.partition("=")[0],
)
def test_repeated_parameters_are_refused_without_redirect(
    http: httpx.Client, repeated: str
) -> None:
    query = urlencode(authorize_params(Pkce.new())) + "&" + repeated
    response = http.get("/authorize?" + query)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "sent twice" in response.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code token"}, "unsupported_response_type"),
        ({"response_type": None}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    ],
)
def test_other_errors_redirect_back_with_error_state_and_iss(
    http: httpx.Client, mock_server, overrides: dict[str, str | None], error: str
) -> None:
    response = start(http, state="keep me & 100%", **overrides)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("http://127.0.0.1:53682/callback?")
    query = query_of(location)
    assert query["error"] == error
    assert query["state"] == "keep me & 100%"
    assert query["iss"] == mock_server.url
    assert "code" not in query


def test_error_redirect_without_state_has_no_state(http: httpx.Client) -> None:
    response = start(http, state=None, response_type="token")
    assert response.status_code == 302
    query = query_of(response.headers["location"])
    assert "state" not in query
    assert query["error"] == "unsupported_response_type"


def test_post_to_authorize_is_not_an_authorization_request(http: httpx.Client) -> None:
    response = http.post("/authorize", data=authorize_params(Pkce.new()))
    assert response.status_code == 405
    assert "location" not in response.headers
