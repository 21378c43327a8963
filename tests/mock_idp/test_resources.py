"""Bearer authentication (RFC 6750), /me and accessible-resources, over a real socket."""

from __future__ import annotations

from mock_idp.seed import ACME_SANDBOX_SITE_ID, ACME_SITE_ID, GLOBEX_SITE_ID
from mock_idp.settings import HOUR
from tests.mock_idp.helpers import ALICE, BOB, FULL_SCOPE, events, login, user


def test_me_returns_the_signed_in_account_in_atlassian_shape(http, idp):
    alice = login(idp, ALICE)
    response = http.get("/me", headers=alice.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["account_id"] == user(idp, ALICE).account_id
    assert body["email"] == ALICE
    assert body["name"] == "Alice Example"
    assert body["nickname"] == "Alice"
    assert body["picture"].startswith("https://")
    assert body["account_status"] == "active"
    assert body["account_type"] == "atlassian"


def test_me_answers_for_whoever_holds_the_token(http, idp):
    bob = login(idp, BOB)
    assert http.get("/me", headers=bob.headers).json()["email"] == BOB


def test_missing_token_gets_a_plain_bearer_challenge(http):
    response = http.get("/me")
    assert response.status_code == 401
    # RFC 6750 section 3.1: no error code when no credentials were sent.
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized"


def test_basic_credentials_on_a_bearer_route_count_as_missing(http):
    response = http.get("/me", auth=("alice@example.com", "secret"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_token_gets_invalid_token_with_a_reason(http):
    response = http.get("/me", headers={"Authorization": "Bearer not-a-real-token"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer error="invalid_token", error_description="The access token is not known."'
    )
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "The access token is not known.",
    }


def test_bearer_scheme_is_case_insensitive(http, idp):
    alice = login(idp)
    response = http.get("/me", headers={"Authorization": f"bearer {alice.access_token}"})
    assert response.status_code == 200


def test_token_expires_by_the_mock_clock(http, idp):
    alice = login(idp)
    idp.clock.advance(8 * HOUR - 5)
    assert http.get("/me", headers=alice.headers).status_code == 200
    idp.clock.advance(10)
    response = http.get("/me", headers=alice.headers)
    assert response.status_code == 401
    assert (
        'error_description="The access token has expired."' in response.headers["www-authenticate"]
    )


def test_token_of_a_session_revoked_by_an_admin_says_so(http, idp):
    alice = login(idp)
    idp.sessions.revoke_sessions(org_id=alice.family.org_id, reason="org_admin")
    response = http.get("/me", headers=alice.headers)
    assert response.status_code == 401
    assert response.json()["error_description"] == "Session revoked by an organization admin."
    assert "Session revoked by an organization admin." in response.headers["www-authenticate"]


def test_revoked_access_token_is_refused(http, idp):
    alice = login(idp)
    idp.sessions.revoke(alice.access_token)
    response = http.get("/oauth/token/accessible-resources", headers=alice.headers)
    assert response.status_code == 401
    assert response.json()["error_description"] == "The access token was revoked."


def test_logout_kills_the_access_token_too(http, idp):
    alice = login(idp)
    idp.sessions.revoke(alice.refresh_token)
    assert http.get("/me", headers=alice.headers).status_code == 401


def test_accessible_resources_lists_the_session_site_with_token_scopes(http, idp):
    alice = login(idp, site_id=ACME_SITE_ID)
    response = http.get("/oauth/token/accessible-resources", headers=alice.headers)
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": ACME_SITE_ID,
            "url": "https://acme.atlassian.net",
            "name": "acme",
            "scopes": FULL_SCOPE.split(),
            "avatarUrl": response.json()[0]["avatarUrl"],
        }
    ]


def test_accessible_resources_without_a_site_lists_every_site_of_the_account(http, idp):
    alice = login(idp, site_id=None, scope="read:me read:jira-work")
    body = http.get("/oauth/token/accessible-resources", headers=alice.headers).json()
    assert {site["id"] for site in body} == {ACME_SITE_ID, ACME_SANDBOX_SITE_ID}
    assert GLOBEX_SITE_ID not in {site["id"] for site in body}
    assert all(site["scopes"] == ["read:me", "read:jira-work"] for site in body)


def test_every_resource_call_is_audited_without_the_token(http, idp):
    alice = login(idp)
    http.get("/me", headers=alice.headers)
    http.get("/me", headers={"Authorization": "Bearer nope"})
    calls = events(idp, "api.call")
    assert calls[-2]["account_id"] == user(idp, ALICE).account_id
    assert calls[-2]["status"] == 200
    assert calls[-2]["path"] == "/me"
    assert calls[-2]["method"] == "GET"
    assert calls[-1]["status"] == 401
    assert calls[-1]["account_id"] is None
    assert alice.access_token not in repr(idp.audit.events())
