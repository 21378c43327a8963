"""The pages as a real identity provider defends them, over HTTP (the same checks run in
Chromium in tests/browser/): the sign-in bound to the browser by cookie and to the site by
Origin, expiry on the mock's clock with a working restart, reset dropping sign-ins,
consent re-checking site access, self-registered clients labelled, and odd input
answered with a 400 page."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from mock_idp.models import User
from mock_idp.pages.flows import COOKIE, INTERACTION_TTL
from mock_idp.seed import ACME_SITE_ID, GLOBEX_SITE_ID
from tests.mock_idp.helpers import events
from tests.mock_idp.oauth_flow import Pkce, authorize, authorize_params, tx_of

ALICE_ID = "712020:a11ce000-0000-4000-8000-000000000001"


def start(web: TestClient, **overrides: str) -> str:
    """Starts a browser login; returns its sign-in id."""
    answer = web.get("/authorize?" + urlencode(authorize_params(Pkce.new(), **overrides)))
    assert answer.status_code == 303, answer.text
    return tx_of(answer.headers["location"])


def to_consent(web: TestClient, email: str = "alice@example.com") -> str:
    tx = start(web)
    assert web.post("/authorize/login", data={"tx": tx, "email": email}).status_code == 303
    chosen = web.post("/authorize/site", data={"tx": tx, "site_id": ACME_SITE_ID})
    assert chosen.status_code == 303
    return tx


def test_the_sign_in_cookie_is_http_only_lax_and_site_wide(web: TestClient) -> None:
    answer = web.get("/authorize?" + urlencode(authorize_params(Pkce.new())))
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie


def test_a_sign_in_id_used_without_its_browser_cookie_is_refused(web: TestClient) -> None:
    tx = start(web)
    web.cookies.clear()
    answer = web.post("/authorize/login", data={"tx": tx, "email": "alice@example.com"})
    assert answer.status_code == 403
    assert "started in another browser" in answer.text
    assert "id=restart" in answer.text
    assert not events(web.app.state.idp, "signin.succeeded")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://localhost:8000"},
        {"Origin": "http://127.0.0.1.evil.example"},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
    ids=["other-host", "lookalike", "null-cross-site", "same-site"],
)
def test_a_consent_posted_from_another_site_is_refused(
    web: TestClient, idp, headers: dict[str, str]
) -> None:
    tx = to_consent(web)
    answer = web.post("/authorize/consent", data={"tx": tx, "decision": "accept"}, headers=headers)
    assert answer.status_code == 403
    assert "text/html" in answer.headers["content-type"]
    assert "sent from another site" in answer.text
    assert not events(idp, "code.issued")
    # Refusing the forgery does not spend the person's own sign-in.
    own = web.post(
        "/authorize/consent",
        data={"tx": tx, "decision": "accept"},
        headers={"Origin": str(web.base_url).rstrip("/"), "Sec-Fetch-Site": "same-origin"},
    )
    assert own.status_code == 302


def test_chromiums_null_origin_from_our_own_page_is_accepted(web: TestClient) -> None:
    # Under Referrer-Policy: no-referrer, Chromium sends Origin: null on same-origin posts.
    tx = start(web)
    answer = web.post(
        "/authorize/login",
        data={"tx": tx, "email": "alice@example.com"},
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    )
    assert answer.status_code == 303


def test_a_sign_in_expires_on_the_mock_clock_and_start_again_restarts_it(
    web: TestClient, idp
) -> None:
    params = authorize_params(Pkce.new(), state="keep")
    tx = tx_of(web.get("/authorize?" + urlencode(params)).headers["location"])
    idp.clock.advance(INTERACTION_TTL - 1)
    assert web.get(f"/authorize/login?tx={tx}").status_code == 200
    idp.clock.advance(2)
    expired = web.post("/authorize/login", data={"tx": tx, "email": "alice@example.com"})
    assert expired.status_code == 400
    assert "Sign-in expired" in expired.text
    assert "role=alert" in expired.text
    restart = f'href="/authorize?{urlencode(params).replace("&", "&amp;")}"'
    assert restart in expired.text
    again = web.get("/authorize?" + urlencode(params))
    assert again.status_code == 303
    assert tx_of(again.headers["location"]) != tx


def test_reset_drops_sign_ins_in_progress(web: TestClient, idp) -> None:
    tx = to_consent(web)
    assert web.post("/_mock/reset", json={}).status_code == 200
    answer = web.post("/authorize/consent", data={"tx": tx, "decision": "accept"})
    assert answer.status_code == 400
    assert "unknown or has expired" in answer.text
    assert not events(idp, "code.issued")


def test_reset_drops_a_sign_in_nobody_has_signed_in_to_yet(web: TestClient) -> None:
    tx = start(web)
    assert web.post("/_mock/reset", json={}).status_code == 200
    answer = web.post("/authorize/login", data={"tx": tx, "email": "alice@example.com"})
    assert answer.status_code == 400
    assert "unknown or has expired" in answer.text


def test_a_flood_of_anonymous_authorize_calls_keeps_a_sign_in_in_progress(
    web: TestClient, idp
) -> None:
    idp.interactions.max_per_kind = 5
    params = authorize_params(Pkce.new(), state="survivor")
    tx = tx_of(web.get("/authorize?" + urlencode(params)).headers["location"])
    with TestClient(web.app, base_url=str(web.base_url), follow_redirects=False) as flood:
        for _ in range(200):
            flood.cookies.clear()
            assert flood.get("/authorize?" + urlencode(params)).status_code == 303
    assert len(idp.interactions) == 0  # starting a sign-in stores nothing
    assert (
        web.post("/authorize/login", data={"tx": tx, "email": "alice@example.com"}).status_code
        == 303
    )
    assert web.post("/authorize/site", data={"tx": tx, "site_id": ACME_SITE_ID}).status_code == 303
    done = web.post("/authorize/consent", data={"tx": tx, "decision": "accept"})
    assert done.status_code == 302
    assert "state=survivor" in done.headers["location"]


def test_a_tampered_sign_in_id_is_unknown(web: TestClient) -> None:
    tx = start(web)
    payload, mac = tx.split(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + mac
    answer = web.post("/authorize/login", data={"tx": forged, "email": "alice@example.com"})
    assert answer.status_code == 400
    assert "unknown or has expired" in answer.text


def test_an_answered_sign_in_says_so_and_offers_a_restart(web: TestClient) -> None:
    tx = to_consent(web)
    assert web.post("/authorize/consent", data={"tx": tx, "decision": "deny"}).status_code == 302
    again = web.post("/authorize/consent", data={"tx": tx, "decision": "accept"})
    assert again.status_code == 400
    assert "already been answered" in again.text
    assert 'id=restart href="/authorize?' in again.text


def test_signing_in_again_as_someone_else_cannot_keep_the_first_accounts_site(
    web: TestClient, idp
) -> None:
    # alice picks acme; dave (globex only) signs in to the same sign-in and consents.
    tx = to_consent(web, "alice@example.com")
    web.post("/authorize/login", data={"tx": tx, "email": "dave@example.com"})
    answer = web.post("/authorize/consent", data={"tx": tx, "decision": "accept"})
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert "Sign-in incomplete" in answer.text
    assert not events(idp, "code.issued")
    # dave can still only choose his own site.
    refused = web.post("/authorize/site", data={"tx": tx, "site_id": ACME_SITE_ID})
    assert refused.status_code == 400
    assert (
        web.post("/authorize/site", data={"tx": tx, "site_id": GLOBEX_SITE_ID}).status_code == 303
    )


def test_consent_refuses_a_site_the_account_lost_since_choosing_it(web: TestClient, idp) -> None:
    tx = to_consent(web, "alice@example.com")
    alice = idp.store.get(User, ALICE_ID)
    # A new dict: the seeded record shares its dicts with the seed document.
    alice.site_access = {k: v for k, v in alice.site_access.items() if k != ACME_SITE_ID}
    idp.store.put(alice)
    answer = web.post("/authorize/consent", data={"tx": tx, "decision": "accept"})
    assert answer.status_code == 403
    assert "alice@example.com has no access to acme" in answer.text
    assert not events(idp, "code.issued")


def test_a_self_registered_client_is_labelled_unverified_on_the_consent_page(
    web: TestClient,
) -> None:
    registered = web.post(
        "/oauth/register",
        json={
            "redirect_uris": ["http://127.0.0.1/callback"],
            "token_endpoint_auth_method": "none",
            "client_name": "Example RP",
        },
    ).json()
    tx = start(web, client_id=registered["client_id"])
    web.post("/authorize/login", data={"tx": tx, "email": "alice@example.com"})
    web.post("/authorize/site", data={"tx": tx, "site_id": ACME_SITE_ID})
    page = web.get(f"/authorize/consent?tx={tx}").text
    assert "Unverified third-party app" in page
    first_party = web.get(f"/authorize/consent?tx={to_consent(web)}").text
    assert "Unverified third-party app" not in first_party


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "http://127.0.0.1:53682/callbäck"},
        {"redirect_uri": 'http://evil.example/"x\\'},
        {"response_type": 'co"de'},
        {"response_type": "co\\de"},
        {"response_type": "cödé"},
    ],
)
def test_odd_characters_in_the_authorize_request_give_a_400_page(
    web: TestClient, overrides: dict[str, str]
) -> None:
    answer = web.get("/authorize?" + urlencode(authorize_params(Pkce.new(), **overrides)))
    assert answer.status_code == 400
    assert "text/html" in answer.headers["content-type"]
    assert "role=alert" in answer.text
    assert "location" not in answer.headers


def test_pages_carry_the_security_headers(web: TestClient) -> None:
    for path in ("/", "/_mock/docs", "/device", "/authorize/login?tx=nope"):
        headers = web.get(path).headers
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "default-src 'none'" in csp


def test_the_docs_page_loads_nothing_from_outside(web: TestClient) -> None:
    page = web.get("/_mock/docs")
    assert page.status_code == 200
    assert "https://" not in page.text
    assert "/_mock/openapi.json" in page.text
    assert "connect-src 'self'" in page.headers["content-security-policy"]


def test_the_landing_page_is_html_with_the_world(web: TestClient) -> None:
    page = web.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    for text in ("/.well-known/oauth-authorization-server", "/_mock/docs", "mock-admin-key-acme"):
        assert text in page.text


def test_a_full_login_still_works_with_every_defence_on(web: TestClient) -> None:
    assert "code" in authorize(web, authorize_params(Pkce.new()))


def test_a_suspended_account_cannot_sign_in_on_the_page(web: TestClient, idp) -> None:
    bob = next(u for u in idp.store.all(User) if u.email == "bob@example.com")
    bob.suspended = True
    idp.store.put(bob)
    tx = start(web)

    answer = web.post("/authorize/login", data={"tx": tx, "email": "bob@example.com"})

    assert answer.status_code == 400
    assert "bob@example.com is suspended by an organization admin" in answer.text
    assert "role=alert" in answer.text
    assert events(idp, "signin.refused")[0]["reason"] == "suspended"
    assert not events(idp, "signin.succeeded")
