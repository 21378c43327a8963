"""``twg-mock-idp browser`` approves device logins, as ``BROWSER=...`` for
``twg login --device``: given ``/device?user_code=...`` (or ``/device`` and
``--user-code``) it signs in, picks the site and accepts; when it cannot, it exits 1 with
one line saying why, and the device login stays pending."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

from mock_idp.seed import ACME_SITE_ID, CLI_CLIENT_ID, DEVICE_GRANT, apply_seed
from tests.mock_idp.helpers import events
from tests.mock_idp.loopback import MOCK_IDP, run_robot


@pytest.fixture
def device(http: httpx.Client) -> dict[str, Any]:
    answer = http.post("/oauth/device/code", data={"client_id": CLI_CLIENT_ID, "scope": "read:me"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def poll(http: httpx.Client, idp, device: dict[str, Any]) -> httpx.Response:
    idp.clock.advance(device["interval"] + 1)
    return http.post(
        "/oauth/token",
        data={
            "grant_type": DEVICE_GRANT,
            "device_code": device["device_code"],
            "client_id": CLI_CLIENT_ID,
        },
    )


def test_browser_variable_approves_the_verification_uri_complete(
    http: httpx.Client, idp, device: dict[str, Any]
) -> None:
    """What ``twg login --device`` does with BROWSER set: webbrowser runs the robot."""
    env = {**os.environ, "BROWSER": f"{MOCK_IDP} browser --user alice@example.com %s"}
    opener = "import sys, webbrowser; webbrowser.open(sys.argv[1])"
    done = subprocess.run(
        [sys.executable, "-c", opener, device["verification_uri_complete"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "device login approved as alice@example.com" in done.stderr
    tokens = poll(http, idp, device)
    assert tokens.status_code == 200, tokens.text
    access = idp.sessions.check_access(tokens.json()["access_token"])
    assert access.family.site_id == ACME_SITE_ID


def test_a_bare_device_url_with_user_code_option_is_approved(
    http: httpx.Client, idp, device: dict[str, Any]
) -> None:
    result = run_robot(
        "--user", "dave@example.com", "--user-code", device["user_code"], device["verification_uri"]
    )
    assert result.returncode == 0, result.stderr
    assert f"entered code {device['user_code']}" in result.stderr
    assert poll(http, idp, device).status_code == 200


def test_a_bare_device_url_without_a_code_says_how_to_give_one(
    http: httpx.Client, device: dict[str, Any]
) -> None:
    result = run_robot(device["verification_uri"])
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "--user-code" in line
    assert "verification_uri_complete" in line


def test_a_user_not_on_the_chosen_site_exits_1_and_leaves_the_login_pending(
    http: httpx.Client, idp, device: dict[str, Any]
) -> None:
    result = run_robot(
        "--user", "bob@example.com", "--site", "globex", device["verification_uri_complete"]
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "twg-mock-idp browser: no site matches 'globex': bob@example.com can use only "
        "acme https://acme.atlassian.net"
    ]
    assert poll(http, idp, device).json()["error"] == "authorization_pending"


def test_a_user_with_no_site_at_all_exits_1_with_the_pages_reason(
    http: httpx.Client, idp, device: dict[str, Any]
) -> None:
    apply_seed(
        idp.store,
        {"users": [{"account_id": "712020:eve", "email": "eve@example.com", "name": "Eve"}]},
        idp.clock.now(),
    )
    result = run_robot("--user", "eve@example.com", device["verification_uri_complete"])
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "twg-mock-idp browser: the mock refused at /authorize/site: "
        "eve@example.com has no access to any site."
    ]
    assert not events(idp, "device.approved")


def test_denying_a_device_login_polls_access_denied(
    http: httpx.Client, idp, device: dict[str, Any]
) -> None:
    result = run_robot("--deny", device["verification_uri_complete"])
    assert result.returncode == 0, result.stderr
    assert "device login denied" in result.stderr
    assert poll(http, idp, device).json()["error"] == "access_denied"


def test_an_expired_device_code_exits_1_with_the_pages_reason(idp, device: dict[str, Any]) -> None:
    idp.clock.advance(device["expires_in"] + 1)
    result = run_robot(device["verification_uri_complete"])
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "twg-mock-idp browser: the mock refused at /device: That code is unknown, used or expired."
    ]
