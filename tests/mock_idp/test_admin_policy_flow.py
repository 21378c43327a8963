"""An org admin's TWG CLI setting, end to end through the real login and token endpoint."""

from __future__ import annotations

from mock_idp.seed import ACME_ADMIN_KEY, ACME_ORG_ID, ACME_SITE_ID
from tests.mock_idp.oauth_flow import browser_login, refresh

ADMIN = {"Authorization": f"Bearer {ACME_ADMIN_KEY}"}
PERMISSIONS = f"/admin/v1/orgs/{ACME_ORG_ID}/twg-cli/permissions"
JIRA = f"/ex/jira/{ACME_SITE_ID}/rest/api/3"
FULL = "read:me read:jira-work write:jira-work delete:jira-work offline_access"


def bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_saved_without_revoking_the_session_refreshes_but_loses_the_category(http):
    tokens = browser_login(http, scope=FULL)
    assert http.delete(f"{JIRA}/issue/ACME-3", headers=bearer(tokens)).status_code == 204
    saved = http.put(PERMISSIONS, json={"categories": ["read", "write"]}, headers=ADMIN)
    assert saved.json()["revoked_sessions"] == 0

    refreshed = refresh(http, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    tokens = refreshed.json()
    denied = http.delete(f"{JIRA}/issue/ACME-2", headers=bearer(tokens))
    assert denied.status_code == 403
    assert denied.json()["error"]["reason"] == "org_cli_permission"
    assert http.get(f"{JIRA}/issue/ACME-2", headers=bearer(tokens)).status_code == 200


def test_saved_and_revoked_the_user_must_log_in_and_then_gets_the_new_scopes(http):
    tokens = browser_login(http, scope=FULL)
    saved = http.put(
        PERMISSIONS, json={"categories": ["read"], "revoke_sessions": True}, headers=ADMIN
    )
    assert saved.json()["revoked_sessions"] == 1

    assert http.get("/me", headers=bearer(tokens)).status_code == 401
    dead = refresh(http, tokens["refresh_token"])
    assert dead.json()["error"] == "invalid_grant"
    assert dead.json()["error_description"].startswith("Session revoked by an organization admin")

    again = browser_login(http, scope=FULL)
    assert set(again["scope"].split()) == {"read:me", "read:jira-work", "offline_access"}
    assert http.get(f"{JIRA}/search", headers=bearer(again)).status_code == 200
    denied = http.post(f"{JIRA}/issue", json={"fields": {"summary": "x"}}, headers=bearer(again))
    assert denied.status_code == 403
    assert denied.json()["error"]["reason"] == "org_cli_permission"
    sites = http.get("/oauth/token/accessible-resources", headers=bearer(again)).json()
    assert sites[0]["scopes"] == again["scope"].split()
