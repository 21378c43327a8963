"""``twg-mock-idp browser`` as the real console script: exit codes and messages, site
choice by id, name or URL, device approval and denial, and Python's ``webbrowser`` with
``BROWSER=... %s`` (the contract twg's login relies on)."""

from __future__ import annotations

import webbrowser
from urllib.parse import urlencode

import httpx
import pytest

from mock_idp.models import Client
from mock_idp.seed import (
    ACME_SANDBOX_SITE_ID,
    ACME_SITE_ID,
    CLI_CLIENT_ID,
    DEVICE_GRANT,
    apply_seed,
)
from tests.mock_idp.helpers import events
from tests.mock_idp.loopback import MOCK_IDP, CallbackCatcher, run_robot
from tests.mock_idp.oauth_flow import Pkce, authorize_params, redeem


def login_url(base: str, redirect_uri: str, pkce: Pkce, **extra: str) -> str:
    params = authorize_params(pkce, redirect_uri=redirect_uri, state="cli-state", **extra)
    return f"{base}/authorize?{urlencode(params)}"


def test_exit_0_after_the_callback_answered_and_the_code_redeems(mock_server) -> None:
    pkce = Pkce.new()
    with CallbackCatcher() as callback:
        result = run_robot(
            "--user", "carol@example.com", login_url(mock_server.url, callback.redirect_uri, pkce)
        )
        assert result.returncode == 0, result.stderr
        assert callback.answered.is_set()
    assert "signed in as carol@example.com" in result.stderr
    assert "callback got code, answered HTTP 200" in result.stderr
    [query] = callback.received
    assert query["state"] == "cli-state"
    assert query["iss"] == mock_server.url
    with httpx.Client(base_url=mock_server.url) as client:
        response = redeem(client, query["code"], pkce, redirect_uri=callback.redirect_uri)
    assert response.status_code == 200, response.text
    # The code never reaches the robot's output.
    assert query["code"] not in result.stderr + result.stdout


def test_unknown_user_exits_1_with_the_pages_message(mock_server) -> None:
    with CallbackCatcher() as callback:
        url = login_url(mock_server.url, callback.redirect_uri, Pkce.new())
        result = run_robot("--user", "nobody@example.com", url)
    assert result.returncode == 1
    assert "No account for nobody@example.com" in result.stderr
    assert "Traceback" not in result.stderr
    assert callback.received == []


def test_unknown_site_exits_1_naming_the_sites_offered(mock_server) -> None:
    with CallbackCatcher() as callback:
        url = login_url(mock_server.url, callback.redirect_uri, Pkce.new())
        result = run_robot("--site", "initech", url)
    assert result.returncode == 1
    assert "no site matches 'initech'" in result.stderr
    assert "acme-sandbox" in result.stderr
    assert callback.received == []


def test_non_loopback_redirect_is_refused_with_exit_1(mock_server, idp) -> None:
    client = idp.store.get(Client, CLI_CLIENT_ID)
    client.redirect_uris = [*client.redirect_uris, "https://app.example.com/cb"]
    idp.store.put(client)
    result = run_robot(login_url(mock_server.url, "https://app.example.com/cb", Pkce.new()))
    assert result.returncode == 1
    assert "refusing to follow a redirect to a non-loopback host: app.example.com" in result.stderr


def test_a_dead_callback_listener_is_exit_1(mock_server) -> None:
    with CallbackCatcher() as callback:
        redirect_uri = callback.redirect_uri
    result = run_robot(login_url(mock_server.url, redirect_uri, Pkce.new()), timeout=60)
    assert result.returncode == 1
    assert "twg-mock-idp browser:" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_url_is_a_usage_error() -> None:
    result = run_robot()
    assert result.returncode == 2
    assert "usage" in result.stderr.lower()


@pytest.mark.parametrize(
    ("site", "site_id"),
    [
        ("acme", ACME_SITE_ID),
        ("acme-sandbox", ACME_SANDBOX_SITE_ID),
        ("https://acme-sandbox.atlassian.net", ACME_SANDBOX_SITE_ID),
        (ACME_SANDBOX_SITE_ID, ACME_SANDBOX_SITE_ID),
        ("SANDBOX", ACME_SANDBOX_SITE_ID),
    ],
)
def test_site_is_chosen_by_id_name_or_url(mock_server, idp, site: str, site_id: str) -> None:
    with CallbackCatcher() as callback:
        url = login_url(mock_server.url, callback.redirect_uri, Pkce.new())
        result = run_robot("--site", site, url)
    assert result.returncode == 0, result.stderr
    assert events(idp, "code.issued")[-1]["site_id"] == site_id


def test_an_exact_site_name_wins_over_a_longer_one_listed_first(mock_server, idp) -> None:
    apply_seed(
        idp.store,
        {
            "users": [
                {
                    "account_id": "712020:erin",
                    "email": "erin@example.com",
                    "name": "Erin",
                    # The sandbox is listed first on Erin's site page.
                    "site_access": {ACME_SANDBOX_SITE_ID: ["read"], ACME_SITE_ID: ["read"]},
                }
            ]
        },
        idp.clock.now(),
    )
    with CallbackCatcher() as callback:
        url = login_url(mock_server.url, callback.redirect_uri, Pkce.new())
        result = run_robot("--user", "erin@example.com", "--site", "acme", url)
    assert result.returncode == 0, result.stderr
    assert events(idp, "code.issued")[-1]["site_id"] == ACME_SITE_ID


def test_an_ambiguous_site_fragment_is_refused(mock_server, idp) -> None:
    with CallbackCatcher() as callback:
        url = login_url(mock_server.url, callback.redirect_uri, Pkce.new())
        result = run_robot("--site", "atlassian.net", url)
    assert result.returncode == 1
    assert "matches more than one site" in result.stderr


def test_deny_on_a_device_login_polls_access_denied(mock_server, idp) -> None:
    with httpx.Client(base_url=mock_server.url) as client:
        device = client.post(
            "/oauth/device/code", data={"client_id": CLI_CLIENT_ID, "scope": "read:me"}
        ).json()
        result = run_robot("--deny", device["verification_uri_complete"])
        assert result.returncode == 0, result.stderr
        assert "device login denied" in result.stderr
        idp.clock.advance(device["interval"] + 1)
        polled = client.post(
            "/oauth/token",
            data={
                "grant_type": DEVICE_GRANT,
                "device_code": device["device_code"],
                "client_id": CLI_CLIENT_ID,
            },
        )
    assert polled.status_code == 400
    assert polled.json()["error"] == "access_denied"
    assert events(idp, "consent.denied")


def test_a_used_device_code_url_fails_on_second_use(mock_server, idp) -> None:
    with httpx.Client(base_url=mock_server.url) as client:
        device = client.post("/oauth/device/code", data={"client_id": CLI_CLIENT_ID}).json()
    assert run_robot(device["verification_uri_complete"]).returncode == 0
    again = run_robot(device["verification_uri_complete"])
    assert again.returncode == 1
    assert "unknown, used or expired" in again.stderr


@pytest.fixture
def fresh_webbrowser(monkeypatch: pytest.MonkeyPatch) -> None:
    # webbrowser reads BROWSER once and caches its choice: make it look again.
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})


def test_webbrowser_open_with_browser_variable_runs_the_robot_and_waits(
    mock_server, monkeypatch: pytest.MonkeyPatch, fresh_webbrowser: None
) -> None:
    monkeypatch.setenv("BROWSER", f"{MOCK_IDP} browser --user alice@example.com %s")
    pkce = Pkce.new()
    with CallbackCatcher() as callback:
        opened = webbrowser.open(login_url(mock_server.url, callback.redirect_uri, pkce))
        # webbrowser waited for the robot, which waited for the callback's answer.
        assert opened is True
        assert callback.answered.is_set()
    [query] = callback.received
    with httpx.Client(base_url=mock_server.url) as client:
        response = redeem(client, query["code"], pkce, redirect_uri=callback.redirect_uri)
    assert response.status_code == 200, response.text


def test_webbrowser_open_reports_a_failed_robot(
    mock_server, monkeypatch: pytest.MonkeyPatch, fresh_webbrowser: None
) -> None:
    monkeypatch.setenv("BROWSER", f"{MOCK_IDP} browser --user nobody@example.com %s")
    with CallbackCatcher() as callback:
        opened = webbrowser.open(login_url(mock_server.url, callback.redirect_uri, Pkce.new()))
        assert opened is False
        assert callback.received == []
