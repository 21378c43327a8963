"""The mock's org controls: IP allowlists (API and token endpoint), suspension, the org
events endpoint with its cursor, and revoked Admin API keys."""

from __future__ import annotations

import pytest

from mock_idp.secrets_util import fingerprint
from mock_idp.seed import ACME_ADMIN_KEY, ACME_ORG_ID, ACME_SITE_ID, GLOBEX_SITE_ID
from tests.mock_idp.helpers import ALICE, BOB, DAVE, events, login, user
from tests.mock_idp.oauth_flow import browser_login, refresh

ADMIN = {"Authorization": f"Bearer {ACME_ADMIN_KEY}"}
ORG = f"/admin/v1/orgs/{ACME_ORG_ID}"
JIRA = f"/ex/jira/{ACME_SITE_ID}/rest/api/3"


def seen_as(http, address: str | None) -> None:
    response = http.patch("/_mock/settings", json={"client_address_override": address})
    assert response.status_code == 200, response.text


def test_an_allowlist_blocks_the_orgs_api_and_token_requests_from_outside(http, idp):
    alice = login(idp)
    dave = login(idp, DAVE, site_id=GLOBEX_SITE_ID)
    saved = http.put(f"{ORG}/ip-allowlist", json={"cidrs": ["198.51.100.0/24"]}, headers=ADMIN)
    assert saved.json() == {"cidrs": ["198.51.100.0/24"]}
    seen_as(http, "203.0.113.9")
    api = http.get(f"{JIRA}/issue/ACME-1", headers=alice.headers)
    assert api.status_code == 403
    assert api.json()["error"] == "ip_not_allowed"
    assert "Blocked by your organization's IP allowlist" in api.json()["error_description"]
    token = refresh(http, alice.refresh_token)
    assert token.status_code == 403
    assert token.json()["error"] == "ip_not_allowed"
    # Another org's users and the Admin API itself are not subject to Acme's list.
    assert http.get("/me", headers=dave.headers).status_code == 200
    assert http.get(f"{ORG}/ip-allowlist", headers=ADMIN).status_code == 200
    seen_as(http, "198.51.100.20")
    assert http.get(f"{JIRA}/issue/ACME-1", headers=alice.headers).status_code == 200
    assert refresh(http, alice.refresh_token).status_code == 200
    assert events(idp, "allowlist.blocked")[0]["address"] == "203.0.113.9"


def test_forwarded_headers_are_never_trusted(http, idp):
    alice = login(idp)
    http.put(f"{ORG}/ip-allowlist", json={"cidrs": ["198.51.100.0/24"]}, headers=ADMIN)
    spoofed = {**alice.headers, "X-Forwarded-For": "198.51.100.1", "Forwarded": "for=198.51.100.1"}
    assert http.get("/me", headers=spoofed).status_code == 403


@pytest.mark.parametrize("value", ["not-an-ip", "10.0.0.0/8", 42])
def test_the_address_override_must_be_an_address(http, value):
    response = http.patch("/_mock/settings", json={"client_address_override": value})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("cidrs", "code"),
    [(["10.0.0.0/8", "nope"], "invalid_cidr"), ("10.0.0.0/8", "invalid_request")],
)
def test_bad_allowlists_are_refused_and_change_nothing(http, cidrs, code):
    response = http.put(f"{ORG}/ip-allowlist", json={"cidrs": cidrs}, headers=ADMIN)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code
    assert http.get(f"{ORG}/ip-allowlist", headers=ADMIN).json() == {"cidrs": []}


def test_suspension_ends_sessions_with_its_own_reason_until_restored(http, idp):
    bob = login(idp, BOB)
    account = user(idp, BOB).account_id
    suspended = http.post(f"{ORG}/directory/users/{account}/suspend-access", headers=ADMIN)
    assert suspended.json()["sessions_ended"] == 1
    description = "Account suspended by an organization admin; sessions ended."
    assert http.get("/me", headers=bob.headers).json()["error_description"] == description
    assert refresh(http, bob.refresh_token).json()["error_description"] == description
    listed = http.get(f"{ORG}/users", headers=ADMIN).json()["data"]
    assert {u["email"]: u["account_status"] for u in listed}[BOB] == "suspended"
    restored = http.post(f"{ORG}/directory/users/{BOB}/restore-access", headers=ADMIN)
    assert restored.status_code == 200
    assert events(idp, "admin.user_restored")[0]["email"] == BOB


def test_an_admin_cannot_suspend_themselves(http):
    response = http.post(f"{ORG}/directory/users/carol@example.com/suspend-access", headers=ADMIN)
    assert response.status_code == 400


def test_org_events_page_with_a_cursor_and_filter_by_from(http, idp):
    for _ in range(3):
        login(idp, ALICE)
    login(idp, DAVE, site_id=GLOBEX_SITE_ID)
    idp.clock.advance(3600)
    http.put(f"{ORG}/ip-allowlist", json={"cidrs": ["10.0.0.0/8"]}, headers=ADMIN)
    body = http.get(f"{ORG}/events", headers=ADMIN).json()
    actions = [e["attributes"]["action"] for e in body["data"]]
    # session.started and token.issued for each of alice's sessions; none of dave's.
    assert actions.count("session.started") == 3
    assert actions[-1] == "admin.allowlist_changed"
    assert body["data"][-1]["attributes"]["actor"] == {
        "email": "carol@example.com",
        "type": "admin",
        "via": "api",
    }
    assert body["meta"]["next"] is None
    later = int((idp.clock.now() - 60) * 1000)
    recent = http.get(f"{ORG}/events?from={later}", headers=ADMIN).json()["data"]
    assert [e["attributes"]["action"] for e in recent] == ["admin.allowlist_changed"]
    assert ACME_ADMIN_KEY not in str(body)


def test_org_events_name_the_user_behind_every_session_event(http):
    tokens = browser_login(http)  # alice, through the sign-in and consent pages
    revoked = http.post(
        "/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": "twg-cli"}
    )
    assert revoked.status_code == 200

    data = http.get(f"{ORG}/events", headers=ADMIN).json()["data"]
    actors = {e["attributes"]["action"]: e["attributes"]["actor"] for e in data}

    assert {"code.redeemed", "token.revoked"} <= actors.keys()
    assert {actor["email"] for actor in actors.values()} == {"alice@example.com"}


def test_org_events_continue_from_the_cursor(http, idp, monkeypatch):
    from mock_idp import org_admin

    for _ in range(3):
        login(idp, ALICE)
    original = org_admin.org_events
    monkeypatch.setattr(org_admin, "org_events", lambda *a, **k: original(*a, **{**k, "limit": 2}))
    first = http.get(f"{ORG}/events", headers=ADMIN).json()
    assert len(first["data"]) == 2
    second = http.get(first["links"]["next"], headers=ADMIN).json()
    assert int(second["data"][0]["id"]) > int(first["data"][-1]["id"])


def test_a_revoked_key_is_refused_as_revoked(http):
    revoked = http.delete(f"{ORG}/api-keys/{fingerprint(ACME_ADMIN_KEY)}", headers=ADMIN)
    assert revoked.status_code == 200
    response = http.get(ORG, headers=ADMIN)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "key_revoked"


def test_an_unknown_org_is_404_for_a_valid_key(http):
    response = http.get("/admin/v1/orgs/no-such-org", headers=ADMIN)
    assert response.status_code == 404
