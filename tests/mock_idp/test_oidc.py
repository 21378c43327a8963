"""OpenID Connect for third-party relying parties: id_token, JWKS, userinfo, discovery."""

from __future__ import annotations

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet, RSAKey

from tests.mock_idp.oauth_flow import browser_login, refresh


def _verified_claims(http: httpx.Client, id_token: str) -> dict:
    keys = KeySet.import_key_set(http.get("/.well-known/jwks.json").json())
    return dict(jwt.decode(id_token, keys).claims)


def test_openid_configuration_names_the_oidc_endpoints(http):
    doc = http.get("/.well-known/openid-configuration").json()
    issuer = doc["issuer"]
    assert doc["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert doc["userinfo_endpoint"] == f"{issuer}/userinfo"
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["subject_types_supported"] == ["public"]
    assert "openid" in doc["scopes_supported"]


def test_openid_scope_yields_a_signed_id_token_with_the_nonce(http):
    tokens = browser_login(http, scope="openid email offline_access", nonce="n-0S6_WzA2Mj")
    claims = _verified_claims(http, tokens["id_token"])
    issuer = http.get("/.well-known/openid-configuration").json()["issuer"]
    assert claims["iss"] == issuer
    assert claims["aud"] == "twg-cli"
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["email"] == "alice@example.com"
    assert claims["exp"] > claims["iat"]


def test_id_token_signed_by_another_key_does_not_verify(http):
    tokens = browser_login(http, scope="openid offline_access")
    kid = jws.extract_compact(tokens["id_token"].encode()).headers()["kid"]
    impostor = RSAKey.generate_key(2048, parameters={"kid": kid})
    with pytest.raises(BadSignatureError):
        jwt.decode(tokens["id_token"], impostor)


def test_no_id_token_without_the_openid_scope(http):
    tokens = browser_login(http, scope="read:me offline_access")
    assert "id_token" not in tokens


def test_refresh_of_an_oidc_session_issues_a_fresh_id_token(http):
    tokens = browser_login(http, scope="openid offline_access")
    renewed = refresh(http, tokens["refresh_token"]).json()
    claims = _verified_claims(http, renewed["id_token"])
    assert claims["sub"] == _verified_claims(http, tokens["id_token"])["sub"]


def test_userinfo_answers_for_an_openid_token_and_refuses_others(http):
    with_openid = browser_login(http, scope="openid offline_access")
    answer = http.get(
        "/userinfo", headers={"Authorization": f"Bearer {with_openid['access_token']}"}
    )
    assert answer.status_code == 200
    assert answer.json()["email"] == "alice@example.com"

    without = browser_login(http, scope="read:me offline_access")
    refused = http.get("/userinfo", headers={"Authorization": f"Bearer {without['access_token']}"})
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    assert http.get("/userinfo").status_code == 401


def test_signing_key_survives_a_restart_with_sqlite_state(tmp_path):
    from mock_idp.app import create_app
    from mock_idp.oidc import signing_key
    from mock_idp.settings import Settings
    from mock_idp.store import open_store

    spec = f"sqlite:{tmp_path / 'state.db'}"
    first = create_app(Settings(), open_store(spec)).state.idp
    kid = signing_key(first).kid
    first.store.close()
    second = create_app(Settings(), open_store(spec)).state.idp
    assert signing_key(second).kid == kid
