"""Every page is usable by anyone: a language, a phone-width layout, labelled fields, the
focus where the work starts and visible when moved, errors announced and tied to their
field; plus the landing page and the control API docs, which work with no network."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from mock_idp.seed import CLI_CLIENT_ID
from tests.browser.helpers import wait_for_focus
from tests.mock_idp.oauth_flow import Pkce, authorize_params

UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))
  .map(e => e.name || e.id)"""


def check_basics(page: Any, width: int = 375) -> None:
    assert page.evaluate("document.documentElement.lang") == "en"
    viewport = page.locator("meta[name=viewport]").get_attribute("content")
    assert "width=device-width" in viewport
    assert page.locator("h1").count() == 1
    assert page.evaluate(UNLABELLED) == []
    # Laid out for the phone, not at 980 px: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def pages_of_a_sign_in(page: Any, base: str) -> dict[str, str]:
    """Walks a sign-in, checking each page on the way; returns what was seen."""
    seen = {}
    page.goto(f"{base}/authorize?{urlencode(authorize_params(Pkce.new()))}")
    check_basics(page)
    wait_for_focus(page, "input")
    seen["sign-in focus"] = page.evaluate("document.activeElement.id")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_role("button", name="Continue").click()
    check_basics(page)
    alert = page.get_by_role("alert")
    seen["sign-in error"] = alert.text_content()
    seen["described by"] = page.get_by_label("Email").get_attribute("aria-describedby")
    seen["invalid"] = page.get_by_label("Email").get_attribute("aria-invalid")
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/authorize/site?tx=*")
    check_basics(page)
    wait_for_focus(page, "input")
    seen["site focus"] = page.evaluate("document.activeElement.value")
    seen["site group"] = page.get_by_role("group", name="Acme").get_attribute("name") or "Acme"
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/authorize/consent?tx=*")
    check_basics(page)
    wait_for_focus(page, "button")
    seen["consent focus"] = page.evaluate("document.activeElement.textContent")
    return seen


def test_sign_in_site_and_consent_pages_are_accessible(page: Any, mock_server) -> None:
    page.set_viewport_size({"width": 375, "height": 700})
    seen = pages_of_a_sign_in(page, mock_server.url)
    assert seen["sign-in focus"] == "email"
    assert seen["sign-in error"] == "No account for nobody@example.com."
    assert seen["described by"] == "error"
    assert seen["invalid"] == "true"
    assert seen["site focus"] == "1f4c7a52-0000-4000-8000-0000000000a1"  # acme, listed first
    assert seen["consent focus"] == "Accept"


def test_device_page_is_accessible(page: Any, mock_server) -> None:
    page.set_viewport_size({"width": 375, "height": 700})
    page.goto(f"{mock_server.url}/device")
    check_basics(page)
    wait_for_focus(page, "#user_code")


def test_the_focus_is_visible_when_moved_by_keyboard(page: Any, mock_server) -> None:
    page.goto(f"{mock_server.url}/authorize?{urlencode(authorize_params(Pkce.new()))}")
    wait_for_focus(page, "#email")
    page.keyboard.press("Tab")  # from the email field to Continue
    assert page.evaluate("document.activeElement.textContent") == "Continue"
    outline = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert outline == ["solid", "3px"]


@pytest.mark.parametrize(
    "path",
    ["/authorize/login?tx=nope", "/authorize?client_id=nobody", "/device?user_code=%22%3E"],
)
def test_error_pages_are_accessible_too(page: Any, mock_server, path: str) -> None:
    page.set_viewport_size({"width": 375, "height": 700})
    page.goto(mock_server.url + path)
    check_basics(page)


def test_the_landing_page_says_what_this_is_and_shows_the_seeded_world(
    page: Any, mock_server
) -> None:
    answer = page.goto(mock_server.url + "/")
    assert answer is not None
    assert answer.status == 200
    check_basics(page, width=2000)
    text = page.locator("main").inner_text()
    assert "twg mock Atlassian identity provider" in text
    for secret in (
        "mock-admin-key-acme",
        "mock-admin-key-globex",
        "mock-bitbucket-token-alice",
        "mock-bitbucket-token-bob",
    ):
        assert secret in text
    users = page.get_by_role("table", name="Users (sign in with any of these)")
    bob = users.get_by_role("row").filter(has_text="bob@example.com")
    assert "acme: read" in bob.inner_text()
    dave = users.get_by_role("row").filter(has_text="dave@example.com")
    assert "globex: read, write, delete" in dave.inner_text()
    assert "Globex" in dave.inner_text()  # admin of
    assert CLI_CLIENT_ID in text
    page.get_by_role("link", name="Authorization server metadata").click()
    assert page.url.endswith("/.well-known/oauth-authorization-server")


def test_the_control_api_docs_render_with_no_network(page: Any, context: Any, mock_server) -> None:
    outside: list[str] = []

    def only_loopback(route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page.goto(mock_server.url + "/_mock/docs")
    page.get_by_role("heading", name="POST /_mock/clock/advance").wait_for()
    assert page.get_by_role("heading", name="POST /_mock/reset").is_visible()
    assert "operations" in page.get_by_role("status").text_content()
    assert outside == []
    check_basics(page, width=2000)


def test_every_page_answer_carries_the_security_headers(mock_server) -> None:
    with httpx.Client(base_url=mock_server.url) as client:
        for path in ("/", "/_mock/docs", "/device", "/authorize", "/authorize/login?tx=x"):
            headers = client.get(path).headers
            assert headers["x-frame-options"] == "DENY", path
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["referrer-policy"] == "no-referrer", path
            assert "frame-ancestors 'none'" in headers["content-security-policy"], path
