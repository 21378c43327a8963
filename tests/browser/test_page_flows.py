"""Every page flow in Chromium, by mouse and by keyboard only: sign-in (typed or picked),
site choice, consent accept and deny, and the device verification page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from mock_idp.seed import ACME_SANDBOX_SITE_ID, CLI_CLIENT_ID, DEVICE_GRANT
from tests.browser.helpers import wait_for_focus
from tests.mock_idp.helpers import events
from tests.mock_idp.loopback import CallbackCatcher
from tests.mock_idp.oauth_flow import Pkce, authorize_params, redeem


def login_url(base: str, redirect_uri: str, pkce: Pkce, state: str = "br-state") -> str:
    params = authorize_params(pkce, redirect_uri=redirect_uri, state=state)
    return f"{base}/authorize?{urlencode(params)}"


def wait_for_callback(page: Any, callback: CallbackCatcher) -> dict[str, str]:
    """The one authorization response the callback received (Chromium also asks the
    callback server for /favicon.ico: that request has no query)."""
    page.wait_for_url(callback.redirect_uri + "?**")
    assert callback.answered.wait(10)
    [query] = [q for q in callback.received if q]
    return query


def test_typed_sign_in_site_choice_and_accept_deliver_a_code_that_redeems(
    page: Any, mock_server, mock: httpx.Client, idp
) -> None:
    pkce = Pkce.new()
    with CallbackCatcher() as callback:
        page.goto(login_url(mock_server.url, callback.redirect_uri, pkce))
        assert page.locator("h1").text_content() == "Sign in to Atlassian"
        page.get_by_label("Email").fill("alice@example.com")
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/authorize/site?tx=*")
        page.get_by_role("radio", name="acme-sandbox").check()
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/authorize/consent?tx=*")
        assert "alice@example.com" in page.locator("main").inner_text()
        page.get_by_role("button", name="Accept").click()
        query = wait_for_callback(page, callback)
    assert query["state"] == "br-state"
    assert query["iss"] == mock_server.url
    tokens = redeem(mock, query["code"], pkce, redirect_uri=callback.redirect_uri)
    assert tokens.status_code == 200, tokens.text
    assert events(idp, "code.issued")[-1]["site_id"] == ACME_SANDBOX_SITE_ID


def test_picking_a_test_user_and_denying_sends_access_denied(page: Any, mock_server, idp) -> None:
    with CallbackCatcher() as callback:
        page.goto(login_url(mock_server.url, callback.redirect_uri, Pkce.new()))
        page.get_by_role("button", name="Bob Example <bob@example.com>").click()
        page.wait_for_url("**/authorize/site?tx=*")
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Deny").click()
        query = wait_for_callback(page, callback)
    assert query["error"] == "access_denied"
    assert "code" not in query
    assert not events(idp, "code.issued")


def test_keyboard_only_login_reaches_the_callback(page: Any, mock_server) -> None:
    with CallbackCatcher() as callback:
        page.goto(login_url(mock_server.url, callback.redirect_uri, Pkce.new()))
        # The email field has the focus: type and press Enter.
        wait_for_focus(page, "#email")
        page.keyboard.type("carol@example.com")
        page.keyboard.press("Enter")
        page.wait_for_url("**/authorize/site?tx=*")
        # The first site has the focus: arrow to the second, Tab to Continue, Enter.
        wait_for_focus(page, "input[name=site_id]")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Continue"
        page.keyboard.press("Enter")
        page.wait_for_url("**/authorize/consent?tx=*")
        # Accept has the focus.
        wait_for_focus(page, "button[value=accept]")
        page.keyboard.press("Enter")
        assert "code" in wait_for_callback(page, callback)


def start_device(mock: httpx.Client) -> dict[str, Any]:
    answer = mock.post("/oauth/device/code", data={"client_id": CLI_CLIENT_ID, "scope": "read:me"})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def poll(mock: httpx.Client, device_code: str) -> httpx.Response:
    return mock.post(
        "/oauth/token",
        data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": CLI_CLIENT_ID},
    )


def test_device_code_typed_by_keyboard_then_approved_gives_tokens(
    page: Any, mock: httpx.Client, idp
) -> None:
    device = start_device(mock)
    page.goto(device["verification_uri"])
    # Typed as a person would: lower case, without the dash.
    wait_for_focus(page, "#user_code")
    page.keyboard.type(device["user_code"].replace("-", "").lower())
    page.keyboard.press("Enter")
    page.wait_for_url("**/authorize/login?tx=*")
    wait_for_focus(page, "#email")
    page.keyboard.type("dave@example.com")
    page.keyboard.press("Enter")
    page.wait_for_url("**/authorize/site?tx=*")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Accept").click()
    page.get_by_text("Done: return to your terminal.").wait_for()
    assert page.locator("h1").text_content() == "Device connected"
    idp.clock.advance(device["interval"] + 1)
    tokens = poll(mock, device["device_code"])
    assert tokens.status_code == 200, tokens.text


def test_device_denied_in_the_browser_polls_access_denied(
    page: Any, mock: httpx.Client, idp
) -> None:
    device = start_device(mock)
    page.goto(device["verification_uri_complete"])
    assert page.get_by_label("Code").input_value() == device["user_code"]
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Alice Example <alice@example.com>").click()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Deny").click()
    page.get_by_text("You denied access.").wait_for()
    idp.clock.advance(device["interval"] + 1)
    assert poll(mock, device["device_code"]).json()["error"] == "access_denied"


def test_a_wrong_device_code_is_announced_next_to_the_field(page: Any, mock_server) -> None:
    page.goto(f"{mock_server.url}/device")
    page.get_by_label("Code").fill("WXYZ-2345")
    page.get_by_role("button", name="Continue").click()
    alert = page.get_by_role("alert")
    assert alert.text_content() == "That code is unknown, used or expired."
    assert page.get_by_label("Code").get_attribute("aria-describedby") == "error"
    wait_for_focus(page, "#user_code[aria-describedby=error]")
