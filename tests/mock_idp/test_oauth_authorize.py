"""The /authorize endpoint and its pages: sign-in, site choice, consent, and every way an
authorization request can be refused (OAuth 2.1, RFC 6749 section 4.1.2.1, RFC 9207)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.testclient import TestClient

from mock_idp.models import Org
from mock_idp.seed import ACME_ORG_ID, ACME_SANDBOX_SITE_ID, ACME_SITE_ID, GLOBEX_SITE_ID
from tests.mock_idp.helpers import events
from tests.mock_idp.oauth_flow import (
    Pkce,
    authorize,
    authorize_params,
    query_of,
    sign_in_and_consent,
    tx_of,
)

ISSUER = "http://127.0.0.1"


def start(web: TestClient, params: dict[str, str]):
    return web.get("/authorize?" + urlencode(params))


def test_accept_redirects_with_code_unchanged_state_and_iss(web: TestClient, idp) -> None:
    params = authorize_params(Pkce.new(), state="a b&c=d/é")
    query = authorize(web, params)
    assert query["state"] == "a b&c=d/é"
    assert query["iss"] == ISSUER
    assert len(query["code"]) >= 32
    issued = events(idp, "code.issued")
    assert len(issued) == 1
    assert query["code"] not in str(issued)


def test_plain_pkce_is_refused_even_with_a_challenge(web: TestClient) -> None:
    pkce = Pkce.new()
    params = authorize_params(pkce, code_challenge=pkce.verifier, code_challenge_method="plain")
    query = query_of(start(web, params).headers["location"])
    assert query["error"] == "invalid_request"
    assert "S256" in query["error_description"]


def test_deny_redirects_with_access_denied_and_issues_no_code(web: TestClient, idp) -> None:
    params = authorize_params(Pkce.new(), state="s1")
    started = start(web, params)
    answer = sign_in_and_consent(web, started.headers["location"], decision="deny")
    assert answer.status_code == 302
    query = query_of(answer.headers["location"])
    assert query["error"] == "access_denied"
    assert query["state"] == "s1"
    assert query["iss"] == ISSUER
    assert "code" not in query
    assert events(idp, "consent.denied")
    assert not events(idp, "code.issued")


def test_sign_in_page_offers_seeded_users_and_an_email_box(web: TestClient) -> None:
    location = start(web, authorize_params(Pkce.new())).headers["location"]
    page = web.get(location)
    assert page.status_code == 200
    assert "alice@example.com" in page.text
    assert "bob@example.com" in page.text
    assert "type=email" in page.text
    assert "Teamwork Graph CLI" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_unknown_email_is_refused_on_the_sign_in_page(web: TestClient) -> None:
    tx = tx_of(start(web, authorize_params(Pkce.new())).headers["location"])
    answer = web.post("/authorize/login", data={"tx": tx, "email": "<b>x</b>@example.com"})
    assert answer.status_code == 400
    assert "No account for" in answer.text
    assert "<b>x</b>" not in answer.text
    assert "&lt;b&gt;x&lt;/b&gt;" in answer.text


def test_forged_or_unknown_transaction_id_is_refused(web: TestClient) -> None:
    answer = web.post("/authorize/login", data={"tx": "guess", "email": "alice@example.com"})
    assert answer.status_code == 400
    assert "expired" in answer.text
    assert "location" not in answer.headers


def test_site_page_lists_only_the_users_sites_grouped_by_org(web: TestClient) -> None:
    tx = tx_of(start(web, authorize_params(Pkce.new())).headers["location"])
    web.post("/authorize/login", data={"tx": tx, "email": "alice@example.com"})
    page = web.get(f"/authorize/site?tx={tx}")
    assert ACME_SITE_ID in page.text
    assert ACME_SANDBOX_SITE_ID in page.text
    assert GLOBEX_SITE_ID not in page.text
    assert "<legend>Acme" in page.text


def test_choosing_a_site_the_user_cannot_access_is_refused(web: TestClient) -> None:
    tx = tx_of(start(web, authorize_params(Pkce.new())).headers["location"])
    web.post("/authorize/login", data={"tx": tx, "email": "alice@example.com"})
    answer = web.post("/authorize/site", data={"tx": tx, "site_id": GLOBEX_SITE_ID})
    assert answer.status_code == 400
    assert "location" not in answer.headers


def test_consent_lists_only_scopes_the_user_may_have(web: TestClient) -> None:
    # bob is read-only on acme: write:jira-work must not be offered or granted.
    params = authorize_params(Pkce.new())
    tx = tx_of(start(web, params).headers["location"])
    web.post("/authorize/login", data={"tx": tx, "email": "bob@example.com"})
    web.post("/authorize/site", data={"tx": tx, "site_id": ACME_SITE_ID})
    page = web.get(f"/authorize/consent?tx={tx}")
    granted_list = page.text.split("<ul id=scopes>")[1].split("</ul>")[0]
    assert "read:jira-work" in granted_list
    assert "write:jira-work" not in granted_list
    assert "Not granted" in page.text


def test_org_cli_setting_narrows_the_granted_scopes(web: TestClient, idp) -> None:
    org = idp.store.get(Org, ACME_ORG_ID)
    assert org is not None
    org.cli_allow_all = False
    org.cli_categories = ["read"]
    idp.store.put(org)
    query = authorize(web, authorize_params(Pkce.new()))
    assert "code" in query
    granted = str(events(idp, "code.issued")[-1]["scope"]).split()
    assert "read:jira-work" in granted
    assert "write:jira-work" not in granted


def test_a_transaction_gives_one_decision_only(web: TestClient) -> None:
    started = start(web, authorize_params(Pkce.new()))
    first = sign_in_and_consent(web, started.headers["location"])
    assert first.status_code == 302
    tx = tx_of(started.headers["location"])
    again = web.post("/authorize/consent", data={"tx": tx, "decision": "accept"})
    assert again.status_code == 400
    assert "location" not in again.headers


def test_garbage_posts_to_the_pages_never_make_a_500(web: TestClient) -> None:
    for path in ("/authorize/login", "/authorize/site", "/authorize/consent", "/device"):
        answer = web.post(path, content=b"\xff\xfe\x00garbage", headers={"content-type": "x/y"})
        assert answer.status_code == 400, path
        json_answer = web.post(path, content=b"[1,2", headers={"content-type": "application/json"})
        assert json_answer.status_code == 400, path


def test_authorize_with_no_parameters_is_an_error_page(web: TestClient) -> None:
    answer = web.get("/authorize")
    assert answer.status_code == 400
    assert "location" not in answer.headers
