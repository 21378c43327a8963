"""Transient trouble at the token endpoint and lost answers never cost the session: the
CLI retries with the same refresh token, and only invalid_grant means a dead session.
Against the real mock, faults queued through its /_mock/faults API."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from mock_idp.secrets_util import fingerprint
from tests.cli import stored

# Every test starts logged in (the plugin's twg, the robot signing in as alice).
pytestmark = pytest.mark.usefixtures("logged_in")


def latest_issued_fp(mock) -> str:
    return str(mock.audit("token.rotated")[-1]["details"]["refresh_fp"])


@pytest.mark.parametrize(
    "spec",
    [
        {"status": 503},
        {"status": 500},
        {"status": 429},
        {"drop": True},
        {"drop": True, "after": True},  # rotated, then the connection was cut
        {"status": 503, "after": True},  # rotated, then a 503 instead of the answer
        {"status": 502, "after": True},
    ],
    ids=["503", "500", "429", "dropped", "lost-answer-dropped", "lost-answer-503", "lost-502"],
)
def test_one_fault_is_retried_with_the_same_token_and_the_session_lives(
    twg, mock_idp, config_dir, spec
):
    before = stored.tokens(config_dir)["refresh_token"]
    mock_idp.faults.add("/oauth/token", **spec)

    result = twg.run("auth", "refresh", "--force")

    assert result.code == 0, result.err
    assert "Refreshed" in result.err
    assert twg.sleeps == [0.5]  # one short backoff, then the same token again
    saved = stored.tokens(config_dir)["refresh_token"]
    assert saved != before
    assert fingerprint(saved) == latest_issued_fp(mock_idp)
    assert mock_idp.audit("family.revoked") == []
    me = twg.run("api", "/me")
    assert me.code == 0, me.err
    assert json.loads(me.out)["email"] == "alice@example.com"


def test_a_timeout_is_retried_and_the_session_lives(twg, mock_idp, config_dir):
    mock_idp.faults.add("/oauth/token", delay=1.5)

    result = twg.run("auth", "refresh", "--force", env={"TWG_HTTP_TIMEOUT": "0.3"})

    assert result.code == 0, result.err
    assert fingerprint(stored.tokens(config_dir)["refresh_token"]) == latest_issued_fp(mock_idp)


@pytest.mark.parametrize(
    "spec", [{"status": 503}, {"status": 429}, {"drop": True}], ids=["503", "429", "dropped"]
)
def test_a_server_down_for_the_whole_command_keeps_the_session_and_says_retry(
    twg, mock_idp, config_dir, spec
):
    before = stored.tokens(config_dir)
    mock_idp.faults.add("/oauth/token", count=3, **spec)

    result = twg.run("auth", "refresh", "--force", "--json")

    assert result.code == 69
    error = result.json()["error"]
    assert error["code"] == "UNAVAILABLE"
    assert f"The identity provider {mock_idp.url} is unavailable" in error["message"]
    assert "Your session is kept" in error["message"]
    assert "Try again in a moment" in error["message"]
    assert "twg login" not in error["message"]
    assert stored.tokens(config_dir) == before  # nothing spent, nothing lost
    assert twg.run("auth", "refresh", "--force").code == 0


def test_only_invalid_grant_means_a_dead_session(twg, mock_idp, config_dir):
    with httpx.Client(base_url=mock_idp.url) as http:
        revoked = http.post(
            "/oauth/revoke",
            data={"token": stored.tokens(config_dir)["refresh_token"], "client_id": "twg-cli"},
        )
        assert revoked.status_code == 200

    result = twg.run("auth", "refresh", "--force")

    assert result.code == 77
    assert "twg login" in result.err


class ProxyTransport(httpx.BaseTransport):
    """Forwards to the real mock; the first token answer is replaced by ``rewrite`` of it
    (what a broken proxy or server would send after the mock did the work)."""

    def __init__(self, rewrite: Callable[[httpx.Response], httpx.Response]) -> None:
        self.inner = httpx.HTTPTransport()
        self.rewrite: Callable[[httpx.Response], httpx.Response] | None = rewrite

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path == "/oauth/token" and self.rewrite is not None:
            response.read()
            rewrite, self.rewrite = self.rewrite, None
            return rewrite(response)
        return response

    def close(self) -> None:
        # Each twg HTTP client closes its transport: no socket outlives the command.
        self.inner.close()


def html_page(status: int) -> Callable[[httpx.Response], httpx.Response]:
    def rewrite(real: httpx.Response) -> httpx.Response:
        return httpx.Response(
            status, headers={"Content-Type": "text/html"}, text="<html>Sign in to proxy</html>"
        )

    return rewrite


@pytest.mark.parametrize("status", [200, 502], ids=["200-html", "502-html"])
def test_an_html_answer_after_the_rotation_is_retried(twg, mock_idp, config_dir, status):
    result = twg.run("auth", "refresh", "--force", transport=ProxyTransport(html_page(status)))

    assert result.code == 0, result.err
    assert fingerprint(stored.tokens(config_dir)["refresh_token"]) == latest_issued_fp(mock_idp)
    assert mock_idp.audit("family.revoked") == []


def test_retry_after_is_honoured(twg, config_dir):
    def too_many(real: httpx.Response) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "3"}, json={"error": "slow_down"})

    result = twg.run("auth", "refresh", "--force", transport=ProxyTransport(too_many))

    assert result.code == 0, result.err
    assert twg.sleeps == [3.0]


def with_expires_in(value: object) -> Callable[[httpx.Response], httpx.Response]:
    def rewrite(real: httpx.Response) -> httpx.Response:
        body = real.json()
        body["expires_in"] = value
        return httpx.Response(real.status_code, headers={"Date": real.headers["date"]}, json=body)

    return rewrite


@pytest.mark.parametrize(
    ("value", "expiry"),
    [
        ("soon", None),  # unknown: used until the API refuses it, then refreshed
        (1e30, 366 * 86400),  # clamped to a year
        (-60, 0),  # already expired: refreshed on next use
        ("NaN", None),
        (True, None),
        ({"seconds": 5}, None),
    ],
    ids=["soon", "1e30", "negative", "nan", "bool", "object"],
)
def test_a_hostile_expires_in_never_loses_the_rotated_tokens(
    twg, mock_idp, config_dir, value, expiry
):
    result = twg.run(
        "auth",
        "refresh",
        "--force",
        "--json",
        transport=ProxyTransport(with_expires_in(value)),
    )

    assert result.code == 0, result.err
    assert "internal error" not in result.err
    assert fingerprint(stored.tokens(config_dir)["refresh_token"]) == latest_issued_fp(mock_idp)
    conf = stored.conf(config_dir)
    if expiry is None:
        assert conf["access_expires_at"] is None
    else:
        assert conf["access_expires_at"] - conf["access_issued_at"] == expiry
    assert twg.run("api", "/me").code == 0


@pytest.mark.parametrize(("count", "code"), [(1, 0), (3, 69)], ids=["once", "whole-command"])
def test_an_api_call_that_needs_a_refresh_rides_out_a_503(twg, mock_idp, config_dir, count, code):
    mock_idp.clock.advance(9 * 3600)  # the access token expired: the call must refresh first
    mock_idp.faults.add("/oauth/token", status=503, count=count)

    result = twg.run("api", "/me")

    assert result.code == code, result.err
    assert mock_idp.audit("family.revoked") == []
    assert twg.run("api", "/me").code == 0


def with_body(body: dict[str, object]) -> Callable[[httpx.Response], httpx.Response]:
    def rewrite(real: httpx.Response) -> httpx.Response:
        return httpx.Response(200, json={**real.json(), **body})

    return rewrite


@pytest.mark.parametrize(
    "body",
    [{"refresh_token": 5}, {"access_token": ["x"]}, {"access_token": ""}],
    ids=["refresh-not-a-string", "access-not-a-string", "access-empty"],
)
def test_an_unusable_token_answer_is_retried_not_half_saved(twg, mock_idp, config_dir, body):
    result = twg.run("auth", "refresh", "--force", transport=ProxyTransport(with_body(body)))

    assert result.code == 0, result.err
    assert fingerprint(stored.tokens(config_dir)["refresh_token"]) == latest_issued_fp(mock_idp)
    assert mock_idp.audit("family.revoked") == []


def test_an_expires_in_too_big_for_a_float_is_no_crash(twg, mock_idp, config_dir):
    big = 10**400

    def rewrite(real: httpx.Response) -> httpx.Response:
        text = real.text.replace(
            f'"expires_in": {real.json()["expires_in"]}', f'"expires_in": {big}'
        )
        return httpx.Response(200, headers={"Content-Type": "application/json"}, text=text)

    result = twg.run("auth", "refresh", "--force", transport=ProxyTransport(rewrite))

    assert result.code == 0, result.err
    assert stored.conf(config_dir)["access_expires_at"] is None
