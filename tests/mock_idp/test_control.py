"""The /_mock/ test-control API: clock, reset, seed, settings, sessions, audit, guard."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from mock_idp.models import Org, Site, User
from mock_idp.seed import ACME_ORG_ID, ACME_SITE_ID
from mock_idp.sessions import InvalidGrant
from mock_idp.settings import DAY, Settings
from tests.mock_idp.helpers import ALICE, BOB, events, login

JIRA = f"/ex/jira/{ACME_SITE_ID}/rest/api/3"


# clock -----------------------------------------------------------------------------------


def test_clock_reports_now_as_epoch_and_iso(http):
    before = time.time()
    body = http.get("/_mock/clock").json()
    assert before - 1 <= body["now"] <= time.time() + 1
    assert datetime.fromisoformat(body["iso"]).timestamp() == pytest.approx(body["now"], abs=0.01)
    assert body["frozen"] is False
    assert body["offset"] == 0


def test_advance_moves_the_clock_and_the_date_header(http, idp):
    response = http.post("/_mock/clock/advance", json={"seconds": 31 * DAY})
    assert response.status_code == 200
    assert response.json()["offset"] == pytest.approx(31 * DAY)
    assert idp.clock.now() == pytest.approx(time.time() + 31 * DAY, abs=2)
    served = datetime.strptime(response.headers["date"], "%a, %d %b %Y %H:%M:%S GMT")
    assert served.replace(tzinfo=UTC).timestamp() == pytest.approx(time.time() + 31 * DAY, abs=2)
    changed = events(idp, "clock.changed")[-1]
    assert changed["action"] == "advance"
    assert changed["seconds"] == 31 * DAY


def test_advancing_past_30_idle_days_kills_the_refresh_token(http, idp):
    alice = login(idp)
    http.post("/_mock/clock/advance", json={"seconds": 30 * DAY + 1})
    with pytest.raises(InvalidGrant, match="30 days of inactivity"):
        idp.sessions.check_refresh(alice.refresh_token, "twg-cli")


def test_clock_changes_are_saved_for_sqlite_state(http, idp):
    http.post("/_mock/clock/advance", json={"seconds": 3600})
    assert idp.store.get_meta("clock")["offset"] == pytest.approx(3600)
    http.post("/_mock/clock/freeze", json={})
    assert idp.store.get_meta("clock")["frozen_at"] is not None


def test_set_accepts_epoch_and_iso_8601(http, idp):
    assert http.post("/_mock/clock/set", json={"time": 2_000_000_000}).json()["now"] == (
        pytest.approx(2_000_000_000, abs=1)
    )
    body = http.post("/_mock/clock/set", json={"time": "2030-01-02T03:04:05Z"}).json()
    assert body["now"] == pytest.approx(datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp(), 1)
    assert body["iso"].startswith("2030-01-02T03:04:0")
    naive = http.post("/_mock/clock/set", json={"time": "2030-01-02T03:04:05"}).json()
    assert naive["now"] == pytest.approx(body["now"], abs=1)


def test_freeze_stops_time_and_unfreeze_resumes_from_there(http, idp):
    frozen = http.post("/_mock/clock/freeze", json={}).json()
    assert frozen["frozen"] is True
    time.sleep(0.05)
    assert http.get("/_mock/clock").json()["now"] == frozen["now"]
    advanced = http.post("/_mock/clock/advance", json={"seconds": 60}).json()
    assert advanced["now"] == pytest.approx(frozen["now"] + 60)
    resumed = http.post("/_mock/clock/unfreeze", json={}).json()
    assert resumed["frozen"] is False
    assert resumed["now"] == pytest.approx(frozen["now"] + 60, abs=1)
    assert [e["action"] for e in events(idp, "clock.changed")] == [
        "freeze",
        "advance",
        "unfreeze",
    ]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/_mock/clock/advance", {}),
        ("/_mock/clock/advance", {"seconds": "ten"}),
        ("/_mock/clock/advance", {"seconds": True}),
        ("/_mock/clock/advance", {"seconds": 10**12}),
        ("/_mock/clock/advance", [10]),
        ("/_mock/clock/set", {"time": "next tuesday"}),
        ("/_mock/clock/set", {"time": -5}),
        ("/_mock/clock/set", {}),
    ],
)
def test_bad_clock_input_is_400_and_leaves_the_clock_alone(http, idp, path, body):
    response = http.post(path, json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert response.json()["error_description"]
    assert idp.clock.offset == 0


def test_invalid_json_is_400_not_500(http):
    response = http.post(
        "/_mock/clock/advance", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error_description"]


# reset and seed --------------------------------------------------------------------------


def test_reset_forgets_sessions_and_clock_and_restores_work_items(http, idp):
    alice = login(idp)
    http.delete(f"{JIRA}/issue/ACME-1", headers=alice.headers)
    http.post("/_mock/clock/advance", json={"seconds": 500})
    http.post("/_mock/faults", json={"path": "/me", "status": 500})
    response = http.post("/_mock/reset", json={})
    assert response.status_code == 200
    assert response.json()["faults_cleared"] == 1
    assert idp.clock.offset == 0
    assert http.get("/me", headers=alice.headers).status_code == 401
    assert http.get("/_mock/faults").json() == {"faults": []}
    fresh = login(idp)
    keys = [i["key"] for i in http.get(f"{JIRA}/search", headers=fresh.headers).json()["issues"]]
    assert keys == ["ACME-1", "ACME-2", "ACME-3"]


def test_seed_adds_a_world_usable_at_once(http, idp):
    document = {
        "orgs": [{"id": "org-initech", "name": "Initech"}],
        "sites": [
            {
                "id": "site-initech",
                "org_id": "org-initech",
                "name": "initech",
                "url": "https://initech.atlassian.net",
            }
        ],
        "users": [
            {
                "account_id": "acc-peter",
                "email": "peter@initech.test",
                "name": "Peter Gibbons",
                "site_access": {"site-initech": ["read"]},
            }
        ],
        "admin_keys": [
            {"key": "initech-admin-key", "org_id": "org-initech", "email": "bill@initech.test"}
        ],
    }
    response = http.post("/_mock/seed", json=document)
    assert response.status_code == 200
    assert response.json()["applied"]["orgs"] == 1
    assert idp.store.get(Site, "site-initech").name == "initech"
    users = http.get(
        "/admin/v1/orgs/org-initech/users", headers={"Authorization": "Bearer initech-admin-key"}
    ).json()
    assert [u["email"] for u in users["data"]] == ["peter@initech.test"]
    peter = login(idp, "peter@initech.test", site_id="site-initech")
    search = http.get("/ex/jira/site-initech/rest/api/3/search", headers=peter.headers)
    assert search.json()["issues"][0]["key"] == "INITECH-1"


@pytest.mark.parametrize(
    "document",
    [
        {"sites": [{"id": "s", "org_id": "no-such-org", "name": "s", "url": "https://s"}]},
        {"orgs": [{"id": "o"}]},
        {"orgs": ["not an object"]},
        {"users": [{"account_id": "a", "email": "a@x", "name": "A", "site_access": ["read"]}]},
        {
            "users": [
                {
                    "account_id": "a",
                    "email": "a@x",
                    "name": "A",
                    "site_access": {ACME_SITE_ID: ["admin"]},
                }
            ]
        },
        {"bitbucket_tokens": [{"token": "t", "email": "nobody@example.com"}]},
        ["not", "an", "object"],
    ],
)
def test_a_bad_seed_is_400_and_adds_nothing(http, idp, document):
    orgs_before = len(idp.store.all(Org))
    users_before = len(idp.store.all(User))
    response = http.post("/_mock/seed", json=document)
    assert response.status_code == 400
    assert response.json()["error_description"]
    assert len(idp.store.all(Org)) == orgs_before
    assert len(idp.store.all(User)) == users_before


# settings --------------------------------------------------------------------------------


def test_settings_show_values_but_never_the_control_token(http):
    body = http.get("/_mock/settings").json()
    assert body["access_token_ttl"] == 8 * 3600
    assert body["invalid_grant_status"] == 403
    assert body["control_token"] is None


def test_patch_settings_changes_lifetimes_at_runtime(http, idp):
    response = http.patch(
        "/_mock/settings",
        json={"access_token_ttl": 60, "refresh_reuse_grace": 600, "invalid_grant_status": 403},
    )
    assert response.status_code == 200
    assert response.json()["access_token_ttl"] == 60
    assert idp.settings.invalid_grant_status == 403
    alice = login(idp)
    idp.clock.advance(61)
    assert http.get("/me", headers=alice.headers).status_code == 401
    assert events(idp, "settings.changed")[-1]["changes"]["access_token_ttl"] == 60


@pytest.mark.parametrize(
    "patch",
    [
        {"no_such_setting": 1},
        {"access_token_ttl": 0},
        {"access_token_ttl": "soon"},
        {"refresh_idle_ttl": True},
        {"invalid_grant_status": 418},
        {"control_token": "mine-now"},
        {"issuer": "ftp://x"},
        {"access_token_ttl": 60, "bogus": 1},
        [1],
    ],
)
def test_bad_settings_patch_is_400_and_changes_nothing(http, idp, patch):
    response = http.patch("/_mock/settings", json=patch)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert idp.settings == Settings()


# sessions and audit ----------------------------------------------------------------------


def test_sessions_lists_families_with_status_and_no_secrets(http, idp):
    alice, bob = login(idp, ALICE), login(idp, BOB)
    idp.sessions.revoke_sessions(org_id=ACME_ORG_ID, account_id=bob.family.account_id)
    response = http.get("/_mock/sessions")
    sessions = {s["id"]: s for s in response.json()["sessions"]}
    assert sessions[alice.family.id]["status"] == "live"
    assert sessions[alice.family.id]["email"] == ALICE
    assert sessions[bob.family.id]["status"] == "revoked"
    assert sessions[bob.family.id]["revoked_reason"] == "org_admin"
    for secret in (alice.access_token, alice.refresh_token, bob.refresh_token):
        assert secret not in response.text
    http.post("/_mock/clock/advance", json={"seconds": 31 * DAY})
    sessions = {s["id"]: s for s in http.get("/_mock/sessions").json()["sessions"]}
    assert sessions[alice.family.id]["status"] == "inactive"


def test_audit_filters_by_id_and_event_prefix(http, idp):
    first = login(idp)
    mark = http.get("/_mock/audit").json()["events"][-1]["id"]
    http.get("/me", headers=first.headers)
    http.post("/_mock/clock/advance", json={"seconds": 1})
    body = http.get(f"/_mock/audit?since={mark}").json()
    assert [e["event"] for e in body["events"]] == ["api.call", "clock.changed"]
    assert all(e["id"] > mark for e in body["events"])
    only = http.get("/_mock/audit?event=clock.").json()["events"]
    assert [e["event"] for e in only] == ["clock.changed"]
    event = only[0]
    assert set(event) == {"id", "at", "at_iso", "event", "details"}
    assert datetime.fromisoformat(event["at_iso"]).timestamp() == pytest.approx(event["at"])


def test_audit_rejects_a_bad_since(http):
    response = http.get("/_mock/audit?since=yesterday")
    assert response.status_code == 400


# control token ---------------------------------------------------------------------------


@pytest.mark.parametrize("idp_settings", [Settings(control_token="s3cret-control")])
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-control"}],
)
def test_control_token_guards_every_control_route(http, idp, headers):
    for method, path in [
        ("GET", "/_mock/clock"),
        ("POST", "/_mock/clock/advance"),
        ("POST", "/_mock/reset"),
        ("GET", "/_mock/audit"),
        ("PATCH", "/_mock/settings"),
        ("POST", "/_mock/faults"),
    ]:
        response = http.request(method, path, json={"seconds": 5}, headers=headers)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert idp.clock.offset == 0


@pytest.mark.parametrize("idp_settings", [Settings(control_token="s3cret-control")])
def test_the_right_control_token_is_accepted_and_never_shown(http, idp):
    headers = {"Authorization": "Bearer s3cret-control"}
    advanced = http.post("/_mock/clock/advance", json={"seconds": 5}, headers=headers)
    assert advanced.status_code == 200
    shown = http.get("/_mock/settings", headers=headers)
    assert shown.json()["control_token"] == "set"
    assert "s3cret-control" not in shown.text
    assert "s3cret-control" not in repr(idp.audit.events())
