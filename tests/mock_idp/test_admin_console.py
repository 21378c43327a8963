"""The Administration console over HTTP: its CSRF and framing defences (the pages
themselves are driven in Chromium by tests/browser/test_admin_console.py)."""

from __future__ import annotations

import pytest

from mock_idp.models import Org
from mock_idp.seed import ACME_ORG_ID


def signed_in(http, mock_server) -> None:
    response = http.post(
        "/console/login", data={"email": "carol@example.com"}, headers={"Origin": mock_server.url}
    )
    assert response.status_code == 303
    assert "samesite=strict" in response.headers["set-cookie"].lower()
    assert "httponly" in response.headers["set-cookie"].lower()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {},
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_a_post_from_elsewhere_is_refused_and_changes_nothing(http, mock_server, idp, headers):
    signed_in(http, mock_server)
    response = http.post("/console/allowlist", data={"cidrs": "10.0.0.0/8"}, headers=headers)
    assert response.status_code == 403
    assert response.headers["x-frame-options"] == "DENY"
    assert idp.store.get(Org, ACME_ORG_ID).ip_allowlist == []


def test_a_same_origin_post_under_no_referrer_is_accepted(http, mock_server, idp):
    signed_in(http, mock_server)
    headers = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    response = http.post("/console/allowlist", data={"cidrs": "10.0.0.0/8"}, headers=headers)
    assert response.status_code == 200
    assert idp.store.get(Org, ACME_ORG_ID).ip_allowlist == ["10.0.0.0/8"]


def test_pages_cannot_be_framed_and_send_no_referrer(http):
    response = http.get("/console")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_without_a_console_session_pages_send_you_to_sign_in(http):
    response = http.get("/console/audit", headers={"Cookie": "twg_console=forged"})
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
