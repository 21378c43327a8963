"""The permission-checked work item API: CRUD, and each 403 reason in its order."""

from __future__ import annotations

import httpx
import pytest

from mock_idp.models import Org
from mock_idp.seed import ACME_ORG_ID, ACME_SANDBOX_SITE_ID, ACME_SITE_ID, GLOBEX_SITE_ID
from tests.mock_idp.helpers import ALICE, BOB, Login, events, login, user
from tests.mock_idp.oauth_flow import refresh

ACME = f"/ex/jira/{ACME_SITE_ID}/rest/api/3"


def set_org_cli(idp, categories: list[str]) -> None:
    org = idp.store.get(Org, ACME_ORG_ID)
    org.cli_allow_all = False
    org.cli_categories = categories
    idp.store.put(org)


def reissued(http, session: Login) -> Login:
    """The session after a refresh: its tokens re-issued under the current org setting."""
    body = refresh(http, session.refresh_token).json()
    return Login(session.family, body["access_token"], body["refresh_token"])


def test_search_lists_the_seeded_work_items_of_the_site(http, idp):
    alice = login(idp)
    response = http.get(f"{ACME}/search", headers=alice.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert [i["key"] for i in body["issues"]] == ["ACME-1", "ACME-2", "ACME-3"]
    assert body["issues"][0]["fields"]["summary"] == "Set up the TWG CLI for the team"
    assert body["issues"][0]["fields"]["status"] == {"name": "Done"}


def test_search_pages_with_start_at_and_max_results(http, idp):
    alice = login(idp)
    body = http.get(f"{ACME}/search?startAt=1&maxResults=1", headers=alice.headers).json()
    assert [i["key"] for i in body["issues"]] == ["ACME-2"]
    assert body["total"] == 3


def test_search_rejects_a_bad_page_size(http, idp):
    alice = login(idp)
    response = http.get(f"{ACME}/search?maxResults=lots", headers=alice.headers)
    assert response.status_code == 400
    assert "maxResults" in response.json()["errorMessages"][0]


def test_create_then_get_update_and_delete_a_work_item(http, idp):
    alice = login(idp)
    created = http.post(
        f"{ACME}/issue",
        json={"fields": {"summary": "Ship it", "description": "soon"}},
        headers=alice.headers,
    )
    assert created.status_code == 201
    body = created.json()
    assert body["key"] == "ACME-4"
    assert body["self"].endswith(f"{ACME}/issue/{body['id']}")

    fetched = http.get(f"{ACME}/issue/ACME-4", headers=alice.headers).json()
    assert fetched["fields"]["summary"] == "Ship it"
    assert fetched["fields"]["creator"] == {"accountId": user(idp, ALICE).account_id}
    assert http.get(f"{ACME}/issue/{body['id']}", headers=alice.headers).json()["key"] == "ACME-4"

    updated = http.put(
        f"{ACME}/issue/ACME-4",
        json={"fields": {"summary": "Ship it now", "status": "In Progress"}},
        headers=alice.headers,
    )
    assert updated.status_code == 204
    fetched = http.get(f"{ACME}/issue/ACME-4", headers=alice.headers).json()
    assert fetched["fields"]["summary"] == "Ship it now"
    assert fetched["fields"]["status"] == {"name": "In Progress"}

    assert http.delete(f"{ACME}/issue/ACME-4", headers=alice.headers).status_code == 204
    assert http.get(f"{ACME}/issue/ACME-4", headers=alice.headers).status_code == 404


def test_work_items_are_kept_per_site(http, idp):
    alice = login(idp, site_id=ACME_SANDBOX_SITE_ID)
    sandbox = f"/ex/jira/{ACME_SANDBOX_SITE_ID}/rest/api/3"
    keys = [i["key"] for i in http.get(f"{sandbox}/search", headers=alice.headers).json()["issues"]]
    assert keys == ["ACMESANDBO-1", "ACMESANDBO-2", "ACMESANDBO-3"]


def test_unknown_key_is_404(http, idp):
    alice = login(idp)
    response = http.get(f"{ACME}/issue/ACME-999", headers=alice.headers)
    assert response.status_code == 404
    assert "ACME-999" in response.json()["errorMessages"][0]
    assert http.delete(f"{ACME}/issue/ACME-999", headers=alice.headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fields": {}}, "summary"),
        ({"fields": {"summary": "   "}}, "summary"),
        ({"fields": {"summary": "x" * 256}}, "summary"),
        ({"fields": {"summary": "ok", "priority": "High"}}, "priority"),
        ({"summary": "no fields wrapper"}, "fields"),
        ([1, 2], "fields"),
    ],
)
def test_create_with_a_bad_body_is_400_naming_the_field(http, idp, body, field):
    alice = login(idp)
    response = http.post(f"{ACME}/issue", json=body, headers=alice.headers)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_create_with_invalid_json_is_400(http, idp):
    alice = login(idp)
    response = http.post(
        f"{ACME}/issue",
        content=b"{nope",
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errorMessages"] == ["The request body is not valid JSON."]


def test_update_with_an_unknown_status_is_400(http, idp):
    alice = login(idp)
    response = http.put(
        f"{ACME}/issue/ACME-1", json={"fields": {"status": "Lost"}}, headers=alice.headers
    )
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def assert_forbidden(response: httpx.Response, reason: str, scope: str, category: str) -> str:
    assert response.status_code == 403
    body = response.json()
    assert body["error"]["code"] == "forbidden"
    assert body["error"]["reason"] == reason
    assert body["error"]["required_scope"] == scope
    assert body["error"]["category"] == category
    assert body["errorMessages"] == [body["error"]["message"]]
    return str(body["error"]["message"])


def test_another_site_than_the_sessions_is_wrong_site(http, idp):
    alice = login(idp, site_id=ACME_SITE_ID)
    response = http.get(f"/ex/jira/{ACME_SANDBOX_SITE_ID}/rest/api/3/search", headers=alice.headers)
    message = assert_forbidden(response, "wrong_site", "read:jira-work", "read")
    assert ACME_SITE_ID in message


def test_a_site_the_account_cannot_reach_is_wrong_site_without_a_session_site(http, idp):
    alice = login(idp, site_id=None)
    assert (
        http.get(
            f"/ex/jira/{ACME_SANDBOX_SITE_ID}/rest/api/3/search", headers=alice.headers
        ).status_code
        == 200
    )
    response = http.get(f"/ex/jira/{GLOBEX_SITE_ID}/rest/api/3/search", headers=alice.headers)
    assert_forbidden(response, "wrong_site", "read:jira-work", "read")


def test_wrong_site_is_checked_before_the_scope(http, idp):
    alice = login(idp, scope="read:me")
    response = http.get(f"/ex/jira/{GLOBEX_SITE_ID}/rest/api/3/search", headers=alice.headers)
    assert response.json()["error"]["reason"] == "wrong_site"


@pytest.mark.parametrize(
    ("method", "path", "scope", "category"),
    [
        ("GET", "/search", "read:jira-work", "read"),
        ("GET", "/issue/ACME-1", "read:jira-work", "read"),
        ("POST", "/issue", "write:jira-work", "write"),
        ("PUT", "/issue/ACME-1", "write:jira-work", "write"),
        ("DELETE", "/issue/ACME-1", "delete:jira-work", "delete"),
    ],
)
def test_a_token_without_the_scope_is_scope_missing(http, idp, method, path, scope, category):
    others = " ".join(
        s for s in ("read:jira-work", "write:jira-work", "delete:jira-work") if s != scope
    )
    alice = login(idp, scope=f"read:me {others}")
    response = http.request(
        method, f"{ACME}{path}", json={"fields": {"summary": "x"}}, headers=alice.headers
    )
    message = assert_forbidden(response, "scope_missing", scope, category)
    assert scope in message


def test_org_setting_applies_to_existing_sessions_when_their_tokens_are_reissued(http, idp):
    alice = login(idp)
    assert http.delete(f"{ACME}/issue/ACME-3", headers=alice.headers).status_code == 204
    set_org_cli(idp, ["read"])
    # The access token keeps the rights it was issued with until a refresh re-issues it.
    assert http.delete(f"{ACME}/issue/ACME-1", headers=alice.headers).status_code == 204
    alice = reissued(http, alice)
    response = http.delete(f"{ACME}/issue/ACME-2", headers=alice.headers)
    message = assert_forbidden(response, "org_cli_permission", "delete:jira-work", "delete")
    assert "admin" in message
    response = http.post(f"{ACME}/issue", json={"fields": {"summary": "x"}}, headers=alice.headers)
    assert_forbidden(response, "org_cli_permission", "write:jira-work", "write")
    assert http.get(f"{ACME}/search", headers=alice.headers).status_code == 200


def test_org_setting_is_checked_before_the_accounts_own_access(http, idp):
    bob = reissued(http, login(idp, BOB))
    set_org_cli(idp, ["read"])
    bob = reissued(http, bob)
    response = http.post(f"{ACME}/issue", json={"fields": {"summary": "x"}}, headers=bob.headers)
    assert response.json()["error"]["reason"] == "org_cli_permission"


def test_an_account_with_read_access_only_cannot_write_even_with_the_scope(http, idp):
    bob = login(idp, BOB)
    assert http.get(f"{ACME}/issue/ACME-1", headers=bob.headers).status_code == 200
    response = http.put(
        f"{ACME}/issue/ACME-1", json={"fields": {"summary": "x"}}, headers=bob.headers
    )
    message = assert_forbidden(response, "account_permission", "write:jira-work", "write")
    assert "acme" in message
    response = http.delete(f"{ACME}/issue/ACME-1", headers=bob.headers)
    assert_forbidden(response, "account_permission", "delete:jira-work", "delete")


def test_permission_checks_come_before_404_and_400(http, idp):
    bob = login(idp, BOB)
    response = http.post(f"{ACME}/issue", json={"bad": 1}, headers=bob.headers)
    assert response.status_code == 403
    assert http.delete(f"{ACME}/issue/NOPE-1", headers=bob.headers).status_code == 403


def test_work_item_api_needs_a_live_token(http, idp):
    response = http.get(f"{ACME}/search")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_work_item_calls_are_audited_with_site_status_and_category(http, idp):
    bob = login(idp, BOB)
    http.get(f"{ACME}/search", headers=bob.headers)
    http.delete(f"{ACME}/issue/ACME-1", headers=bob.headers)
    *_, read, denied = events(idp, "api.call")
    account = user(idp, BOB).account_id
    assert read == {
        "event": "api.call",
        "account_id": account,
        "family": bob.family.id,
        "org_id": ACME_ORG_ID,
        "site_id": ACME_SITE_ID,
        "method": "GET",
        "path": f"{ACME}/search",
        "status": 200,
        "category": "read",
        "scope": "read:jira-work",
        "user_agent": f"python-httpx/{httpx.__version__}",
    }
    assert denied["status"] == 403
    assert denied["category"] == "delete"
    assert denied["method"] == "DELETE"


def test_reset_restores_the_seeded_work_items(http, idp):
    alice = login(idp)
    http.delete(f"{ACME}/issue/ACME-1", headers=alice.headers)
    http.post(f"{ACME}/issue", json={"fields": {"summary": "extra"}}, headers=alice.headers)
    idp.reset()
    alice = login(idp)
    body = http.get(f"{ACME}/search", headers=alice.headers).json()
    assert [i["key"] for i in body["issues"]] == ["ACME-1", "ACME-2", "ACME-3"]


def test_work_items_survive_a_restart_with_sqlite_state(tmp_path):
    from starlette.testclient import TestClient

    from mock_idp.app import create_app
    from mock_idp.store import SQLiteStore

    path = tmp_path / "state.db"
    first = create_app(store=SQLiteStore(path))
    alice = login(first.state.idp)
    with TestClient(first, base_url="http://127.0.0.1") as client:
        created = client.post(
            f"{ACME}/issue", json={"fields": {"summary": "kept"}}, headers=alice.headers
        )
        assert created.json()["key"] == "ACME-4"
    first.state.idp.store.close()

    second = create_app(store=SQLiteStore(path))
    with TestClient(second, base_url="http://127.0.0.1") as client:
        body = client.get(f"{ACME}/search", headers=alice.headers).json()
        assert [i["fields"]["summary"] for i in body["issues"]][-1] == "kept"
        created = client.post(
            f"{ACME}/issue", json={"fields": {"summary": "next"}}, headers=alice.headers
        )
        assert created.json()["key"] == "ACME-5"
    second.state.idp.store.close()
