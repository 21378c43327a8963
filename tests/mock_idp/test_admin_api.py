"""The Admin API: org-limited keys, orgs, users, and the TWG CLI controls."""

from __future__ import annotations

import pytest

from mock_idp.models import Org
from mock_idp.secrets_util import fingerprint
from mock_idp.seed import (
    ACME_ADMIN_KEY,
    ACME_ORG_ID,
    ACME_SITE_ID,
    GLOBEX_ADMIN_KEY,
    GLOBEX_ORG_ID,
    GLOBEX_SITE_ID,
)
from mock_idp.sessions import InvalidGrant
from tests.mock_idp.helpers import ALICE, BOB, CAROL, DAVE, events, login, user

ACME_ADMIN = {"Authorization": f"Bearer {ACME_ADMIN_KEY}"}
ORG = f"/admin/v1/orgs/{ACME_ORG_ID}"
JIRA = f"/ex/jira/{ACME_SITE_ID}/rest/api/3"
READ_ONLY = {
    "allow_all": False,
    "categories": ["read"],
    "permissions": {
        "read": ["read:jira-work", "read:jira-user", "read:confluence-content.all"],
        "write": [],
        "delete": [],
    },
}


def test_orgs_lists_only_the_keys_own_org(http, mock_server):
    response = http.get("/admin/v1/orgs", headers=ACME_ADMIN)
    assert response.status_code == 200
    assert response.json() == {
        "data": [
            {
                "id": ACME_ORG_ID,
                "type": "orgs",
                "attributes": {"name": "Acme"},
                "links": {"self": f"{mock_server.url}{ORG}"},
            }
        ],
        "links": {},
    }


def test_get_org_returns_it_in_json_api_shape(http):
    body = http.get(ORG, headers=ACME_ADMIN).json()
    assert body["data"]["id"] == ACME_ORG_ID
    assert body["data"]["attributes"] == {"name": "Acme"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-key"}, {"Authorization": f"Basic {ACME_ADMIN_KEY}"}],
)
def test_missing_or_unknown_key_is_401(http, headers):
    response = http.get(ORG, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["status"] == "401"


def test_a_key_of_another_org_is_403(http):
    response = http.get(f"/admin/v1/orgs/{GLOBEX_ORG_ID}/users", headers=ACME_ADMIN)
    assert response.status_code == 403
    assert "another organization" in response.json()["errors"][0]["detail"]
    response = http.put(
        f"/admin/v1/orgs/{GLOBEX_ORG_ID}/twg-cli/permissions",
        json={"allow_all": False, "categories": []},
        headers=ACME_ADMIN,
    )
    assert response.status_code == 403


def test_users_are_those_with_access_to_a_site_of_the_org(http, idp):
    body = http.get(f"{ORG}/users", headers=ACME_ADMIN).json()
    assert [u["email"] for u in body["data"]] == [ALICE, BOB, CAROL]
    alice = body["data"][0]
    assert alice["account_id"] == user(idp, ALICE).account_id
    assert alice["account_status"] == "active"
    assert alice["name"] == "Alice Example"
    globex = http.get(
        f"/admin/v1/orgs/{GLOBEX_ORG_ID}/users",
        headers={"Authorization": f"Bearer {GLOBEX_ADMIN_KEY}"},
    ).json()
    assert [u["email"] for u in globex["data"]] == [DAVE]


def test_cli_permissions_default_to_allow_all(http):
    response = http.get(f"{ORG}/twg-cli/permissions", headers=ACME_ADMIN)
    assert response.json() == {
        "allow_all": True,
        "categories": ["read", "write", "delete"],
        "permissions": {
            "read": ["read:jira-work", "read:jira-user", "read:confluence-content.all"],
            "write": ["write:jira-work", "manage:jira-project", "write:confluence-content"],
            "delete": ["delete:jira-work"],
        },
    }


def test_saving_without_revoking_keeps_sessions_and_their_rights_until_reissued(http, idp):
    alice = login(idp)
    response = http.put(
        f"{ORG}/twg-cli/permissions",
        json={"allow_all": False, "categories": ["read"]},
        headers=ACME_ADMIN,
    )
    assert response.status_code == 200
    assert response.json() == {**READ_ONLY, "revoked_sessions": 0}
    assert http.get(f"{ORG}/twg-cli/permissions", headers=ACME_ADMIN).json()["categories"] == [
        "read"
    ]
    # The session lives on with the scopes it was issued with, until a refresh.
    assert http.get(f"{JIRA}/search", headers=alice.headers).status_code == 200
    kept = http.post(f"{JIRA}/issue", json={"fields": {"summary": "x"}}, headers=alice.headers)
    assert kept.status_code == 201
    changed = events(idp, "admin.permissions_changed")[-1]
    assert changed["admin"] == CAROL
    assert changed["after"] == READ_ONLY
    assert changed["revoke_sessions"] is False
    assert ACME_ADMIN_KEY not in repr(idp.audit.events())


def test_saving_and_revoking_ends_every_cli_session_of_the_org(http, idp):
    alice, bob = login(idp, ALICE), login(idp, BOB)
    dave = login(idp, DAVE, site_id=GLOBEX_SITE_ID)
    response = http.put(
        f"{ORG}/twg-cli/permissions",
        json={"allow_all": False, "categories": ["read", "write"], "revoke_sessions": True},
        headers=ACME_ADMIN,
    )
    body = response.json()
    assert (body["categories"], body["revoked_sessions"]) == (["read", "write"], 2)
    assert http.get("/me", headers=alice.headers).status_code == 401
    with pytest.raises(InvalidGrant, match="Session revoked by an organization admin"):
        idp.sessions.check_refresh(bob.refresh_token, "twg-cli")
    # Another org's session is untouched.
    assert http.get("/me", headers=dave.headers).status_code == 200
    revoked = events(idp, "admin.sessions_revoked")[-1]
    assert revoked["count"] == 2
    assert revoked["admin"] == CAROL
    assert revoked["reason"] == "admin_policy"


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"allow_all": False, "categories": ["read", "admin"]}, "admin"),
        ({"allow_all": False, "categories": "read"}, "categories"),
        ({"allow_all": False}, "categories"),
        ({"allow_all": "yes"}, "allow_all"),
        ({"allow_all": True, "colour": "red"}, "colour"),
        (["read"], "object"),
    ],
)
def test_a_bad_permission_setting_is_400_and_changes_nothing(http, idp, body, text):
    response = http.put(f"{ORG}/twg-cli/permissions", json=body, headers=ACME_ADMIN)
    assert response.status_code == 400
    assert text in response.json()["errors"][0]["detail"]
    assert idp.store.get(Org, ACME_ORG_ID).cli_allow_all is True


def test_invalid_json_body_is_400(http):
    response = http.put(
        f"{ORG}/twg-cli/permissions",
        content=b"{",
        headers={**ACME_ADMIN, "Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_allow_all_again_restores_every_category(http, idp):
    http.put(f"{ORG}/twg-cli/permissions", json={"categories": []}, headers=ACME_ADMIN)
    assert idp.store.get(Org, ACME_ORG_ID).allowed_categories() == set()
    response = http.put(f"{ORG}/twg-cli/permissions", json={"allow_all": True}, headers=ACME_ADMIN)
    assert response.json()["categories"] == ["read", "write", "delete"]
    assert idp.store.get(Org, ACME_ORG_ID).allowed_categories() == {"read", "write", "delete"}


def test_sessions_lists_live_cli_sessions_of_the_org_without_secrets(http, idp):
    alice, bob = login(idp, ALICE), login(idp, BOB)
    login(idp, DAVE, site_id=GLOBEX_SITE_ID)
    idp.sessions.revoke(bob.refresh_token)
    response = http.get(f"{ORG}/twg-cli/sessions", headers=ACME_ADMIN)
    assert response.status_code == 200
    data = response.json()["data"]
    assert [s["email"] for s in data] == [ALICE]
    assert data[0]["id"] == alice.family.id
    assert data[0]["site_id"] == ACME_SITE_ID
    assert alice.refresh_token not in response.text
    assert alice.access_token not in response.text


def test_delete_sessions_revokes_everyone_in_the_org(http, idp):
    alice, bob = login(idp, ALICE), login(idp, BOB)
    response = http.delete(f"{ORG}/twg-cli/sessions", headers=ACME_ADMIN)
    assert response.json() == {"revoked_sessions": 2}
    for person in (alice, bob):
        with pytest.raises(InvalidGrant, match=r"^Session revoked by an organization admin\.$"):
            idp.sessions.check_refresh(person.refresh_token, "twg-cli")
    assert http.get(f"{ORG}/twg-cli/sessions", headers=ACME_ADMIN).json()["data"] == []


def test_delete_user_sessions_revokes_only_that_users(http, idp):
    alice, bob = login(idp, ALICE), login(idp, BOB)
    account = user(idp, BOB).account_id
    response = http.delete(f"{ORG}/users/{account}/twg-cli/sessions", headers=ACME_ADMIN)
    assert response.status_code == 200
    assert response.json() == {"revoked_sessions": 1}
    assert http.get("/me", headers=bob.headers).json()["error_description"] == (
        "Session revoked by an organization admin."
    )
    assert http.get("/me", headers=alice.headers).status_code == 200
    revoked = events(idp, "admin.sessions_revoked")[-1]
    assert revoked == {
        "event": "admin.sessions_revoked",
        "org_id": ACME_ORG_ID,
        "admin": CAROL,
        "via": "api",
        "key_fp": fingerprint(ACME_ADMIN_KEY),
        "account_id": account,
        "reason": "org_admin",
        "count": 1,
    }


def test_delete_sessions_of_an_unknown_user_is_404(http):
    response = http.delete(f"{ORG}/users/nobody/twg-cli/sessions", headers=ACME_ADMIN)
    assert response.status_code == 404
