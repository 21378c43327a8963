"""State anyone can create is bounded and expires; private state is private."""

from __future__ import annotations

import sqlite3
import stat

import pytest

from mock_idp import oauth_routes, registration
from mock_idp.models import Client
from mock_idp.seed import CLI_CLIENT_ID
from mock_idp.store import SQLiteStore
from tests.mock_idp.helpers import login
from tests.mock_idp.oauth_flow import (
    Pkce,
    authorize_params,
    query_of,
    redeem,
    sign_in_and_consent,
    tx_of,
)

PUBLIC = {"token_endpoint_auth_method": "none"}


def _start(web, pkce: Pkce | None = None):
    return web.get("/authorize", params=authorize_params(pkce or Pkce.new()))


def _sign_in(web, start_location: str):
    tx = tx_of(start_location)
    assert web.get(start_location).status_code == 200
    return web.post("/authorize/login", data={"tx": tx, "email": "alice@example.com"})


def test_signed_in_sign_ins_are_capped_and_expire_on_the_mock_clock(web, idp):
    idp.interactions.max_per_kind = 2
    assert _sign_in(web, _start(web).headers["location"]).status_code == 303
    assert _sign_in(web, _start(web).headers["location"]).status_code == 303
    full = _sign_in(web, _start(web).headers["location"])
    assert full.status_code == 429
    assert "Too many sign-ins" in full.text
    assert len(idp.interactions) == 2
    idp.clock.advance(601)
    assert _sign_in(web, _start(web).headers["location"]).status_code == 303
    assert len(idp.interactions) == 1


def test_device_codes_are_capped_and_purged_after_expiry(web, idp, monkeypatch):
    monkeypatch.setattr(oauth_routes, "MAX_LIVE_DEVICE_CODES", 3)
    asked = [
        web.post("/oauth/device/code", data={"client_id": CLI_CLIENT_ID}).status_code
        for _ in range(4)
    ]
    assert asked == [200, 200, 200, 429]
    idp.clock.advance(idp.settings.device_code_ttl + oauth_routes.EXPIRED_DEVICE_CODE_KEPT)
    assert web.post("/oauth/device/code", data={"client_id": CLI_CLIENT_ID}).status_code == 200
    from mock_idp.models import DeviceCode

    assert len(idp.store.all(DeviceCode)) == 1


def test_registered_clients_are_capped_and_purged_when_old_and_unused(web, idp, monkeypatch):
    monkeypatch.setattr(registration, "MAX_REGISTERED_CLIENTS", 2)
    body = {"redirect_uris": ["https://rp.example/cb"]}
    statuses = [web.post("/oauth/register", json=body).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    idp.clock.advance(registration.REGISTRATION_TTL)
    assert web.post("/oauth/register", json=body).status_code == 201
    registered = [c for c in idp.store.all(Client) if c.dynamically_registered]
    assert len(registered) == 1


def test_a_registered_client_with_a_live_session_is_never_purged(web, idp, monkeypatch):
    monkeypatch.setattr(registration, "MAX_REGISTERED_CLIENTS", 1)
    body = {"redirect_uris": ["https://rp.example/cb"]}
    client_id = web.post("/oauth/register", json=body).json()["client_id"]
    login(idp, client_id=client_id)
    idp.clock.advance(registration.REGISTRATION_TTL)
    assert web.post("/oauth/register", json=body).status_code == 429
    assert idp.store.get(Client, client_id) is not None


@pytest.mark.parametrize(
    "uri",
    [
        "http://rp.example/cb",  # plain http off loopback
        "http://192.168.1.5/cb",
        "javascript:alert(1)",
        "myapp:/cb",  # a private-use scheme is a reverse domain name
        "https://user:pw@rp.example/cb",
    ],
)
def test_public_clients_may_not_register_unsafe_redirects(web, uri):
    answer = web.post("/oauth/register", json={"redirect_uris": [uri], **PUBLIC})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_redirect_uri"


@pytest.mark.parametrize(
    "uri",
    ["http://127.0.0.1/cb", "http://[::1]:8000/cb", "https://rp.example/cb", "com.rp.app:/cb"],
)
def test_public_clients_may_register_loopback_https_and_private_use_redirects(web, idp, uri):
    answer = web.post("/oauth/register", json={"redirect_uris": [uri], **PUBLIC})
    assert answer.status_code == 201, answer.text
    client = idp.store.get(Client, answer.json()["client_id"])
    assert client is not None
    assert client.dynamically_registered is True
    first_party = idp.store.get(Client, CLI_CLIENT_ID)
    assert first_party is not None
    assert first_party.dynamically_registered is False


@pytest.mark.parametrize("name", ["Teamwork Graph CLI", "teamwork-graph cli (official)"])
def test_a_registered_client_may_not_take_the_first_party_name(web, name):
    answer = web.post(
        "/oauth/register", json={"redirect_uris": ["https://rp.example/cb"], "client_name": name}
    )
    assert answer.status_code == 400
    assert answer.json()["error_description"] == (
        "client_name may not resemble the first-party client 'Teamwork Graph CLI'."
    )


def test_registration_without_a_scope_gets_identity_scopes_only(web):
    answer = web.post("/oauth/register", json={"redirect_uris": ["https://rp.example/cb"]})
    assert answer.json()["scope"] == "read:me read:account"


def test_a_huge_user_agent_is_clipped_in_the_audit_log(web, idp):
    alice = login(idp)
    headers = {**alice.headers, "User-Agent": "A" * 20_000}
    assert web.get("/me", headers=headers).status_code == 200
    logged = [str(v) for e in idp.audit.events() for v in e.details.values()]
    assert max(len(v) for v in logged) == 259  # 256 characters and "..."


def test_pkce_verifier_with_a_trailing_newline_is_refused(web):
    pkce = Pkce("v" * 128 + "\n", "")
    pkce.challenge = Pkce.new().challenge  # any; the syntax check comes first
    started = web.get("/authorize", params=authorize_params(pkce))
    answer = sign_in_and_consent(web, started.headers["location"])
    code = query_of(answer.headers["location"])["code"]
    refused = redeem(web, code, pkce)
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_request",
        "error_description": "Invalid 'code_verifier'",
    }


def test_sqlite_state_is_0600_in_a_0700_directory(tmp_path):
    path = tmp_path / "state" / "mock.db"
    store = SQLiteStore(path)
    store.add_audit(0.0, "x", {})
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for name in ("mock.db", "mock.db-wal", "mock.db-shm"):
        assert stat.S_IMODE((path.parent / name).stat().st_mode) == 0o600, name
    store.close()


def test_an_existing_loose_sqlite_file_is_made_0600(tmp_path):
    path = tmp_path / "mock.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    SQLiteStore(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_sqlite_audit_table_is_trimmed_to_the_audit_limit(tmp_path):
    path = tmp_path / "mock.db"
    store = SQLiteStore(path, audit_limit=10)
    for n in range(2000):
        store.add_audit(float(n), "e", {})
    store.close()
    rows = sqlite3.connect(path).execute("SELECT MIN(id), COUNT(*) FROM audit").fetchone()
    assert rows == (1991, 10)


def test_queued_faults_are_capped(web, monkeypatch):
    from mock_idp import faults

    monkeypatch.setattr(faults, "MAX_PENDING", 2)
    spec = {"path": "/me", "status": 503}
    statuses = [web.post("/_mock/faults", json=spec).status_code for _ in range(3)]
    assert statuses == [201, 201, 400]
    assert web.post("/_mock/faults", json=spec).json()["error_description"] == (
        "2 faults are already queued: DELETE /_mock/faults first."
    )
