"""The token endpoint as a protocol surface: body formats, duplicate and missing parameters,
garbage, unsupported grants, client authentication (public and confidential), RFC 6749
section 5.2 error bodies, Cache-Control, and the metadata document (RFC 8414)."""

from __future__ import annotations

import base64
from email.utils import parsedate_to_datetime

import httpx
import pytest

from mock_idp.seed import apply_seed
from mock_idp.settings import Settings
from tests.mock_idp.oauth_flow import Pkce, authorize, authorize_params, redeem


@pytest.fixture
def idp_settings() -> Settings:
    # Written for the strict variant: no reuse leeway, RFC 6749's 400 for invalid_grant
    # (the defaults follow Atlassian: docs/mock-defaults.md).
    return Settings(refresh_reuse_grace=0, invalid_grant_status=400)


SECRET = "s3cret-for-tests"
CONFIDENTIAL = {
    "client_id": "acme-server",
    "name": "Acme Server App",
    "redirect_uris": ["http://127.0.0.1/callback"],
    "client_secret": SECRET,
}


@pytest.fixture
def confidential(idp) -> str:
    apply_seed(idp.store, {"clients": [CONFIDENTIAL]}, idp.clock.now())
    return str(CONFIDENTIAL["client_id"])


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error
    assert "Traceback" not in response.text


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


# request shape -----------------------------------------------------------------------------
def test_code_exchange_accepts_a_json_body(http: httpx.Client) -> None:
    pkce = Pkce.new()
    params = authorize_params(pkce)
    code = authorize(http, params)["code"]
    response = http.post(
        "/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": params["redirect_uri"],
            "client_id": "twg-cli",
            "code_verifier": pkce.verifier,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json()["access_token"]
    assert response.json()["token_type"] == "Bearer"


def test_duplicate_parameters_are_rejected(http: httpx.Client) -> None:
    body = "grant_type=refresh_token&refresh_token=a&refresh_token=b&client_id=twg-cli"
    response = http.post(
        "/oauth/token",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_oauth_error(response, 400, "invalid_request")
    assert "more than once" in response.json()["error_description"]


# A body that cannot be read at all is invalid_request; one that reads as a form or JSON
# object without a usable grant_type is unsupported_grant_type.
@pytest.mark.parametrize(
    ("content", "ctype", "error"),
    [
        (b"{not json", "application/json", "invalid_request"),
        (b"[1, 2, 3]", "application/json", "invalid_request"),
        (b'"just a string"', "application/json", "invalid_request"),
        (b"\xff\xfe\xfa", "application/x-www-form-urlencoded", "invalid_request"),
        (b"\xff\xfe\x00", "application/x-www-form-urlencoded", "invalid_request"),
        (b"grant_type=a&grant_type=b", "application/x-www-form-urlencoded", "invalid_request"),
        (b"\x00\x01garbage", "application/octet-stream", "unsupported_grant_type"),
        (b"", "application/x-www-form-urlencoded", "unsupported_grant_type"),
        (b"<xml/>", "text/xml", "unsupported_grant_type"),
        (
            b"grant_type=password&username=a&password=b&client_id=twg-cli",
            "",
            "unsupported_grant_type",
        ),
        (b"%%%%===&&&", "application/x-www-form-urlencoded", "unsupported_grant_type"),
    ],
)
def test_garbage_bodies_get_a_json_400_never_a_500(
    http: httpx.Client, content: bytes, ctype: str, error: str
) -> None:
    headers = {"Content-Type": ctype} if ctype else {}
    response = http.post("/oauth/token", content=content, headers=headers)
    assert_oauth_error(response, 400, error)
    assert response.headers["cache-control"] == "no-store"


def test_json_body_with_non_string_values_is_unsupported_grant_type(http: httpx.Client) -> None:
    response = http.post(
        "/oauth/token",
        json={"grant_type": ["refresh_token"], "refresh_token": {"x": 1}, "client_id": 7},
    )
    assert_oauth_error(response, 400, "unsupported_grant_type")


def test_get_on_the_token_endpoint_is_405_json(http: httpx.Client) -> None:
    response = http.get("/oauth/token")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_missing_grant_type_is_unsupported_grant_type(http: httpx.Client) -> None:
    # authlib's answer; RFC 6749 section 5.2 would allow invalid_request too.
    response = http.post("/oauth/token", data={"client_id": "twg-cli"})
    assert_oauth_error(response, 400, "unsupported_grant_type")


@pytest.mark.parametrize("grant", ["password", "client_credentials", "implicit", "nonsense"])
def test_grants_outside_oauth21_are_unsupported(http: httpx.Client, grant: str) -> None:
    response = http.post(
        "/oauth/token",
        data={"grant_type": grant, "client_id": "twg-cli", "username": "a", "password": "b"},
    )
    assert_oauth_error(response, 400, "unsupported_grant_type")
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("grant", ["refresh_token", "authorization_code"])
def test_unknown_public_client_is_invalid_client_400(http: httpx.Client, grant: str) -> None:
    response = http.post(
        "/oauth/token",
        data={"grant_type": grant, "refresh_token": "x", "code": "x", "client_id": "nobody"},
    )
    # RFC 6749 section 5.2: 401 is required only when the Authorization header was used.
    assert_oauth_error(response, 400, "invalid_client")
    assert response.json()["error_description"] == "The client does not exist on this server."


def test_error_responses_carry_no_store(http: httpx.Client) -> None:
    response = http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": "twg-cli"},
    )
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert set(response.json()) <= {"error", "error_description", "error_uri"}


# confidential clients ----------------------------------------------------------------------
def confidential_code(http: httpx.Client, client_id: str) -> tuple[str, Pkce, str]:
    pkce = Pkce.new()
    params = authorize_params(pkce, client_id=client_id)
    return authorize(http, params)["code"], pkce, params["redirect_uri"]


def code_grant(code: str, pkce: Pkce, redirect_uri: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": pkce.verifier,
    }


def test_confidential_client_with_basic_auth(http: httpx.Client, confidential: str) -> None:
    code, pkce, uri = confidential_code(http, confidential)
    response = http.post(
        "/oauth/token", data=code_grant(code, pkce, uri), headers=basic(confidential, SECRET)
    )
    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"]


def test_confidential_client_with_post_auth(http: httpx.Client, confidential: str) -> None:
    code, pkce, uri = confidential_code(http, confidential)
    data = {**code_grant(code, pkce, uri), "client_id": confidential, "client_secret": SECRET}
    response = http.post("/oauth/token", data=data)
    assert response.status_code == 200, response.text
    refreshed = http.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": response.json()["refresh_token"],
            "client_id": confidential,
            "client_secret": SECRET,
        },
    )
    assert refreshed.status_code == 200, refreshed.text


@pytest.mark.parametrize("how", ["basic", "post", "none"])
def test_confidential_client_with_wrong_or_no_secret_is_invalid_client(
    http: httpx.Client, confidential: str, how: str
) -> None:
    code, pkce, uri = confidential_code(http, confidential)
    data = code_grant(code, pkce, uri)
    headers: dict[str, str] = {}
    if how == "basic":
        headers = basic(confidential, "wrong")
    elif how == "post":
        data |= {"client_id": confidential, "client_secret": "wrong"}
    else:
        data |= {"client_id": confidential}
    response = http.post("/oauth/token", data=data, headers=headers)
    assert_oauth_error(response, 401, "invalid_client")
    # The code was not burnt by a failed client authentication.
    ok = http.post(
        "/oauth/token", data=code_grant(code, pkce, uri), headers=basic(confidential, SECRET)
    )
    assert ok.status_code == 200, ok.text


def test_public_client_may_not_send_a_secret_it_does_not_have(http: httpx.Client) -> None:
    pkce = Pkce.new()
    code = authorize(http, authorize_params(pkce))["code"]
    response = redeem(http, code, pkce, client_secret="made-up")
    assert_oauth_error(response, 401, "invalid_client")


# metadata -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]
)
def test_metadata_names_the_issuer_and_every_endpoint(
    http: httpx.Client, mock_server, path: str
) -> None:
    response = http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    meta = response.json()
    base = mock_server.url
    assert meta["issuer"] == base
    assert meta["authorization_endpoint"] == f"{base}/authorize"
    assert meta["token_endpoint"] == f"{base}/oauth/token"
    assert meta["revocation_endpoint"] == f"{base}/oauth/revoke"
    assert meta["introspection_endpoint"] == f"{base}/oauth/introspect"
    assert meta["device_authorization_endpoint"] == f"{base}/oauth/device/code"
    assert meta["response_types_supported"] == ["code"]
    assert meta["response_modes_supported"] == ["query"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
    }
    methods = ["none", "client_secret_basic", "client_secret_post"]
    for key in ("token", "revocation", "introspection"):
        assert meta[f"{key}_endpoint_auth_methods_supported"] == methods
    assert {"read:me", "offline_access", "write:jira-work"} <= set(meta["scopes_supported"])
    assert meta["authorization_response_iss_parameter_supported"] is True
    for banned in ("implicit", "password", "client_credentials"):
        assert banned not in meta["grant_types_supported"]


def test_metadata_follows_a_configured_issuer(http: httpx.Client, idp) -> None:
    idp.settings.issuer = "https://idp.example.test/"
    meta = http.get("/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == "https://idp.example.test"
    assert meta["token_endpoint"] == "https://idp.example.test/oauth/token"


def test_the_iss_in_the_callback_equals_the_metadata_issuer(http: httpx.Client) -> None:
    issuer = http.get("/.well-known/oauth-authorization-server").json()["issuer"]
    query = authorize(http, authorize_params(Pkce.new()))
    assert query["iss"] == issuer


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]
)
def test_metadata_is_get_only(http: httpx.Client, path: str) -> None:
    answer = http.post(path)
    assert answer.status_code == 405
    assert answer.json()["error"] == "method_not_allowed"


# Date header --------------------------------------------------------------------------------
def test_date_header_follows_the_mock_clock(http: httpx.Client, idp) -> None:
    before = parsedate_to_datetime(
        http.get("/.well-known/oauth-authorization-server").headers["date"]
    )
    idp.clock.advance(40 * 86400)
    after = parsedate_to_datetime(
        http.get("/.well-known/oauth-authorization-server").headers["date"]
    )
    assert 40 * 86400 - 5 <= (after - before).total_seconds() <= 40 * 86400 + 5
    token_date = http.post("/oauth/token", data={"grant_type": "x"}).headers["date"]
    assert abs((parsedate_to_datetime(token_date) - after).total_seconds()) < 5
    assert len(http.get("/.well-known/oauth-authorization-server").headers.get_list("date")) == 1
