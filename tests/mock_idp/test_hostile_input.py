"""Hand-made hostile input: each gets its one exact 4xx JSON answer, never a 5xx."""

from __future__ import annotations

import base64
import json

import pytest

from mock_idp.app import create_app
from mock_idp.seed import ACME_ADMIN_KEY, ACME_ORG_ID, ACME_SITE_ID, CLI_CLIENT_ID
from mock_idp.settings import Settings
from mock_idp.store import SQLiteStore
from tests.mock_idp.helpers import BODY_ROUTES, login

JIRA = f"/ex/jira/{ACME_SITE_ID}/rest/api/3"
ORG = f"/admin/v1/orgs/{ACME_ORG_ID}"
DEEP = b"[" * 20_000 + b"]" * 20_000  # 40 KB: RecursionError in json.loads unguarded
BODY_ENDPOINTS = [
    *BODY_ROUTES,
    ("PUT", f"{ORG}/twg-cli/permissions"),
    ("POST", f"{JIRA}/issue"),
    ("PUT", f"{JIRA}/issue/ACME-1"),
]
JSON = {"Content-Type": "application/json"}


def _auth(idp, path: str) -> dict[str, str]:
    if path.startswith("/admin"):
        return {"Authorization": f"Bearer {ACME_ADMIN_KEY}"}
    if path.startswith("/ex/"):
        return login(idp).headers
    return {}


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_deeply_nested_json_is_a_400_on_every_body_endpoint(web, idp, method, path):
    response = web.request(method, path, content=DEEP, headers={**JSON, **_auth(idp, path)})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The JSON body is nested more than 32 levels deep.",
    }


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_a_body_over_the_limit_is_a_413_on_every_body_endpoint(http, idp, method, path):
    limit = 64 * 1024 if path.startswith(("/oauth/", "/authorize", "/device")) else 1024 * 1024
    response = http.request(
        method, path, content=b"a" * (limit + 1), headers={**JSON, **_auth(idp, path)}
    )
    assert response.status_code == 413
    assert response.json()["error_description"] == (
        f"The request body is larger than {limit} bytes."
    )


def test_a_chunked_body_without_length_is_cut_off_at_the_limit(http):
    def chunks():
        for _ in range(200):  # 200 x 8 KB = 1.6 MB, sent as it is made
            yield b"x" * 8192

    response = http.post("/oauth/revoke", content=chunks())
    assert response.status_code == 413


def test_invalid_utf8_form_body_is_a_400(web):
    response = web.post(
        "/oauth/token",
        content=b"grant_type=\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400
    assert response.json()["error_description"] == "The body is not UTF-8."


@pytest.mark.parametrize("host", ["login.evil.example", "127.0.0.1.evil.example", "10.0.0.1"])
def test_unknown_hosts_are_refused_on_every_route(web, host):
    for method, path in [
        ("GET", "/.well-known/oauth-authorization-server"),
        ("POST", "/oauth/token"),
        ("GET", "/authorize"),
        ("GET", "/_mock/clock"),
    ]:
        response = web.request(method, path, headers={"Host": host})
        assert response.status_code == 421, path
        assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("host", ["bad host", "a:b:c", "x" * 300, "[zz]", "127.0.0.1:99999"])
def test_malformed_host_headers_are_a_400(web, host):
    response = web.get("/.well-known/oauth-authorization-server", headers={"Host": host})
    assert response.status_code == 400
    assert response.json()["error_description"] == "The Host header is not a valid host name."


@pytest.mark.parametrize("host", ["localhost", "localhost:1", "127.0.0.1:8080", "[::1]:9"])
def test_loopback_hosts_on_any_port_are_served(web, host):
    response = web.get("/.well-known/oauth-authorization-server", headers={"Host": host})
    assert response.status_code == 200
    assert response.json()["issuer"] == f"http://{host}"


@pytest.mark.parametrize("idp_settings", [Settings(allowed_hosts=["mock-idp"])])
def test_a_configured_host_is_served_with_its_own_issuer(web):
    response = web.get("/.well-known/oauth-authorization-server", headers={"Host": "mock-idp:8080"})
    assert response.json()["issuer"] == "http://mock-idp:8080"


def test_allowed_hosts_come_from_the_environment_comma_separated():
    settings = Settings.load(environ={"TWG_MOCK_ALLOWED_HOSTS": "mock-idp, idp.test"})
    assert settings.allowed_hosts == ["mock-idp", "idp.test"]


@pytest.mark.parametrize("since", ["²", "-1", "1.5", "9" * 19, "0x10", " 1"])
def test_odd_audit_since_values_are_a_400(web, since):
    response = web.get("/_mock/audit", params={"since": since})
    assert response.status_code == 400
    assert response.json()["error_description"] == (
        "'since' must be an audit event id (a whole number, 0 or more)."
    )


@pytest.mark.parametrize(
    "header",
    [
        b"Basic \xe9\xe9\xe9",
        b"Basic " + base64.b64encode("alice@example.com:p\xe4ss".encode("latin-1")),
        b"Basic " + base64.b64encode(b"\xff\xfe:\x80"),
        b"Basic ====",
    ],
)
def test_bitbucket_odd_basic_credentials_are_a_401(web, header):
    response = web.get("/2.0/user", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="Bitbucket.org HTTP"'


@pytest.mark.parametrize(
    "when", ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00", "1969-12-31T23:59:59Z", 4e10, -1]
)
def test_the_clock_cannot_be_set_outside_1970_to_3000(web, idp, when):
    response = web.post("/_mock/clock/set", json={"time": when})
    assert response.status_code == 400
    assert response.json()["error_description"].endswith(
        "The mock clock stays between 1970-01-01 and 3000-01-01 (UTC)."
    )
    assert idp.clock.offset == 0


def test_the_clock_cannot_be_advanced_out_of_range_and_the_mock_stays_healthy(web, idp):
    assert web.post("/_mock/clock/set", json={"time": "2999-12-30T00:00:00Z"}).status_code == 200
    response = web.post("/_mock/clock/advance", json={"seconds": 3 * 86_400})
    assert response.status_code == 400
    assert web.get("/.well-known/oauth-authorization-server").status_code == 200
    assert web.post("/oauth/device/code", data={"client_id": CLI_CLIENT_ID}).status_code == 200


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"access_token_ttl": 1e30}, "'access_token_ttl' must be a whole number of seconds"),
        ({"refresh_idle_ttl": 10**12}, "'refresh_idle_ttl' must be a whole number of seconds"),
        ({"auth_code_ttl": 0}, "'auth_code_ttl' must be a whole number of seconds"),
        ({"issuer": "http://x.example/?q=1"}, "'issuer' must be an http(s) URL"),
        ({"issuer": "http://x.example:99999"}, "'issuer' must be an http(s) URL"),
        ({"allowed_hosts": ["evil.example"]}, "'allowed_hosts' is fixed at start-up"),
        ({"nope": 1}, "Unknown setting 'nope'."),
    ],
)
def test_settings_patch_is_validated(web, idp, patch, message):
    response = web.patch("/_mock/settings", json=patch)
    assert response.status_code == 400
    assert response.json()["error_description"].startswith(message)
    assert idp.settings.access_token_ttl == Settings().access_token_ttl


def test_runtime_settings_survive_a_restart_with_sqlite_state(tmp_path):
    from starlette.testclient import TestClient

    path = tmp_path / "state.db"
    first = create_app(store=SQLiteStore(path))
    with TestClient(first, base_url="http://127.0.0.1") as client:
        assert client.patch("/_mock/settings", json={"access_token_ttl": 60}).status_code == 200
    first.state.idp.store.close()
    second = create_app(store=SQLiteStore(path))
    assert second.state.idp.settings.access_token_ttl == 60
    second.state.idp.store.close()


def test_reset_restores_the_started_settings_and_drops_sign_ins(web, idp):
    started = web.get(
        "/authorize",
        params={
            "response_type": "code",
            "client_id": CLI_CLIENT_ID,
            "redirect_uri": "http://127.0.0.1:5000/callback",
            "code_challenge": "a" * 43,
            "code_challenge_method": "S256",
            "scope": "read:me",
        },
    )
    assert started.status_code == 303
    web.patch("/_mock/settings", json={"access_token_ttl": 60, "invalid_grant_status": 403})
    assert web.post("/_mock/reset", json={}).status_code == 200
    assert idp.settings.access_token_ttl == Settings().access_token_ttl
    assert idp.settings.invalid_grant_status == Settings().invalid_grant_status
    assert len(idp.interactions) == 0


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"planets": []}, "unknown kind(s): planets"),
        ({"orgs": {"id": "o"}}, "'orgs' must be a list"),
        ({"orgs": ["o"]}, "orgs[0] must be an object"),
        ({"orgs": [{"id": 1, "name": "x"}]}, "orgs[0].id has the wrong type"),
        ({"users": [{"account_id": "a", "email": "e", "name": "n", "site_access": None}]}, ""),
        ({"sites": [{"id": "s", "org_id": "o", "name": "n", "url": "u", "x": 1}]}, ""),
    ],
)
def test_seed_refuses_unknown_keys_and_wrong_types_and_changes_nothing(web, idp, document, message):
    before = json.dumps(web.get("/_mock/audit").json()["events"])
    response = web.post("/_mock/seed", json=document)
    assert response.status_code == 400
    assert response.json()["error_description"].startswith("The seed was not applied: " + message)
    assert json.dumps(web.get("/_mock/audit").json()["events"]) == before


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
@pytest.mark.parametrize("text", [b'"\\ud800"', b'"\\udfff x"', b'"\xed\xa0\x80"'])
def test_json_strings_that_are_not_text_are_a_400_on_every_body_endpoint(
    web, idp, method, path, text
):
    body = b'{"path": ' + text + b', "redirect_uris": [' + text + b"]}"
    response = web.request(method, path, content=body, headers={**JSON, **_auth(idp, path)})
    assert response.status_code == 400
    assert response.json()["error_description"] == (
        "The JSON body holds an unpaired surrogate (\\ud800-\\udfff): not text."
    )


def test_a_surrogate_pair_is_text_and_accepted(web):
    body = b'{"orgs": [{"id": "o-emoji", "name": "\\ud83d\\ude00 corp"}]}'
    response = web.post("/_mock/seed", content=body, headers=JSON)
    assert response.status_code == 200
