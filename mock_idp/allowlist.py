"""Per-org IP allowlists, applied to the API and the token endpoint for the org's users.

A request made with an org's session (a Bearer access token, or a refresh token, code or
device code at ``POST /oauth/token``) from an address outside that org's allowlist gets a
403 ``{"error": "ip_not_allowed", ...}``, which the CLI tells apart from a missing
permission. The Admin API and the control API are not subject to it (an admin must be
able to fix a list that locks everyone out).

The address is the socket's peer, or ``settings.client_address_override`` when a test
sets it. Forwarded headers are never trusted: anyone could send them.
"""

from __future__ import annotations

import ipaddress
import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_idp.bodies import max_body_for, read_body
from mock_idp.idp import MockIdP
from mock_idp.models import AuthCode, DeviceCode, Org, RefreshToken, Site, TokenFamily
from mock_idp.oauth.fast_token import TOKEN_PATH, BadBody, parse_params
from mock_idp.secrets_util import digest

EXEMPT_PREFIXES = ("/_mock/", "/admin/", "/console", "/authorize", "/device", "/.well-known/")
BLOCKED = "Blocked by your organization's IP allowlist"


def client_address(idp: MockIdP, scope: Scope) -> str:
    override = getattr(idp.settings, "client_address_override", None)
    if override:
        return str(override)
    client = scope.get("client")
    return str(client[0]) if client else ""


def is_allowed(address: str, cidrs: list[str]) -> bool:
    if not cidrs:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(c, strict=False) for c in cidrs)


def _site_org(idp: MockIdP, site_id: str | None) -> str | None:
    site = idp.store.get(Site, site_id) if site_id else None
    return site.org_id if site else None


def token_request_org(idp: MockIdP, params: dict[str, str]) -> str | None:
    """The org whose session a token request continues or starts."""
    grant = params.get("grant_type", "")
    if grant == "refresh_token":
        token = idp.store.get(RefreshToken, digest(params.get("refresh_token", "")))
        family = idp.store.get(TokenFamily, token.family_id) if token else None
        return family.org_id if family else None
    if grant == "authorization_code":
        code = idp.store.get(AuthCode, digest(params.get("code", "")))
        return _site_org(idp, code.site_id) if code else None
    if grant.endswith("device_code"):
        device = idp.store.get(DeviceCode, digest(params.get("device_code", "")))
        return _site_org(idp, device.site_id) if device else None
    return None


class AllowlistMiddleware:
    def __init__(self, app: ASGIApp, idp: MockIdP) -> None:
        self.app = app
        self.idp = idp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path.startswith(EXEMPT_PREFIXES)
            or not any(org.ip_allowlist for org in self.idp.store.all(Org))
        ):
            await self.app(scope, receive, send)
            return
        org_id: str | None = None
        if path == TOKEN_PATH and scope["method"] == "POST":
            body, receive = await _buffered(receive)
            if len(body) <= max_body_for(TOKEN_PATH):
                try:
                    params = parse_params(body, Headers(scope=scope).get("content-type", ""))
                except BadBody:
                    params = {}
                org_id = token_request_org(self.idp, params)
        else:
            raw = _bearer(Headers(scope=scope).get("authorization", ""))
            access = self.idp.sessions.check_access(raw) if raw else None
            org_id = access.family.org_id if access else None
        org = self.idp.store.get(Org, org_id) if org_id else None
        address = client_address(self.idp, scope)
        if org is None or is_allowed(address, org.ip_allowlist):
            await self.app(scope, receive, send)
            return
        self.idp.audit.record("allowlist.blocked", org_id=org.id, address=address, path=path)
        message = (
            f"{BLOCKED}: requests from {address or 'this address'} are not allowed for {org.name}."
        )
        payload = json.dumps(
            {"error": "ip_not_allowed", "error_description": message, "errorMessages": [message]}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"cache-control", b"no-store"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _bearer(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body, and a ``receive`` that hands the same body on."""
    read = await read_body(receive, max_body_for(TOKEN_PATH))
    body, more = read.body, read.more
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return body, replay
