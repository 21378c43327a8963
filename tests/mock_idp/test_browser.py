"""``twg-mock-idp browser``: the robot person drives the real pages over HTTP and delivers
the final redirect to the client's loopback callback, as ``BROWSER=...`` requires."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from mock_idp.browser import Robot, RobotError
from mock_idp.cli import main
from mock_idp.seed import ACME_SANDBOX_SITE_ID, CLI_CLIENT_ID, DEVICE_GRANT
from tests.mock_idp.helpers import events
from tests.mock_idp.loopback import CallbackCatcher
from tests.mock_idp.oauth_flow import Pkce, authorize_params, redeem

SCRIPT = str(Path(sys.executable).with_name("twg-mock-idp"))


def authorize_url(base: str, redirect_uri: str, pkce: Pkce, **extra: str) -> str:
    params = authorize_params(pkce, redirect_uri=redirect_uri, state="robot-state", **extra)
    return f"{base}/authorize?{urlencode(params)}"


def test_robot_signs_in_consents_and_delivers_the_callback(mock_server, idp) -> None:
    pkce = Pkce.new()
    with CallbackCatcher() as callback:
        url = authorize_url(mock_server.url, callback.redirect_uri, pkce)
        with Robot(user="alice@example.com") as robot:
            summary = robot.run(url)
    assert "callback got code" in summary
    [query] = callback.received
    assert query["state"] == "robot-state"
    assert query["iss"] == mock_server.url
    with httpx.Client(base_url=mock_server.url) as client:
        tokens = redeem(client, query["code"], pkce, redirect_uri=callback.redirect_uri)
    assert tokens.status_code == 200, tokens.text
    assert (
        events(idp, "signin.succeeded")[-1]["account_id"]
        == idp.sessions.check_access(tokens.json()["access_token"]).family.account_id
    )


def test_console_script_works_as_the_browser_variable(mock_server) -> None:
    """Python's webbrowser runs $BROWSER with the URL and waits for it: the login contract."""
    pkce = Pkce.new()
    with CallbackCatcher() as callback:
        url = authorize_url(mock_server.url, callback.redirect_uri, pkce)
        env = {**os.environ, "BROWSER": f"{SCRIPT} browser --user bob@example.com %s"}
        done = subprocess.run(
            [sys.executable, "-c", "import sys, webbrowser; webbrowser.open(sys.argv[1])", url],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert len(callback.received) == 1
        assert "code" in callback.received[0]


def test_deny_delivers_access_denied_to_the_callback(mock_server, capsys) -> None:
    with CallbackCatcher() as callback:
        url = authorize_url(mock_server.url, callback.redirect_uri, Pkce.new())
        assert main(["browser", "--deny", url]) == 0
    [query] = callback.received
    assert query["error"] == "access_denied"
    assert query["state"] == "robot-state"
    assert "denied" in capsys.readouterr().err


def test_site_option_picks_the_named_site(mock_server, idp) -> None:
    pkce = Pkce.new()
    with CallbackCatcher() as callback:
        url = authorize_url(mock_server.url, callback.redirect_uri, pkce)
        with Robot(site="acme-sandbox") as robot:
            robot.run(url)
        code = callback.received[0]["code"]
    issued = events(idp, "code.issued")[-1]
    assert issued["site_id"] == ACME_SANDBOX_SITE_ID
    assert code not in str(issued)


def test_unknown_site_fails_with_a_message_naming_the_choices(mock_server, capsys) -> None:
    with CallbackCatcher() as callback:
        url = authorize_url(mock_server.url, callback.redirect_uri, Pkce.new())
        assert main(["browser", "--site", "nowhere", url]) == 1
        assert callback.received == []
    err = capsys.readouterr().err
    assert "no site matches 'nowhere'" in err
    assert "Acme" in err or "acme" in err


def test_unknown_user_fails_without_reaching_the_callback(mock_server, capsys) -> None:
    with CallbackCatcher() as callback:
        url = authorize_url(mock_server.url, callback.redirect_uri, Pkce.new())
        assert main(["browser", "--user", "mallory@example.com", url]) == 1
        assert callback.received == []
    assert "No account for mallory@example.com" in capsys.readouterr().err


def test_a_rejected_authorize_request_fails_clearly(mock_server, capsys) -> None:
    url = authorize_url(mock_server.url, "http://evil.example/callback", Pkce.new())
    assert main(["browser", url]) == 1
    assert "redirect" in capsys.readouterr().err.lower()


def test_robot_refuses_to_follow_a_redirect_off_loopback(mock_server, idp) -> None:
    from mock_idp.models import Client

    client = idp.store.get(Client, CLI_CLIENT_ID)
    client.redirect_uris = [*client.redirect_uris, "https://elsewhere.example/cb"]
    idp.store.put(client)
    url = authorize_url(mock_server.url, "https://elsewhere.example/cb", Pkce.new())
    with Robot() as robot, pytest.raises(RobotError, match=r"non-loopback host: elsewhere\."):
        robot.run(url)


def test_unreachable_mock_is_a_clean_failure(capsys) -> None:
    assert main(["browser", "http://127.0.0.1:9/authorize?x=1"]) == 1
    assert "twg-mock-idp browser:" in capsys.readouterr().err


def test_robot_approves_a_device_login(mock_server, idp) -> None:
    with httpx.Client(base_url=mock_server.url) as client:
        started = client.post(
            "/oauth/device/code", data={"client_id": CLI_CLIENT_ID, "scope": "read:me"}
        ).json()
        done = subprocess.run(
            [
                SCRIPT,
                "browser",
                "--user",
                "carol@example.com",
                started["verification_uri_complete"],
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "approved" in done.stderr
        idp.clock.advance(10)
        tokens = client.post(
            "/oauth/token",
            data={
                "grant_type": DEVICE_GRANT,
                "device_code": started["device_code"],
                "client_id": CLI_CLIENT_ID,
            },
        )
    assert tokens.status_code == 200, tokens.text
    assert idp.sessions.check_access(tokens.json()["access_token"]) is not None


def test_robot_needs_the_user_code_on_a_bare_device_url(mock_server, capsys) -> None:
    assert main(["browser", f"{mock_server.url}/device"]) == 1
    assert "verification_uri_complete" in capsys.readouterr().err


def test_browser_never_puts_secrets_in_its_arguments() -> None:
    # The contract is only the URL (which carries a PKCE challenge, not a secret).
    assert shlex.split(f"{SCRIPT} browser --user a@b.c URL")[-1] == "URL"
