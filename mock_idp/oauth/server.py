"""authlib's AuthorizationServer, adapted to Starlette and to the mock's state.

authlib is synchronous; routes read the body first and then run a whole grant here
without awaiting, so each grant is atomic on the event loop: two concurrent refreshes
with the same token cannot both succeed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749.errors import OAuth2Error

from mock_idp import oidc
from mock_idp.idp import MockIdP
from mock_idp.models import Client, DeviceCode, TokenFamily, User
from mock_idp.oauth.adapters import ClientModel, Consent, FormRequest, MockJsonRequest
from mock_idp.oauth.grants import (
    AuthorizationCodeGrant,
    DeviceCodeGrant,
    RefreshTokenGrant,
    S256Only,
)
from mock_idp.secrets_util import new_secret

# The mock serves plain http inside Compose, where its host name is not loopback;
# authlib otherwise refuses every such request (pitfalls.md).
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

Response = tuple[int, bytes, list[tuple[str, str]]]


class MockAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, idp: MockIdP) -> None:
        super().__init__()
        self.idp = idp
        self.register_token_generator("default", self._generate_token)
        self.register_grant(AuthorizationCodeGrant, [S256Only()])
        self.register_grant(RefreshTokenGrant)
        self.register_grant(DeviceCodeGrant)

    # authlib hooks -----------------------------------------------------------------------
    def query_client(self, client_id: str) -> ClientModel | None:
        record = self.idp.store.get(Client, client_id)
        return ClientModel(record) if record is not None else None

    def authenticate_client(
        self, request: OAuth2Request, methods: list[str], endpoint: str = "token"
    ) -> ClientModel:
        # RFC 6749 section 2.3: one authentication method per request. Credentials sent
        # with HTTP Basic are judged alone: when they fail, the request is not retried as
        # the public client named in the body, it gets 401 invalid_client (section 5.2).
        if request.headers.get("Authorization", "")[:6].lower() == "basic ":
            methods = [m for m in methods if m == "client_secret_basic"]
        client: ClientModel = super().authenticate_client(request, methods, endpoint)
        return client

    def _generate_token(
        self,
        grant_type: str,
        client: ClientModel,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        # Lifetimes come from the mock's settings (authlib's default is 10 days).
        token: dict[str, Any] = {
            "access_token": new_secret(32),
            "token_type": "Bearer",
            "expires_in": expires_in or self.idp.settings.access_token_ttl,
        }
        scopes = (scope or "").split()
        if scope:
            token["scope"] = scope
        # A refresh token only for sessions that asked for offline access. A refresh
        # always rotates it, even when a narrower scope leaves offline_access out: the
        # session keeps its original grant (RFC 6749 section 6).
        offline = grant_type == "refresh_token" or "offline_access" in scopes
        if include_refresh_token and offline:
            token["refresh_token"] = new_secret(32)
        return token

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        sessions = self.idp.sessions
        access, refresh = token["access_token"], token.get("refresh_token")
        grant_type = request.payload.grant_type
        if grant_type == "refresh_token":
            previous = request.refresh_token
            sessions.save_tokens(
                previous.family, access, refresh, previous=previous.token, scope=token.get("scope")
            )
            self._add_id_token(token, request, previous.family.account_id, None)
            return
        client_id = request.client.get_client_id()
        if grant_type == "authorization_code":
            code = request.authorization_code.record
            family = sessions.new_family(
                client_id=client_id,
                account_id=code.account_id,
                site_id=code.site_id,
                scope=token.get("scope", ""),
                via="authorization_code",
            )
            code.family_id = family.id
            self.idp.store.put(code)
            nonce = code.nonce
        else:
            device: DeviceCode = request.credential.record
            consent: Consent = request.user
            family = sessions.new_family(
                client_id=client_id,
                account_id=consent.user.account_id,
                site_id=consent.site_id,
                scope=token.get("scope", ""),
                via="device_code",
            )
            device.status = "used"
            self.idp.store.put(device)
            nonce = None
        sessions.save_tokens(family, access, refresh)
        self._add_id_token(token, request, family.account_id, nonce)

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Response:
        # Atlassian answers invalid_grant with 403; the mock's setting decides (RFC: 400).
        if error.error == "invalid_grant":
            error.status_code = self.idp.settings.invalid_grant_status
        return self.handle_response(*error(self.get_error_uri(request, error)))

    def _add_id_token(
        self, token: dict[str, Any], request: Any, account_id: str, nonce: str | None
    ) -> None:
        """OpenID Connect Core 3.1.3.3: an id_token when ``openid`` was granted."""
        if "openid" not in token.get("scope", "").split() or not request.issuer:
            return
        user = self.idp.store.get(User, account_id)
        if user is not None:
            token["id_token"] = oidc.id_token(
                self.idp,
                issuer=request.issuer,
                user=user,
                client_id=request.client.get_client_id(),
                access_token=token["access_token"],
                nonce=nonce,
            )

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        # Routes build the request themselves (the form must be read asynchronously).
        return request

    def create_json_request(self, request: Any) -> Any:
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        if isinstance(body, dict):
            payload = json.dumps(body).encode()
            headers = [*headers, ("Content-Type", "application/json")]
        else:
            payload = (body or "").encode() if isinstance(body, str) else bytes(body or b"")
        return status, payload, list(headers)

    # helpers for routes ------------------------------------------------------------------
    def authenticate_endpoint_client(self, request: FormRequest, endpoint: str) -> ClientModel:
        """Client authentication for revocation, introspection and device authorization."""
        client: ClientModel = self.authenticate_client(
            request, ["none", "client_secret_basic", "client_secret_post"], endpoint
        )
        return client

    def family_user(self, family: TokenFamily) -> User | None:
        return self.idp.store.get(User, family.account_id)


def oauth_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    data: Mapping[str, str],
    args: Mapping[str, str] | None = None,
) -> FormRequest:
    return FormRequest(method, url, headers, data, args)


def json_request(method: str, url: str, headers: Mapping[str, str], data: Any) -> MockJsonRequest:
    return MockJsonRequest(method, url, headers, data)


__all__ = ["MockAuthorizationServer", "OAuth2Error", "json_request", "oauth_request"]
