"""The pages defend themselves in a real browser: no framing by another site, no consent
posted from another site, a sign-in usable only in the browser that started it, odd
characters answered with a 400 page, and expiry on the mock's clock with a working
"Start again"."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.browser.conftest import OtherSite
from tests.mock_idp.helpers import events
from tests.mock_idp.loopback import CallbackCatcher
from tests.mock_idp.oauth_flow import Pkce, authorize_params, redeem


def login_url(base: str, redirect_uri: str, pkce: Pkce | None = None, **extra: str) -> str:
    params = authorize_params(pkce or Pkce.new(), redirect_uri=redirect_uri, **extra)
    return f"{base}/authorize?{urlencode(params)}"


def to_consent(page: Any, url: str, email: str = "alice@example.com") -> str:
    """Signs in and picks the first site; returns the consent page's URL."""
    page.goto(url)
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/authorize/site?tx=*")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/authorize/consent?tx=*")
    return str(page.url)


def accept_and_get_callback(page: Any, callback: CallbackCatcher) -> dict[str, str]:
    page.get_by_role("button", name="Accept").click()
    page.wait_for_url(callback.redirect_uri + "?**")
    assert callback.answered.wait(10)
    [query] = [q for q in callback.received if q]
    return query


def test_another_site_cannot_frame_the_consent_page(
    page: Any, context: Any, mock_server, other_site: OtherSite, idp
) -> None:
    with CallbackCatcher() as callback:
        consent = to_consent(page, login_url(mock_server.url, callback.redirect_uri))
        attacker = context.new_page()
        with attacker.expect_event(
            "framenavigated", predicate=lambda frame: frame.parent_frame is not None
        ) as navigated:
            attacker.goto(other_site.serve(f'<!doctype html><iframe src="{consent}"></iframe>'))
        framed = navigated.value
        # Refused by frame-ancestors / X-Frame-Options: Chromium shows its error page in
        # the frame instead of the consent page, so there is no Accept to click.
        assert framed.url != consent
        assert framed.url.startswith("chrome-error://")
        assert callback.received == []
        # The real tab is untouched and still completes.
        assert "code" in accept_and_get_callback(page, callback)
    assert len(events(idp, "code.issued")) == 1


@pytest.mark.parametrize(
    "referrer_meta",
    ["", "<meta name=referrer content=no-referrer>"],
    ids=["with-origin", "origin-null"],
)
def test_a_consent_auto_submitted_from_another_site_is_refused(
    page: Any, context: Any, mock_server, other_site: OtherSite, idp, referrer_meta: str
) -> None:
    with CallbackCatcher() as callback:
        consent = to_consent(page, login_url(mock_server.url, callback.redirect_uri))
        tx = consent.split("tx=")[1]
        attacker = context.new_page()
        attacker.goto(
            other_site.serve(
                f"<!doctype html>{referrer_meta}"
                f'<form method=post action="{mock_server.url}/authorize/consent">'
                f'<input name=tx value="{tx}"><input name=decision value=accept></form>'
                "<script>document.forms[0].submit()</script>"
            )
        )
        attacker.wait_for_url(f"{mock_server.url}/authorize/consent")
        assert attacker.locator("h1").text_content() == "Request refused"
        assert attacker.get_by_role("alert").is_visible()
        assert callback.received == []
        assert events(idp, "code.issued") == []
        # The person's own consent still works afterwards.
        assert "code" in accept_and_get_callback(page, callback)


def test_a_sign_in_opened_in_another_browser_is_refused_and_restarts_there(
    page: Any, chromium: Any, mock_server, mock: httpx.Client
) -> None:
    pkce = Pkce.new()
    with CallbackCatcher() as callback:
        page.goto(login_url(mock_server.url, callback.redirect_uri, pkce, state="mine"))
        leaked = str(page.url)  # /authorize/login?tx=...
        other = chromium.new_context()
        try:
            stranger = other.new_page()
            answer = stranger.goto(leaked)
            assert answer is not None
            assert answer.status == 403
            assert stranger.locator("h1").text_content() == "Sign-in started elsewhere"
            stranger.get_by_role("link", name="Start again").click()
            stranger.wait_for_url("**/authorize/login?tx=*")
            assert str(stranger.url) != leaked
            to_consent(stranger, str(stranger.url))
            query = accept_and_get_callback(stranger, callback)
        finally:
            other.close()
    assert query["state"] == "mine"
    assert redeem(mock, query["code"], pkce, redirect_uri=callback.redirect_uri).status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "http://127.0.0.1:53682/callbäck"},
        {"redirect_uri": 'http://127.0.0.1:53682/call"back'},
        {"redirect_uri": "http://evil.example/callback"},
        {"response_type": 'co"de'},
        {"response_type": "co\\de"},
        {"response_type": "cödé"},
    ],
    ids=[
        "redirect-non-ascii",
        "redirect-quote",
        "redirect-unregistered",
        "rt-quote",
        "rt-backslash",
        "rt-non-ascii",
    ],
)
def test_odd_characters_get_a_400_page_never_a_500(
    page: Any, mock_server, overrides: dict[str, str]
) -> None:
    params = authorize_params(Pkce.new(), **overrides)
    if "redirect_uri" not in overrides:
        params["redirect_uri"] = "http://127.0.0.1:53682/callback\u00e9"
    answer = page.goto(f"{mock_server.url}/authorize?{urlencode(params)}")
    assert answer is not None
    assert answer.status == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert page.locator("h1").text_content() == "Authorization request rejected"
    assert page.get_by_role("alert").is_visible()


def test_a_sign_in_expires_on_the_mock_clock_and_start_again_works(
    page: Any, mock_server, mock: httpx.Client
) -> None:
    pkce = Pkce.new()
    with CallbackCatcher() as callback:
        page.goto(login_url(mock_server.url, callback.redirect_uri, pkce, state="later"))
        expired_tx = str(page.url)
        moved = mock.post("/_mock/clock/advance", json={"seconds": 601})
        assert moved.status_code == 200, moved.text
        page.get_by_label("Email").fill("alice@example.com")
        page.get_by_role("button", name="Continue").click()
        assert page.locator("h1").text_content() == "Sign-in expired"
        assert "Start again" in page.get_by_role("alert").text_content()
        page.get_by_role("link", name="Start again").click()
        page.wait_for_url("**/authorize/login?tx=*")
        assert str(page.url) != expired_tx
        to_consent(page, str(page.url))
        query = accept_and_get_callback(page, callback)
    assert query["state"] == "later"
    assert redeem(mock, query["code"], pkce, redirect_uri=callback.redirect_uri).status_code == 200


def test_a_reset_drops_sign_ins_in_progress(page: Any, mock_server, mock: httpx.Client) -> None:
    with CallbackCatcher() as callback:
        to_consent(page, login_url(mock_server.url, callback.redirect_uri))
        assert mock.post("/_mock/reset", json={}).status_code == 200
        page.get_by_role("button", name="Accept").click()
        assert page.locator("h1").text_content() == "Sign-in expired"
        assert "unknown or has expired" in page.get_by_role("alert").text_content()
        assert callback.received == []
