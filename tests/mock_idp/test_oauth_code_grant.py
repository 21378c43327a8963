"""The authorization_code grant over a real socket: PKCE at the token endpoint, single-use
codes (a replay revokes what the first use issued: OAuth 2.1 section 4.1.3), expiry by the
mock clock, binding to client and redirect_uri, and the token response's shape."""

from __future__ import annotations

import httpx
import pytest

from mock_idp.seed import ACME_SITE_ID
from mock_idp.settings import Settings
from tests.mock_idp.helpers import events
from tests.mock_idp.oauth_flow import (
    REDIRECT_URI,
    Pkce,
    authorize,
    authorize_params,
    redeem,
    refresh,
)
from twg.lazy_tls import trust_store


@pytest.fixture
def idp_settings() -> Settings:
    # Written for the strict variant: no reuse leeway, RFC 6749's 400 for invalid_grant
    # (the defaults follow Atlassian: docs/mock-defaults.md).
    return Settings(refresh_reuse_grace=0, invalid_grant_status=400)


def code_for(http: httpx.Client, **overrides: str | None) -> tuple[str, Pkce]:
    pkce = Pkce.new()
    return authorize(http, authorize_params(pkce, **overrides))["code"], pkce


def test_code_exchange_returns_bearer_tokens_with_the_granted_scope(
    http: httpx.Client, idp
) -> None:
    code, pkce = code_for(http)
    response = redeem(http, code, pkce)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == idp.settings.access_token_ttl == 8 * 3600
    assert body["scope"].split() == [
        "read:me",
        "read:jira-work",
        "write:jira-work",
        "offline_access",
    ]
    assert body["access_token"]
    assert body["refresh_token"]
    assert body["access_token"] != body["refresh_token"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")
    assert idp.sessions.check_access(body["access_token"]) is not None


def test_no_refresh_token_without_offline_access(http: httpx.Client) -> None:
    code, pkce = code_for(http, scope="read:me read:jira-work")
    body = redeem(http, code, pkce).json()
    assert "refresh_token" not in body
    assert body["access_token"]
    assert body["scope"] == "read:me read:jira-work"


def test_wrong_code_verifier_is_invalid_grant(http: httpx.Client, idp) -> None:
    code, _ = code_for(http)
    response = redeem(http, code, Pkce.new())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.headers["cache-control"] == "no-store"
    assert not events(idp, "token.issued")


def test_missing_code_verifier_is_refused(http: httpx.Client) -> None:
    code, _pkce = code_for(http)
    response = http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": "twg-cli",
        },
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "Missing 'code_verifier'",
    }


def test_a_code_works_once_and_a_replay_revokes_the_family_of_its_first_use(
    http: httpx.Client, idp
) -> None:
    code, pkce = code_for(http)
    first = redeem(http, code, pkce).json()
    replay = redeem(http, code, pkce)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert "already used" in replay.json()["error_description"]
    assert [e["event"] for e in events(idp, "code.")] == [
        "code.issued",
        "code.redeemed",
        "code.replayed",
    ]
    assert code not in str(events(idp, ""))
    # The tokens of the first use are dead: someone else may hold the code.
    dead = refresh(http, first["refresh_token"])
    assert dead.status_code == 400
    assert dead.json()["error"] == "invalid_grant"
    assert dead.json()["error_description"] == (
        "Authorization code was used twice; the session was revoked."
    )
    assert idp.sessions.check_access(first["access_token"]) is None
    introspected = http.post(
        "/oauth/introspect", data={"token": first["access_token"], "client_id": "twg-cli"}
    ).json()
    assert introspected == {"active": False}
    replayed = events(idp, "code.replayed")
    revoked = events(idp, "family.revoked")
    assert len(replayed) == 1
    assert len(revoked) == 1
    assert revoked[0]["reason"] == "code_replay"
    assert replayed[0]["family"] == revoked[0]["family"]


def test_code_expires_by_the_mock_clock(http: httpx.Client, idp) -> None:
    code, pkce = code_for(http)
    idp.clock.advance(idp.settings.auth_code_ttl + 1)
    response = redeem(http, code, pkce)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Authorization code has expired.",
    }


def test_code_just_within_its_lifetime_still_works(http: httpx.Client, idp) -> None:
    code, pkce = code_for(http)
    idp.clock.advance(idp.settings.auth_code_ttl - 1)
    assert redeem(http, code, pkce).status_code == 200


def test_code_is_bound_to_the_redirect_uri_it_was_issued_for(http: httpx.Client) -> None:
    code, pkce = code_for(http)
    response = redeem(http, code, pkce, redirect_uri="http://127.0.0.1:53683/callback")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_is_bound_to_the_client_it_was_issued_to(http: httpx.Client, idp) -> None:
    from mock_idp.seed import apply_seed

    apply_seed(
        idp.store,
        {"clients": [{"client_id": "other-cli", "redirect_uris": ["http://127.0.0.1/callback"]}]},
        idp.clock.now(),
    )
    code, pkce = code_for(http)
    response = redeem(http, code, pkce, client_id="other-cli")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    # The rightful client can still redeem it: the failed attempt did not burn it.
    assert redeem(http, code, pkce).status_code == 200


def test_unknown_code_is_invalid_grant(http: httpx.Client) -> None:
    response = redeem(http, "not-a-code", Pkce.new())
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_invalid_grant_status_setting_is_used(http: httpx.Client, idp) -> None:
    idp.settings.invalid_grant_status = 403
    code, pkce = code_for(http)
    idp.clock.advance(3600)
    response = redeem(http, code, pkce)
    assert response.status_code == 403
    assert response.json()["error"] == "invalid_grant"


def test_codes_and_tokens_never_appear_in_the_audit_log(http: httpx.Client, idp) -> None:
    code, pkce = code_for(http)
    body = redeem(http, code, pkce).json()
    rotated = refresh(http, body["refresh_token"]).json()
    http.post("/oauth/introspect", data={"token": rotated["access_token"], "client_id": "twg-cli"})
    http.post("/oauth/revoke", data={"token": rotated["refresh_token"], "client_id": "twg-cli"})
    logged = repr([(e.event, e.details) for e in idp.audit.events()])
    kinds = ("access_token", "refresh_token")
    secrets = [code, pkce.verifier, *(t[k] for t in (body, rotated) for k in kinds)]
    for secret in secrets:
        assert secret not in logged
    names = {e.event for e in idp.audit.events()}
    assert {"code.issued", "code.redeemed", "token.issued", "token.rotated"} <= names
    assert {"token.introspected", "token.revoked"} <= names


def test_token_family_records_the_chosen_site(http: httpx.Client, idp) -> None:
    code, pkce = code_for(http)
    redeem(http, code, pkce)
    started = events(idp, "session.started")
    assert started[-1]["site_id"] == ACME_SITE_ID
    assert started[-1]["via"] == "authorization_code"


def test_concurrent_redemptions_of_one_code_give_exactly_one_token(
    http: httpx.Client, mock_server
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    code, pkce = code_for(http)

    def attempt(_: int) -> int:
        with httpx.Client(base_url=mock_server.url, timeout=10, verify=trust_store()) as client:
            return redeem(client, code, pkce).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(8)))
    assert statuses.count(200) == 1
    assert statuses.count(400) == 7
