"""``twg-mock-idp browser``: the robot person drives the real pages over HTTP and delivers
the final redirect to the client's loopback callback, as ``BROWSER=... %s`` requires.

The command runs in-process (``mock_idp.cli.main``: its parsing, exit codes and messages);
the console script itself runs through Python's ``webbrowser``, the contract twg's login
relies on."""

from __future__ import annotations

import webbrowser
from urllib.parse import urlencode

import httpx
import pytest

from mock_idp.cli import main
from mock_idp.models import Client
from mock_idp.seed import (
    ACME_SANDBOX_SITE_ID,
    ACME_SITE_ID,
    CLI_CLIENT_ID,
    DEVICE_GRANT,
    apply_seed,
)
from tests.mock_idp.helpers import events
from tests.mock_idp.loopback import MOCK_IDP, CallbackCatcher
from tests.mock_idp.oauth_flow import Pkce, authorize_params, redeem


def login_url(base: str, redirect_uri: str, pkce: Pkce, **extra: str) -> str:
    params = authorize_params(pkce, redirect_uri=redirect_uri, state="cli-state", **extra)
    return f"{base}/authorize?{urlencode(params)}"


@pytest.fixture
def robot(capsys: pytest.CaptureFixture[str]):
    """``twg-mock-idp browser ARGS``: its exit code and what it printed."""

    def run(*args: str) -> tuple[int, str]:
        code = main(["browser", *args])
        captured = capsys.readouterr()
        return code, captured.err + captured.out

    return run


def test_exit_0_after_the_callback_answered_and_the_code_redeems(mock_server, idp, robot) -> None:
    pkce = Pkce.new()
    with CallbackCatcher() as callback:
        code, out = robot(
            "--user", "carol@example.com", login_url(mock_server.url, callback.redirect_uri, pkce)
        )
        assert code == 0, out
        assert callback.answered.is_set()
    assert "signed in as carol@example.com" in out
    assert "callback got code, answered HTTP 200" in out
    [query] = callback.received
    assert query["state"] == "cli-state"
    assert query["iss"] == mock_server.url
    with httpx.Client(base_url=mock_server.url) as client:
        response = redeem(client, query["code"], pkce, redirect_uri=callback.redirect_uri)
    assert response.status_code == 200, response.text
    signed_in = events(idp, "signin.succeeded")[-1]["account_id"]
    assert signed_in == idp.sessions.check_access(response.json()["access_token"]).family.account_id
    # The code never reaches the robot's output.
    assert query["code"] not in out


def test_deny_delivers_access_denied_to_the_callback(mock_server, robot) -> None:
    with CallbackCatcher() as callback:
        url = login_url(mock_server.url, callback.redirect_uri, Pkce.new())
        code, out = robot("--deny", url)
    assert code == 0, out
    [query] = callback.received
    assert query["error"] == "access_denied"
    assert query["state"] == "cli-state"
    assert "denied" in out


def test_unknown_user_exits_1_with_the_pages_message(mock_server, robot) -> None:
    with CallbackCatcher() as callback:
        url = login_url(mock_server.url, callback.redirect_uri, Pkce.new())
        code, out = robot("--user", "nobody@example.com", url)
    assert code == 1
    assert "No account for nobody@example.com" in out
    assert "Traceback" not in out
    assert callback.received == []


def test_unknown_site_exits_1_naming_the_sites_offered(mock_server, robot) -> None:
    with CallbackCatcher() as callback:
        url = login_url(mock_server.url, callback.redirect_uri, Pkce.new())
        code, out = robot("--site", "initech", url)
    assert code == 1
    assert "no site matches 'initech'" in out
    assert "acme-sandbox" in out
    assert callback.received == []


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
def test_site_is_chosen_by_id_name_or_url(mock_server, idp, robot, site: str, site_id: str) -> None:
    with CallbackCatcher() as callback:
        url = login_url(mock_server.url, callback.redirect_uri, Pkce.new())
        code, out = robot("--site", site, url)
        received = callback.received[0]["code"]
    assert code == 0, out
    issued = events(idp, "code.issued")[-1]
    assert issued["site_id"] == site_id
    assert received not in str(issued)


def test_an_exact_site_name_wins_over_a_longer_one_listed_first(mock_server, idp, robot) -> None:
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
        code, out = robot("--user", "erin@example.com", "--site", "acme", url)
    assert code == 0, out
    assert events(idp, "code.issued")[-1]["site_id"] == ACME_SITE_ID


def test_an_ambiguous_site_fragment_is_refused(mock_server, robot) -> None:
    with CallbackCatcher() as callback:
        url = login_url(mock_server.url, callback.redirect_uri, Pkce.new())
        code, out = robot("--site", "atlassian.net", url)
    assert code == 1
    assert "matches more than one site" in out
    assert callback.received == []


def test_a_rejected_authorize_request_fails_clearly(mock_server, robot) -> None:
    code, out = robot(login_url(mock_server.url, "http://evil.example/callback", Pkce.new()))
    assert code == 1
    assert "redirect" in out.lower()


def test_non_loopback_redirect_is_refused_with_exit_1(mock_server, idp, robot) -> None:
    client = idp.store.get(Client, CLI_CLIENT_ID)
    client.redirect_uris = [*client.redirect_uris, "https://app.example.com/cb"]
    idp.store.put(client)
    code, out = robot(login_url(mock_server.url, "https://app.example.com/cb", Pkce.new()))
    assert code == 1
    assert "refusing to follow a redirect to a non-loopback host: app.example.com" in out


def test_a_dead_callback_listener_is_exit_1(mock_server, robot) -> None:
    with CallbackCatcher() as callback:
        redirect_uri = callback.redirect_uri
    code, out = robot(login_url(mock_server.url, redirect_uri, Pkce.new()))
    assert code == 1
    assert "twg-mock-idp browser:" in out
    assert "Traceback" not in out


def test_an_unreachable_mock_is_a_clean_failure(robot) -> None:
    code, out = robot("http://127.0.0.1:9/authorize?x=1")
    assert code == 1
    assert "twg-mock-idp browser:" in out
    assert "Traceback" not in out


def test_missing_url_is_a_usage_error(robot) -> None:
    with pytest.raises(SystemExit) as exit_info:
        robot()
    assert exit_info.value.code == 2


# device logins ---------------------------------------------------------------------------


def start_device(mock_server) -> dict[str, str]:
    with httpx.Client(base_url=mock_server.url) as client:
        answer = client.post(
            "/oauth/device/code", data={"client_id": CLI_CLIENT_ID, "scope": "read:me"}
        )
    return answer.json()  # type: ignore[no-any-return]


def poll(mock_server, device: dict[str, str]) -> httpx.Response:
    with httpx.Client(base_url=mock_server.url) as client:
        return client.post(
            "/oauth/token",
            data={
                "grant_type": DEVICE_GRANT,
                "device_code": device["device_code"],
                "client_id": CLI_CLIENT_ID,
            },
        )


def test_robot_approves_a_device_login(mock_server, idp, robot) -> None:
    device = start_device(mock_server)
    code, out = robot("--user", "carol@example.com", device["verification_uri_complete"])
    assert code == 0, out
    assert "device login approved as carol@example.com" in out
    idp.clock.advance(10)
    tokens = poll(mock_server, device)
    assert tokens.status_code == 200, tokens.text
    family = idp.sessions.check_access(tokens.json()["access_token"]).family
    assert family.account_id == events(idp, "signin.succeeded")[-1]["account_id"]


def test_deny_on_a_device_login_polls_access_denied(mock_server, idp, robot) -> None:
    device = start_device(mock_server)
    code, out = robot("--deny", device["verification_uri_complete"])
    assert code == 0, out
    assert "device login denied" in out
    idp.clock.advance(int(device["interval"]) + 1)
    polled = poll(mock_server, device)
    assert polled.status_code == 400
    assert polled.json()["error"] == "access_denied"
    assert len(events(idp, "consent.denied")) == 1


def test_a_used_device_code_url_fails_on_second_use(mock_server, robot) -> None:
    device = start_device(mock_server)
    assert robot(device["verification_uri_complete"])[0] == 0
    code, out = robot(device["verification_uri_complete"])
    assert code == 1
    assert "unknown, used or expired" in out


def test_robot_needs_the_user_code_on_a_bare_device_url(mock_server, robot) -> None:
    code, out = robot(f"{mock_server.url}/device")
    assert code == 1
    assert "verification_uri_complete" in out


# the console script through webbrowser ---------------------------------------------------


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
