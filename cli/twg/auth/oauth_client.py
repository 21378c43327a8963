"""Token, refresh, revocation and device requests on httpx, with typed errors.

Every response's ``Date`` header feeds the ServerClock so expiry is computed in server
time. Bodies and errors never carry a token into an exception message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from twg.auth.discovery import ServerMetadata
from twg.auth.oauth_errors import OAuthErrorResponse
from twg.auth.servertime import ServerClock
from twg.auth.tokens import TokenSet
from twg.auth.unreachable import unreachable
from twg.errors import NetworkError, Unavailable

log = logging.getLogger("twg.oauth")


# Answers that say "not now" rather than "no": the request may be sent again.
RETRYABLE_STATUSES = (408, 425, 429)
MAX_RETRY_AFTER = 3600.0


class ServerTrouble(Unavailable):
    """The token endpoint answered, but not with an OAuth answer (5xx, 429, HTML)."""

    def __init__(
        self, message: str, remedy: str | None, retry_after: float | None, status: int
    ) -> None:
        super().__init__(message, remedy)
        self.retry_after = retry_after
        self.status = status


def retry_after_seconds(value: str | None) -> float | None:
    """RFC 9110 section 10.2.3 ``Retry-After`` in seconds (delay-seconds only; an
    HTTP-date is rare from token endpoints and a short backoff covers it)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return min(seconds, MAX_RETRY_AFTER)


@dataclass(frozen=True)
class DeviceAuthorization:
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


class OAuthClient:
    def __init__(
        self,
        http: httpx.Client,
        metadata: ServerMetadata,
        client_id: str,
        clock: ServerClock,
        client_secret: Callable[[], str | None] | None = None,
    ) -> None:
        self.http = http
        self.metadata = metadata
        self.client_id = client_id
        self.clock = clock
        # The variable that chose the server (TWG_IDP_URL), named when it cannot be reached.
        self.url_setting: str | None = None
        # A confidential client's secret, looked up only when a request needs it.
        self._secret_source = client_secret
        self._secret: str | None = None
        self._secret_loaded = False

    @property
    def client_secret(self) -> str | None:
        if not self._secret_loaded:
            self._secret = self._secret_source() if self._secret_source else None
            self._secret_loaded = True
        return self._secret

    def _client_auth(self) -> dict[str, str]:
        """client_id, plus client_secret for a confidential client (client_secret_post:
        Atlassian's token endpoint takes both in the body)."""
        secret = self.client_secret
        return {"client_id": self.client_id, **({"client_secret": secret} if secret else {})}

    def _post(self, url: str, form: dict[str, str], as_json: bool = False) -> httpx.Response:
        try:
            if as_json:
                response = self.http.post(url, json=form, headers={"Accept": "application/json"})
            else:
                response = self.http.post(url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise unreachable(url, exc, self.url_setting) from None
        self.clock.observe_date_header(response.headers.get("date"))
        log.debug("POST %s -> %s", url, response.status_code)
        return response

    def _token_request(self, form: dict[str, str], previous_refresh: str | None) -> TokenSet:
        url = self.metadata.token_endpoint
        # A confidential client speaks JSON, as Atlassian's token endpoint documents it
        # (its examples send client_id and client_secret in a JSON body); the public
        # client keeps the RFC 6749 form body every OAuth server accepts.
        form = {**form, **self._client_auth()}
        response = self._post(url, form, as_json="client_secret" in form)
        data = _json(response)
        access = data.get("access_token")
        refresh = data.get("refresh_token", "absent")
        # A refresh token that is there but not a string would be lost silently (the
        # server rotated): treat the answer as unusable, so the request is retried.
        usable_refresh = (
            refresh == "absent" or refresh is None or (isinstance(refresh, str) and refresh)
        )
        if response.status_code == 200 and isinstance(access, str) and access and usable_refresh:
            return TokenSet.from_response(data, self.clock.now(), previous_refresh)
        if (
            response.status_code >= 500
            or response.status_code in RETRYABLE_STATUSES
            or "error" not in data
        ):
            # Not an OAuth refusal: a proxy page, an overloaded or broken server.
            kind = "no OAuth answer" if "error" not in data else str(data["error"])
            raise ServerTrouble(
                f"{httpx.URL(url).host} answered HTTP {response.status_code} ({kind}).",
                "Try again in a moment.",
                retry_after_seconds(response.headers.get("retry-after")),
                response.status_code,
            )
        raise _error_from(response, data)

    def exchange_code(self, code: str, redirect_uri: str, verifier: str) -> TokenSet:
        return self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": self.client_id,
                "code_verifier": verifier,
            },
            None,
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        return self._token_request(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": self.client_id,
            },
            refresh_token,
        )

    def revoke(self, token: str, hint: str) -> None:
        """RFC 7009 section 2.1; a 200 means revoked (or already invalid)."""
        if not self.metadata.revocation_endpoint:
            raise NetworkError("The identity provider publishes no revocation endpoint.")
        response = self._post(
            self.metadata.revocation_endpoint,
            {"token": token, "token_type_hint": hint, **self._client_auth()},
        )
        if response.status_code != 200:
            raise _error_from(response, _json(response))

    def device_authorize(self, scope: str, extra: dict[str, str]) -> DeviceAuthorization:
        endpoint = self.metadata.device_authorization_endpoint
        if not endpoint:
            raise OAuthErrorResponse(
                "unsupported", "The identity provider does not support device login.", 0
            )
        response = self._post(endpoint, {**self._client_auth(), "scope": scope, **extra})
        data = _json(response)
        if response.status_code != 200 or "device_code" not in data:
            raise _error_from(response, data)
        return DeviceAuthorization(
            device_code=str(data["device_code"]),
            user_code=str(data["user_code"]),
            verification_uri=str(data.get("verification_uri") or data.get("verification_url")),
            verification_uri_complete=data.get("verification_uri_complete"),
            expires_in=int(data.get("expires_in", 600)),
            # RFC 8628 section 3.2: default polling interval is 5 seconds.
            interval=int(data.get("interval", 5)),
        )

    def device_token(self, device_code: str) -> TokenSet:
        return self._token_request(
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": device_code,
                "client_id": self.client_id,
            },
            None,
        )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_from(response: httpx.Response, data: dict[str, Any]) -> OAuthErrorResponse:
    error = str(data.get("error") or f"http_{response.status_code}")
    description = str(data.get("error_description") or "")
    return OAuthErrorResponse(error, description, response.status_code)
