"""authlib's view of the mock's records, and of a Starlette request.

authlib asks models for their fields through mixin methods; these thin wrappers answer
from the mock's dataclasses and decide time-dependent questions from the mock's clock.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin, JsonRequest, OAuth2Request
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, JsonPayload

from mock_idp.clock import MockClock
from mock_idp.models import AuthCode, Client, DeviceCode, RefreshToken, TokenFamily, User
from mock_idp.secrets_util import digest

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "[::1]"})


def redirect_uri_matches(registered: str, requested: str) -> bool:
    """Exact match, except the port of a loopback redirect (RFC 8252 section 7.3)."""
    if requested == registered:
        return True
    reg, req = urlsplit(registered), urlsplit(requested)
    if reg.scheme != "http" or reg.hostname not in LOOPBACK_HOSTS:
        return False
    try:
        port = req.port
    except ValueError:  # out of range: no listener can be there
        return False
    return (
        req.scheme == "http"
        and req.hostname == reg.hostname
        and req.path == reg.path
        and req.query == reg.query
        and not req.fragment
        and not req.username
        and not req.password
        and reg.port is None
        and port != 0
    )


class ClientModel(ClientMixin):  # type: ignore[misc]
    def __init__(self, record: Client) -> None:
        self.record = record

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_default_redirect_uri(self) -> str | None:
        # OAuth 2.1: the redirect URI is always sent; no default is ever assumed.
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return " ".join(self.record.scopes)
        allowed = set(self.record.scopes)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return any(redirect_uri_matches(r, redirect_uri) for r in self.record.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        expected = self.record.client_secret_hash
        return expected is not None and hmac.compare_digest(expected, digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.record.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.record.grant_types


@dataclass
class Consent:
    """What the person approved on the consent page: the 'user' authlib carries."""

    user: User
    site_id: str | None
    scope: str


class CodeModel:
    def __init__(self, record: AuthCode) -> None:
        self.record = record

    def get_redirect_uri(self) -> str:
        return self.record.redirect_uri

    def get_scope(self) -> str:
        return self.record.scope

    @property
    def code_challenge(self) -> str:
        return self.record.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.record.code_challenge_method


class RefreshModel:
    """A refresh token that sessions.check_refresh accepted, with its family."""

    def __init__(self, token: RefreshToken, family: TokenFamily) -> None:
        self.token = token
        self.family = family

    def get_scope(self) -> str:
        return self.family.scope

    def check_client(self, client: ClientModel) -> bool:
        return self.family.client_id == client.get_client_id()


class DeviceModel:
    def __init__(self, record: DeviceCode, clock: MockClock) -> None:
        self.record = record
        self.clock = clock

    def get_client_id(self) -> str:
        return self.record.client_id

    def get_scope(self) -> str:
        return self.record.granted_scope or self.record.scope

    def get_user_code(self) -> str:
        return self.record.user_code

    def is_expired(self) -> bool:
        return self.clock.now() >= self.record.expires_at


class FormRequest(OAuth2Request):  # type: ignore[misc]
    """An authlib request over an already-read form (or query) and Starlette headers."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        data: Mapping[str, str],
        args: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = BasicOAuth2Payload(dict(data))
        self.issuer: str | None = None
        self._form = data
        self._args = args if args is not None else data

    @property
    def form(self) -> Mapping[str, str]:
        return self._form

    @property
    def args(self) -> Mapping[str, str]:
        return self._args


class MockJsonRequest(JsonRequest):  # type: ignore[misc]
    def __init__(self, method: str, uri: str, headers: Mapping[str, str], data: Any) -> None:
        super().__init__(method, uri, headers)
        self.payload = _JsonPayload(data)


class _JsonPayload(JsonPayload):  # type: ignore[misc]
    def __init__(self, data: Any) -> None:
        self._data = data

    @property
    def data(self) -> Any:
        return self._data
