"""Faults on the real token endpoint: what a refreshing client lives through."""

from __future__ import annotations

import httpx
import pytest

from mock_idp.settings import Settings
from tests.mock_idp.helpers import events
from tests.mock_idp.oauth_flow import browser_login, refresh


@pytest.fixture
def idp_settings() -> Settings:
    # Written for the strict variant: no reuse leeway, RFC 6749's 400 for invalid_grant
    # (the defaults follow Atlassian: docs/mock-defaults.md).
    return Settings(refresh_reuse_grace=0, invalid_grant_status=400)


def fault(http: httpx.Client, **spec: object) -> None:
    response = http.post("/_mock/faults", json=spec)
    assert response.status_code == 201, response.text


def test_a_503_before_the_grant_leaves_the_refresh_token_unspent(http):
    tokens = browser_login(http)
    fault(http, path="/oauth/token", method="POST", status=503)
    failed = refresh(http, tokens["refresh_token"])
    assert failed.status_code == 503
    assert failed.json()["error"] == "temporarily_unavailable"
    # The grant never ran, so retrying with the same token works and rotates it.
    retried = refresh(http, tokens["refresh_token"])
    assert retried.status_code == 200, retried.text
    assert retried.json()["refresh_token"] != tokens["refresh_token"]


def test_a_dropped_token_call_is_a_transport_error_and_spends_nothing(http, mock_server):
    tokens = browser_login(http)
    fault(http, path="/oauth/token", drop=True)
    # The contract is "no usable response": the kernel decides whether the client sees
    # the truncated answer and a close (RemoteProtocolError) or a reset (ReadError).
    with (
        httpx.Client(base_url=mock_server.url, timeout=5) as fresh,
        pytest.raises(httpx.TransportError),
    ):
        refresh(fresh, tokens["refresh_token"])
    assert http.get("/_mock/faults").json()["faults"] == []  # the drop fired
    # The grant never ran: the same refresh token still works, once.
    retried = refresh(http, tokens["refresh_token"])
    assert retried.status_code == 200
    assert retried.json()["refresh_token"] != tokens["refresh_token"]


def test_an_answer_lost_after_rotation_makes_the_retry_look_like_reuse(http, idp):
    tokens = browser_login(http)
    fault(http, path="/oauth/token", drop=True, after=True)
    with pytest.raises(httpx.TransportError):
        refresh(http, tokens["refresh_token"])
    # The server rotated the token, but the client never saw the successor: its retry
    # with the old token is reuse (RFC 9700 4.14.2) and revokes the session.
    retried = refresh(http, tokens["refresh_token"])
    assert retried.status_code == 400
    assert retried.json()["error"] == "invalid_grant"
    assert "reuse" in retried.json()["error_description"]
    assert events(idp, "token.rotated")
    assert events(idp, "fault.injected")[-1]["after"] is True


def test_the_reuse_grace_window_saves_a_client_whose_answer_was_lost(http):
    http.patch("/_mock/settings", json={"refresh_reuse_grace": 600})
    tokens = browser_login(http)
    fault(http, path="/oauth/token", status=502, after=True)
    lost = refresh(http, tokens["refresh_token"])
    assert lost.status_code == 502
    assert lost.json()["error"] == "server_error"
    retried = refresh(http, tokens["refresh_token"])
    assert retried.status_code == 200, retried.text


def test_after_needs_a_status_or_a_drop(http):
    response = http.post("/_mock/faults", json={"path": "/oauth/token", "delay": 1, "after": True})
    assert response.status_code == 400
    assert "after" in response.json()["error_description"]
