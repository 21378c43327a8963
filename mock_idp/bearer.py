"""Authenticating API callers: OAuth access tokens (RFC 6750) and org Admin API keys.

Also holds ``ApiError`` and ``ApiErrorRoute``: the resource, admin and Bitbucket APIs
answer in their own (Atlassian) error shapes rather than RFC 6749's, so their routes turn
an ``ApiError`` into a JSON response themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_idp.errors import NO_STORE, OAuthError, error_response
from mock_idp.idp import MockIdP
from mock_idp.models import AdminKey, TokenFamily, User
from mock_idp.secrets_util import digest
from mock_idp.sessions import ValidAccess


class ApiError(Exception):
    """A failure answered with ``body`` as JSON; the body is already in the API's shape."""

    def __init__(
        self, status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.body = body
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status_code, headers=self.headers)


class ApiErrorRoute(APIRoute):
    """A route that answers ``ApiError`` and ``OAuthError`` itself, then calls
    ``on_response`` with the final response (subclasses audit there)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except ApiError as exc:
                response = exc.response()
            except OAuthError as exc:
                response = error_response(exc.error, exc.description, exc.status_code, exc.headers)
            self.on_response(request, response)
            return response

        return route_handler

    def on_response(self, request: Request, response: Response) -> None:
        return None


def credentials(request: Request, scheme: str) -> str | None:
    """The credentials of an ``Authorization: <scheme> <credentials>`` header, or None.

    RFC 7235 section 2.1: the scheme name is case-insensitive.
    """
    header = request.headers.get("authorization")
    if not header:
        return None
    given, _, value = header.strip().partition(" ")
    value = value.strip()
    if given.lower() != scheme.lower() or not value:
        return None
    return value


def _quoted(text: str) -> str:
    # RFC 7235 quoted-string: escape the two characters that would end it early.
    return text.replace("\\", "\\\\").replace('"', '\\"')


@dataclass(slots=True)
class Caller:
    """Who is calling a resource route, through which session."""

    access: ValidAccess
    user: User

    @property
    def family(self) -> TokenFamily:
        return self.access.family

    @property
    def scopes(self) -> set[str]:
        return set(self.access.token.scope.split())


def require_access(idp: MockIdP, request: Request) -> Caller:
    """The live session behind the request's Bearer access token; raises a 401 otherwise."""
    raw = credentials(request, "Bearer")
    if raw is None:
        # RFC 6750 section 3.1: a request without any authentication information gets
        # the challenge without an error code.
        raise OAuthError(
            "unauthorized",
            "This resource needs an OAuth access token: send 'Authorization: Bearer <token>'.",
            401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    access = idp.sessions.check_access(raw)
    user = idp.store.get(User, access.token.account_id) if access is not None else None
    if access is None or user is None:
        reason = (
            idp.sessions.why_access_invalid(raw)
            if access is None
            else "The account behind this token no longer exists."
        )
        # RFC 6750 section 3.1: expired, revoked or otherwise invalid -> invalid_token.
        challenge = f'Bearer error="invalid_token", error_description="{_quoted(reason)}"'
        raise OAuthError("invalid_token", reason, 401, headers={"WWW-Authenticate": challenge})
    return Caller(access=access, user=user)


def admin_error(status_code: int, code: str, detail: str) -> ApiError:
    """An Admin API error in the JSON:API shape Atlassian Administration uses."""
    title = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
    headers = dict(NO_STORE)
    if status_code == 401:
        headers["WWW-Authenticate"] = (
            f'Bearer error="invalid_token", error_description="{_quoted(detail)}"'
        )
    body = {
        "errors": [
            {
                "status": str(status_code),
                "code": code,
                "title": title.get(status_code, "Error"),
                "detail": detail,
            }
        ]
    }
    return ApiError(status_code, body, headers)


def require_admin_key(idp: MockIdP, request: Request, org_id: str | None = None) -> AdminKey:
    """The org Admin API key the request carries; 401 if unknown, 403 for another org."""
    raw = credentials(request, "Bearer")
    if raw is None:
        error = admin_error(
            401, "unauthorized", "Send an Admin API key as 'Authorization: Bearer <key>'."
        )
        error.headers["WWW-Authenticate"] = "Bearer"
        raise error
    key = idp.store.get(AdminKey, digest(raw))
    if key is None:
        raise admin_error(401, "unauthorized", "The API key is not valid.")
    if key.revoked_at is not None:
        raise admin_error(401, "key_revoked", "The API key was revoked by an organization admin.")
    if org_id is not None and key.org_id != org_id:
        raise admin_error(
            403, "forbidden", "This API key belongs to another organization: it cannot manage it."
        )
    return key
