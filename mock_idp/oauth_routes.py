"""OAuth endpoints: RFC 8414 metadata, token, RFC 7009 revocation, RFC 7662 introspection,
RFC 8628 device authorization. (The interactive /authorize and /device pages: pages.py.)

The token endpoint is a plain Starlette route: it is the hot path that CI and reviewers
hammer, and FastAPI's dependency machinery would cost more than the grant itself.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_idp.errors import NO_STORE, error_response
from mock_idp.idp import MockIdP
from mock_idp.models import Client, DeviceCode, User
from mock_idp.oauth.adapters import ClientModel
from mock_idp.oauth.fast_token import BadBody, parse_params, token_answer
from mock_idp.oauth.server import MockAuthorizationServer, OAuth2Error, oauth_request
from mock_idp.oidc import discovery_fields
from mock_idp.secrets_util import digest, fingerprint, new_secret
from mock_idp.seed import DEVICE_GRANT

router = APIRouter()

# RFC 8628 section 6.1: user codes from a consonant alphabet (no vowels: no words).
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
# Anyone with the public client id can ask for device codes: at most this many live at
# once (a full table answers 429, never dropping a code someone is typing in).
MAX_LIVE_DEVICE_CODES = 2_000
# Expired codes are kept this long, so a late poll still hears expired_token.
EXPIRED_DEVICE_CODE_KEPT = 3600.0


async def read_params(request: Request) -> dict[str, str]:
    """The request's parameters from a form or JSON body (Atlassian accepts both)."""
    return parse_params(await request.body(), request.headers.get("content-type", ""))


def _oauth(request: Request) -> MockAuthorizationServer:
    server: MockAuthorizationServer = request.app.state.oauth
    return server


def _error(exc: OAuth2Error) -> Response:
    status, body, headers = exc()
    response = error_response(body["error"], body.get("error_description", ""), status)
    for name, value in headers:
        if name.lower() == "www-authenticate":
            response.headers[name] = value
    return response


async def token_endpoint(request: Request) -> Response:
    """Reached only without TokenEndpointFastPath (app.py installs it); same answers."""
    status, payload, headers = token_answer(_oauth(request), request.scope, await request.body())
    return Response(
        payload, status_code=status, headers={k.decode(): v.decode() for k, v in headers}
    )


@dataclass
class ClientCall:
    """A request to a client-authenticated endpoint, read and authenticated."""

    params: dict[str, str]
    client: ClientModel
    server: MockAuthorizationServer


async def _client_call(request: Request, endpoint: str) -> ClientCall | Response:
    """Read the parameters and authenticate the client, or the error response to send."""
    try:
        params = await read_params(request)
    except BadBody as exc:
        return error_response("invalid_request", str(exc))
    server = _oauth(request)
    try:
        client = server.authenticate_endpoint_client(
            oauth_request("POST", str(request.url), request.headers, params), endpoint
        )
    except OAuth2Error as exc:
        return _error(exc)
    return ClientCall(params, client, server)


async def _token_call(request: Request, endpoint: str) -> tuple[ClientCall, str] | Response:
    """As _client_call, for endpoints that act on the ``token`` parameter."""
    call = await _client_call(request, endpoint)
    if isinstance(call, Response):
        return call
    token = call.params.get("token")
    if not token:
        return error_response("invalid_request", "Missing 'token'.")
    return call, token


async def revocation_endpoint(request: Request) -> Response:
    """RFC 7009. Unknown or foreign tokens still get 200 (section 2.2)."""
    found = await _token_call(request, "revocation")
    if isinstance(found, Response):
        return found
    call, token = found
    call.server.idp.sessions.revoke(token, call.client.get_client_id())
    return Response(status_code=200, headers=NO_STORE)


async def introspection_endpoint(request: Request) -> Response:
    """RFC 7662. Activity is decided by the mock's clock and the revocation state."""
    found = await _token_call(request, "introspection")
    if isinstance(found, Response):
        return found
    call, token = found
    idp = call.server.idp
    answer = _introspect(idp, request, token, call.client)
    idp.audit.record(
        "token.introspected",
        fp=fingerprint(token),
        client_id=call.client.get_client_id(),
        active=answer["active"],
        token_type=answer.get("token_type"),
    )
    return JSONResponse(answer, headers=NO_STORE)


def _introspect(idp: MockIdP, request: Request, token: str, client: ClientModel) -> dict[str, Any]:
    client_id = client.get_client_id()
    access = idp.sessions.check_access(token)
    if access is not None and access.token.client_id == client_id:
        fam, scope = access.family, access.token.scope
        iat, exp, kind = access.token.issued_at, access.token.expires_at, "access_token"
    else:
        found = idp.sessions.peek_refresh(token)
        if found is None or found[1].client_id != client_id:
            # Section 2.2: nothing about an inactive token is disclosed.
            return {"active": False}
        refresh, fam = found
        scope, iat, kind = fam.scope, refresh.issued_at, "refresh_token"
        exp = min(refresh.idle_expires_at, fam.absolute_expires_at)
    user = idp.store.get(User, fam.account_id)
    return {
        "active": True,
        "scope": scope,
        "client_id": fam.client_id,
        "username": user.email if user else None,
        "sub": fam.account_id,
        "token_type": "Bearer" if kind == "access_token" else "refresh_token",
        "token_kind": kind,
        "iat": int(iat),
        "exp": int(exp),
        "iss": idp.issuer(request),
        "aud": "api.atlassian.com",
        "site_id": fam.site_id,
    }


async def device_authorization_endpoint(request: Request) -> Response:
    """RFC 8628 section 3.1-3.2."""
    call = await _client_call(request, "device")
    if isinstance(call, Response):
        return call
    client, params, server = call.client, call.params, call.server
    if not client.check_grant_type(DEVICE_GRANT):
        return error_response("unauthorized_client", "The client may not use the device grant.")
    idp = server.idp
    if _purge_device_codes(idp) >= MAX_LIVE_DEVICE_CODES:
        return error_response(
            "temporarily_unavailable",
            "Too many device logins are in progress; try again in a few minutes.",
            429,
            headers={"Retry-After": "60"},
        )
    scope = client.get_allowed_scope(params.get("scope"))
    device_code, user_code = new_secret(32), _new_user_code(idp)
    now, settings = idp.clock.now(), idp.settings
    record = DeviceCode(
        device_code_hash=digest(device_code),
        user_code=user_code,
        client_id=client.get_client_id(),
        scope=scope,
        issued_at=now,
        expires_at=now + settings.device_code_ttl,
        interval=settings.device_poll_interval,
    )
    idp.store.put(record)
    idp.audit.record(
        "device.code_issued",
        device_fp=fingerprint(device_code),
        user_code=user_code,
        client_id=record.client_id,
        scope=scope,
    )
    verification_uri = idp.issuer(request) + "/device"
    return JSONResponse(
        {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": f"{verification_uri}?user_code={user_code}",
            "expires_in": settings.device_code_ttl,
            "interval": settings.device_poll_interval,
        },
        headers=NO_STORE,
    )


def _purge_device_codes(idp: MockIdP) -> int:
    """Forget device codes long expired; returns how many are still live."""
    now = idp.clock.now()
    live = 0
    for record in idp.store.all(DeviceCode):
        if record.expires_at + EXPIRED_DEVICE_CODE_KEPT <= now:
            idp.store.delete(DeviceCode, record.device_code_hash)
        elif record.expires_at > now:
            live += 1
    return live


def _new_user_code(idp: MockIdP) -> str:
    taken = {d.user_code for d in idp.store.all(DeviceCode) if d.status == "pending"}
    while True:
        raw = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
        code = f"{raw[:4]}-{raw[4:]}"
        if code not in taken:
            return code


def metadata(request: Request) -> JSONResponse:
    """RFC 8414 section 2 (also served as OpenID Connect discovery)."""
    idp: MockIdP = request.app.state.idp
    issuer = idp.issuer(request)
    scopes = sorted({s for c in idp.store.all(Client) for s in c.scopes})
    auth_methods = ["none", "client_secret_basic", "client_secret_post"]
    return JSONResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/oauth/token",
            "revocation_endpoint": f"{issuer}/oauth/revoke",
            "introspection_endpoint": f"{issuer}/oauth/introspect",
            "device_authorization_endpoint": f"{issuer}/oauth/device/code",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "scopes_supported": scopes,
            "authorization_response_iss_parameter_supported": True,
            "registration_endpoint": f"{issuer}/oauth/register",
            "service_documentation": f"{issuer}/_mock/docs",
            **discovery_fields(issuer),
        }
    )


router.add_route("/oauth/token", token_endpoint, methods=["POST"])
router.add_route("/oauth/revoke", revocation_endpoint, methods=["POST"])
router.add_route("/oauth/introspect", introspection_endpoint, methods=["POST"])
router.add_route("/oauth/device/code", device_authorization_endpoint, methods=["POST"])
router.add_route("/.well-known/oauth-authorization-server", metadata, methods=["GET"])
router.add_route("/.well-known/openid-configuration", metadata, methods=["GET"])
