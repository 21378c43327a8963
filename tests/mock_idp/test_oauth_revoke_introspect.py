"""RFC 7009 revocation and RFC 7662 introspection, both open to a public client that
sends only its client_id; activity is decided by the mock's clock."""

from __future__ import annotations

import base64

import pytest
from starlette.testclient import TestClient

from mock_idp.secrets_util import fingerprint
from mock_idp.seed import CLI_CLIENT_ID, apply_seed
from mock_idp.settings import Settings
from tests.mock_idp.helpers import events, user
from tests.mock_idp.oauth_flow import browser_login, refresh


@pytest.fixture
def idp_settings() -> Settings:
    # Written for the strict variant: no reuse leeway, RFC 6749's 400 for invalid_grant
    # (the defaults follow Atlassian: docs/mock-defaults.md).
    return Settings(refresh_reuse_grace=0, invalid_grant_status=400)


ISSUER = "http://127.0.0.1"
OTHER = "other-app"
OTHER_SECRET = "other-app-secret"


@pytest.fixture
def tokens(web) -> dict[str, str]:
    return browser_login(web)


@pytest.fixture
def other_client(idp) -> str:
    client = {
        "client_id": OTHER,
        "name": "Other app",
        "redirect_uris": ["https://other.example/cb"],
        "grant_types": ["authorization_code", "refresh_token"],
        "client_secret": OTHER_SECRET,
    }
    apply_seed(idp.store, {"clients": [client]}, idp.clock.now())
    return OTHER


def revoke(web: TestClient, token: str | None, **extra: str):
    data = {"client_id": CLI_CLIENT_ID, **extra}
    if token is not None:
        data["token"] = token
    return web.post("/oauth/revoke", data=data)


def introspect(web: TestClient, token: str | None, **extra: str):
    data = {"client_id": CLI_CLIENT_ID, **extra}
    if token is not None:
        data["token"] = token
    return web.post("/oauth/introspect", data=data)


# RFC 7009 ---------------------------------------------------------------------------------
def test_revoking_the_refresh_token_ends_the_session(web, idp, tokens) -> None:
    answer = revoke(web, tokens["refresh_token"], token_type_hint="refresh_token")
    assert answer.status_code == 200
    assert answer.content == b""
    assert refresh(web, tokens["refresh_token"]).status_code == 400
    # Section 2.1: the access tokens of the same grant go too.
    assert idp.sessions.check_access(tokens["access_token"]) is None
    assert events(idp, "token.revoked")[-1]["token_type"] == "refresh_token"


def test_revoking_an_access_token_without_a_hint(web, idp, tokens) -> None:
    assert revoke(web, tokens["access_token"]).status_code == 200
    assert idp.sessions.check_access(tokens["access_token"]) is None
    assert refresh(web, tokens["refresh_token"]).status_code == 200


def test_a_wrong_hint_does_not_stop_revocation(web, tokens) -> None:
    assert revoke(web, tokens["refresh_token"], token_type_hint="access_token").status_code == 200
    assert refresh(web, tokens["refresh_token"]).status_code == 400


def test_unknown_token_revocation_is_still_200(web) -> None:
    assert revoke(web, "never-issued").status_code == 200


def test_another_clients_token_is_not_revoked_but_answered_200(web, tokens, other_client) -> None:
    answer = revoke(web, tokens["refresh_token"], client_id=OTHER, client_secret=OTHER_SECRET)
    assert answer.status_code == 200
    assert refresh(web, tokens["refresh_token"]).status_code == 200


def test_revocation_without_a_token_is_invalid_request(web) -> None:
    answer = revoke(web, None)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_revocation_by_an_unknown_client_is_invalid_client(web, tokens) -> None:
    answer = revoke(web, tokens["refresh_token"], client_id="nobody")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_client"
    assert refresh(web, tokens["refresh_token"]).status_code == 200


def test_revocation_accepts_basic_auth_for_a_confidential_client(web, other_client) -> None:
    basic = base64.b64encode(f"{OTHER}:{OTHER_SECRET}".encode()).decode()
    answer = web.post(
        "/oauth/revoke", data={"token": "x"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert answer.status_code == 200
    wrong = base64.b64encode(f"{OTHER}:nope".encode()).decode()
    refused = web.post(
        "/oauth/revoke", data={"token": "x"}, headers={"Authorization": f"Basic {wrong}"}
    )
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_revocation_garbage_body_is_a_4xx(web) -> None:
    answer = web.post("/oauth/revoke", content=b"\xff", headers={"content-type": "text/plain"})
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_request",
        "error_description": "The body is not UTF-8.",
    }


# RFC 7662 ---------------------------------------------------------------------------------
@pytest.fixture
def frozen_clock(idp) -> float:
    """The mock's clock stopped, so a whole-second timestamp is known exactly."""
    idp.clock.freeze()
    return float(idp.clock.now())


def test_introspecting_a_live_access_token(web, idp, frozen_clock, tokens) -> None:
    answer = introspect(web, tokens["access_token"])
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    alice = user(idp, "alice@example.com")
    assert body["active"] is True
    assert body["scope"] == tokens["scope"]
    assert body["client_id"] == CLI_CLIENT_ID
    assert body["username"] == "alice@example.com"
    assert body["sub"] == alice.account_id
    assert body["token_type"] == "Bearer"
    assert body["iss"] == ISSUER
    assert body["exp"] - body["iat"] == idp.settings.access_token_ttl
    assert body["iat"] == int(frozen_clock)


def test_introspecting_a_live_refresh_token(web, idp) -> None:
    idp.clock.freeze()  # the expiry is counted from the sign-in: no second may pass
    tokens = browser_login(web)
    body = introspect(web, tokens["refresh_token"], token_type_hint="refresh_token").json()
    assert body["active"] is True
    assert body["username"] == "alice@example.com"
    assert body["exp"] == int(idp.clock.now() + idp.settings.refresh_idle_ttl)


def test_introspection_does_not_count_as_refresh_reuse(web, tokens) -> None:
    introspect(web, tokens["refresh_token"])
    introspect(web, tokens["refresh_token"])
    assert refresh(web, tokens["refresh_token"]).status_code == 200


def test_expired_access_token_is_inactive_by_the_mock_clock(web, idp, tokens) -> None:
    idp.clock.advance(idp.settings.access_token_ttl + 1)
    assert introspect(web, tokens["access_token"]).json() == {"active": False}


def test_idle_expired_refresh_token_is_inactive(web, idp, tokens) -> None:
    idp.clock.advance(31 * 86400)
    assert introspect(web, tokens["refresh_token"]).json() == {"active": False}


def test_revoked_and_rotated_tokens_are_inactive(web, tokens) -> None:
    rotated = refresh(web, tokens["refresh_token"]).json()
    assert introspect(web, tokens["refresh_token"]).json() == {"active": False}
    revoke(web, rotated["refresh_token"])
    assert introspect(web, rotated["refresh_token"]).json() == {"active": False}
    assert introspect(web, rotated["access_token"]).json() == {"active": False}


def test_unknown_and_foreign_tokens_are_inactive(web, tokens, other_client) -> None:
    assert introspect(web, "never-issued").json() == {"active": False}
    foreign = introspect(web, tokens["access_token"], client_id=OTHER, client_secret=OTHER_SECRET)
    assert foreign.json() == {"active": False}


def test_introspection_without_a_token_is_invalid_request(web) -> None:
    answer = introspect(web, None)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_introspection_by_an_unknown_client_is_invalid_client(web, tokens) -> None:
    answer = introspect(web, tokens["access_token"], client_id="nobody")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_client"


def test_introspection_is_audited_with_a_fingerprint_only(web, idp, tokens) -> None:
    introspect(web, tokens["access_token"])
    audited = events(idp, "token.introspected")
    assert len(audited) == 1
    assert audited[0]["fp"] == fingerprint(tokens["access_token"])
    assert audited[0]["active"] is True
    assert tokens["access_token"] not in str(audited)
