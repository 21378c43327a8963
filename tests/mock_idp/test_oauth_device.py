"""RFC 8628 device authorization: codes, the /device verification page, and polling
(authorization_pending, slow_down, access_denied, expired_token)."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.testclient import TestClient

from mock_idp.seed import CLI_CLIENT_ID, DEVICE_GRANT
from mock_idp.settings import Settings
from tests.mock_idp.helpers import events
from tests.mock_idp.oauth_flow import CLI_SCOPE, refresh, sign_in_and_consent


@pytest.fixture
def idp_settings() -> Settings:
    # Written for the strict variant: no reuse leeway, RFC 6749's 400 for invalid_grant
    # (the defaults follow Atlassian: docs/mock-defaults.md).
    return Settings(refresh_reuse_grace=0, invalid_grant_status=400)


ISSUER = "http://127.0.0.1"


def start_device(web: TestClient, scope: str = CLI_SCOPE) -> dict[str, object]:
    answer = web.post("/oauth/device/code", data={"client_id": CLI_CLIENT_ID, "scope": scope})
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def poll(web: TestClient, device_code: object):
    return web.post(
        "/oauth/token",
        data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": CLI_CLIENT_ID},
    )


def approve(web: TestClient, user_code: object, decision: str = "accept"):
    entered = web.post("/device", data={"user_code": str(user_code)})
    assert entered.status_code == 303, entered.text
    return sign_in_and_consent(web, entered.headers["location"], decision=decision)


def test_device_authorization_response_has_every_rfc_8628_field(web, idp) -> None:
    body = start_device(web)
    assert re.fullmatch(r"[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}", str(body["user_code"]))
    assert body["verification_uri"] == ISSUER + "/device"
    assert body["verification_uri_complete"] == f"{ISSUER}/device?user_code={body['user_code']}"
    assert body["expires_in"] == idp.settings.device_code_ttl
    assert body["interval"] == idp.settings.device_poll_interval
    assert len(str(body["device_code"])) >= 32
    assert str(body["device_code"]) not in str(events(idp, ""))


def test_device_login_end_to_end_issues_tokens_that_refresh(web, idp) -> None:
    body = start_device(web)
    pending = poll(web, body["device_code"])
    assert pending.status_code == 400
    assert pending.json()["error"] == "authorization_pending"
    page = web.get(str(body["verification_uri_complete"]).removeprefix(ISSUER))
    assert page.status_code == 200
    assert str(body["user_code"]) in page.text
    done = approve(web, body["user_code"])
    assert done.status_code == 200
    assert "return to your terminal" in done.text
    idp.clock.advance(idp.settings.device_poll_interval)
    tokens = poll(web, body["device_code"])
    assert tokens.status_code == 200, tokens.text
    issued = tokens.json()
    assert issued["token_type"] == "Bearer"
    assert issued["expires_in"] == idp.settings.access_token_ttl
    assert "offline_access" in issued["scope"].split()
    assert tokens.headers["cache-control"] == "no-store"
    assert refresh(web, issued["refresh_token"]).status_code == 200
    assert [e["event"] for e in events(idp, "device.")] == ["device.code_issued", "device.approved"]


def test_the_device_code_is_single_use(web, idp) -> None:
    body = start_device(web)
    approve(web, body["user_code"])
    assert poll(web, body["device_code"]).status_code == 200
    idp.clock.advance(60)
    again = poll(web, body["device_code"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_slow_down_adds_five_seconds_to_the_device_polling_interval(
    http: httpx.Client, idp
) -> None:
    device = http.post("/oauth/device/code", data={"client_id": "twg-cli"}).json()
    interval = device["interval"]
    data = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": device["device_code"],
        "client_id": "twg-cli",
    }

    def poll_after(seconds: float) -> str:
        idp.clock.advance(seconds)
        answer = http.post("/oauth/token", data=data)
        assert answer.status_code == 400
        return str(answer.json()["error"])

    assert poll_after(0) == "authorization_pending"
    assert poll_after(interval + 1) == "authorization_pending"
    assert poll_after(1) == "slow_down"
    # RFC 8628 section 3.5: the interval is now interval + 5, for all later requests.
    assert poll_after(interval + 1) == "slow_down"
    assert poll_after(interval + 5 + 1) == "slow_down"
    assert poll_after(interval + 15 + 1) == "authorization_pending"


def test_denied_device_login_polls_access_denied(web, idp) -> None:
    body = start_device(web)
    done = approve(web, body["user_code"], decision="deny")
    assert "denied" in done.text
    answer = poll(web, body["device_code"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "access_denied"
    assert events(idp, "consent.denied")
    assert events(idp, "device.denied")


def test_device_code_expires_on_the_mock_clock(web, idp) -> None:
    body = start_device(web)
    idp.clock.advance(idp.settings.device_code_ttl + 1)
    answer = poll(web, body["device_code"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "expired_token"
    page = web.post("/device", data={"user_code": str(body["user_code"])})
    assert page.status_code == 400
    assert "unknown, used or expired" in page.text


def test_user_code_entry_forgives_case_and_missing_dash(web) -> None:
    body = start_device(web)
    sloppy = str(body["user_code"]).replace("-", "").lower()
    assert web.post("/device", data={"user_code": sloppy}).status_code == 303


def test_a_wrong_user_code_is_refused_on_the_page(web) -> None:
    start_device(web)
    answer = web.post("/device", data={"user_code": "BBBB-BBBB"})
    assert answer.status_code == 400
    assert "location" not in answer.headers


def test_unknown_device_code_is_invalid_grant(web) -> None:
    answer = poll(web, "nope")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_device_authorization_requires_a_known_client(web) -> None:
    answer = web.post("/oauth/device/code", data={"client_id": "nobody", "scope": "read:me"})
    # RFC 6749 section 5.2: 401 only when the client tried to authenticate.
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_client"
    missing = web.post("/oauth/device/code", data={"scope": "read:me"})
    assert missing.status_code == 401
    assert missing.json()["error"] == "invalid_client"


def test_device_authorization_garbage_body_is_a_4xx(web) -> None:
    answer = web.post(
        "/oauth/device/code", content=b"{", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
