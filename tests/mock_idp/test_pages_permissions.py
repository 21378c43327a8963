"""What a consent can grant, seen in the tokens actually issued over a real socket:
requested ∩ client ∩ the org's CLI setting ∩ the account's own access on the chosen site,
for browser and device logins alike; and pages that escape whatever the seed holds."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from mock_idp.models import Org
from mock_idp.seed import ACME_ORG_ID, ACME_SANDBOX_SITE_ID, ACME_SITE_ID, DEVICE_GRANT, apply_seed
from tests.mock_idp.helpers import events
from tests.mock_idp.oauth_flow import (
    Pkce,
    authorize,
    authorize_params,
    query_of,
    redeem,
    refresh,
    sign_in_and_consent,
)

BOB = "bob@example.com"
EVERYTHING = "read:me read:jira-work write:jira-work delete:jira-work offline_access"


def browser_tokens(http: httpx.Client, email: str, scope: str = EVERYTHING, **kw: Any) -> dict:
    pkce = Pkce.new()
    code = authorize(http, authorize_params(pkce, scope=scope), email=email, **kw)["code"]
    response = redeem(http, code, pkce)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def device_tokens(http: httpx.Client, idp, email: str, scope: str = EVERYTHING) -> dict:
    started = http.post("/oauth/device/code", data={"client_id": "twg-cli", "scope": scope})
    device = started.json()
    entered = http.post("/device", data={"user_code": device["user_code"]})
    assert entered.status_code == 303, entered.text
    done = sign_in_and_consent(http, entered.headers["location"], email=email)
    assert done.status_code == 200, done.text
    idp.clock.advance(device["interval"] + 1)
    polled = http.post(
        "/oauth/token",
        data={
            "grant_type": DEVICE_GRANT,
            "device_code": device["device_code"],
            "client_id": "twg-cli",
        },
    )
    assert polled.status_code == 200, polled.text
    body: dict[str, Any] = polled.json()
    return body


def restrict_acme_cli(idp, categories: list[str]) -> None:
    org = idp.store.get(Org, ACME_ORG_ID)
    org.cli_allow_all = False
    org.cli_categories = categories
    idp.store.put(org)


def test_alice_gets_everything_she_asked_for(http: httpx.Client) -> None:
    assert set(browser_tokens(http, "alice@example.com")["scope"].split()) == set(
        EVERYTHING.split()
    )


def test_read_only_bob_never_gets_write_or_delete_scopes(http: httpx.Client) -> None:
    scopes = browser_tokens(http, BOB)["scope"].split()
    assert "read:jira-work" in scopes
    assert "offline_access" in scopes
    assert "write:jira-work" not in scopes
    assert "delete:jira-work" not in scopes


def test_read_only_bob_cannot_widen_on_refresh(http: httpx.Client) -> None:
    tokens = browser_tokens(http, BOB)
    response = refresh(http, tokens["refresh_token"], scope="read:jira-work write:jira-work")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_read_only_bob_never_gets_write_through_the_device_flow(http: httpx.Client, idp) -> None:
    scopes = device_tokens(http, idp, BOB)["scope"].split()
    assert "read:jira-work" in scopes
    assert "write:jira-work" not in scopes
    assert "delete:jira-work" not in scopes


def test_org_cli_setting_without_write_drops_write_scopes_at_consent(
    http: httpx.Client, idp
) -> None:
    restrict_acme_cli(idp, ["read", "delete"])
    pkce = Pkce.new()
    started = http.get("/authorize?" + urlencode(authorize_params(pkce, scope=EVERYTHING)))
    location = started.headers["location"]
    tx = location.split("tx=")[1]
    http.post("/authorize/login", data={"tx": tx, "email": "alice@example.com"})
    http.post("/authorize/site", data={"tx": tx, "site_id": ACME_SITE_ID})
    page = http.get(f"/authorize/consent?tx={tx}").text
    granted = page.split("<ul id=scopes>")[1].split("</ul>")[0]
    assert "write:jira-work" not in granted
    assert "delete:jira-work" in granted
    assert "Not granted" in page
    tokens = browser_tokens(http, "alice@example.com")
    scopes = tokens["scope"].split()
    assert "write:jira-work" not in scopes
    assert "delete:jira-work" in scopes


def test_org_cli_setting_applies_to_device_logins_too(http: httpx.Client, idp) -> None:
    restrict_acme_cli(idp, ["read"])
    scopes = device_tokens(http, idp, "alice@example.com")["scope"].split()
    assert "write:jira-work" not in scopes
    assert "delete:jira-work" not in scopes
    assert "read:jira-work" in scopes


def test_the_chosen_site_is_the_one_the_session_is_for(http: httpx.Client, idp) -> None:
    tokens = browser_tokens(http, "alice@example.com", site_id=ACME_SANDBOX_SITE_ID)
    access = idp.sessions.check_access(tokens["access_token"])
    assert access is not None
    assert access.family.site_id == ACME_SANDBOX_SITE_ID


def test_the_pages_escape_names_from_the_seed(http: httpx.Client, idp) -> None:
    evil = '<script>alert("x")</script>'
    apply_seed(
        idp.store,
        {
            "users": [
                {
                    "account_id": "712020:evil",
                    "email": "mallory@example.com",
                    "name": evil,
                    "site_access": {ACME_SITE_ID: ["read"]},
                }
            ],
            "clients": [
                {
                    "client_id": "evil-client",
                    "name": evil,
                    "redirect_uris": ["http://127.0.0.1/callback"],
                }
            ],
        },
        idp.clock.now(),
    )
    params = authorize_params(Pkce.new(), client_id="evil-client")
    location = http.get("/authorize?" + urlencode(params)).headers["location"]
    page = http.get(location)
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text
    typed = http.post(
        "/authorize/login", data={"tx": location.split("tx=")[1], "email": "<b>x</b>@e.com"}
    )
    assert typed.status_code == 400
    assert "<b>x</b>" not in typed.text
    device = http.get("/device", params={"user_code": '"><script>x</script>'})
    assert "<script>" not in device.text


def test_a_consent_that_can_grant_nothing_goes_back_as_invalid_scope(
    http: httpx.Client, idp, mock_server
) -> None:
    pkce = Pkce.new()
    params = authorize_params(pkce, scope="write:jira-work delete:jira-work", state="nothing")
    started = http.get("/authorize?" + urlencode(params))
    done = sign_in_and_consent(http, started.headers["location"], email=BOB)
    assert done.status_code == 302
    query = query_of(done.headers["location"])
    assert query["error"] == "invalid_scope"
    assert query["state"] == "nothing"
    assert query["iss"] == mock_server.url
    assert "code" not in query
    assert not events(idp, "code.issued")
