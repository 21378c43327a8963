"""RFC 7591 dynamic client registration, open (it is a mock): a relying party under test
registers its own redirect URIs instead of needing the mock's seed format.

Open registration is also a way in for anyone, so it is narrowed as a real IdP would:
public clients may only redirect to loopback, https or a private-use scheme (RFC 8252),
no client may borrow a first-party client's name, the default scope is identity only,
every registered client is marked ``dynamically_registered`` (the consent page says so),
and their number is capped: clients idle for REGISTRATION_TTL with no live session are
purged, and a full table answers 429 rather than evicting one in use.
Cross-site requests and non-JSON bodies are refused by ``guard.RequestGuard``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from mock_idp.bodies import UnusableBody, loads
from mock_idp.errors import NO_STORE, OAuthError
from mock_idp.idp import MockIdP
from mock_idp.models import Client, TokenFamily
from mock_idp.secrets_util import digest, new_secret
from mock_idp.seed import ALL_SCOPES, DEVICE_GRANT

router = APIRouter(include_in_schema=False)

AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
GRANTS = ("authorization_code", "refresh_token", DEVICE_GRANT)
DEFAULT_SCOPE = "read:me read:account"
LOOPBACK_REDIRECT_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
MAX_REDIRECT_URIS = 10
MAX_URI_LENGTH = 2048
MAX_NAME_LENGTH = 100
MAX_REGISTERED_CLIENTS = 1_000
REGISTRATION_TTL = 30 * 86_400.0
# RFC 8252 section 7.1: a private-use scheme is a reverse domain name (it has a dot).
_PRIVATE_SCHEME = re.compile(r"[a-z][a-z0-9+\-]*(?:\.[a-z0-9+\-]+)+")


def _invalid(error: str, description: str) -> OAuthError:
    # RFC 7591 section 3.2.2: registration errors are 400 with these codes.
    return OAuthError(error, description, 400)


def _redirect_uris(metadata: dict[str, Any], public: bool) -> list[str]:
    uris = metadata.get("redirect_uris")
    if (
        not isinstance(uris, list)
        or not uris
        or len(uris) > MAX_REDIRECT_URIS
        or not all(isinstance(u, str) for u in uris)
    ):
        raise _invalid(
            "invalid_redirect_uri",
            f"redirect_uris must be a list of 1 to {MAX_REDIRECT_URIS} URIs.",
        )
    for uri in uris:
        problem = _redirect_problem(uri, public)
        if problem:
            raise _invalid("invalid_redirect_uri", f"{problem}: {uri[:200]!r}")
    return uris


def _redirect_problem(uri: str, public: bool) -> str | None:
    if len(uri) > MAX_URI_LENGTH or not uri.isascii() or not uri.isprintable() or " " in uri:
        return "Not a URI"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return "Not a URI"
    if parts.fragment or "#" in uri or parts.username or parts.password:
        # RFC 6749 section 3.1.2: no fragment; and no credentials in a redirect.
        return "A redirect URI may have no fragment or user info"
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            return "Not an absolute http(s) URI"
        if public and scheme == "http" and parts.hostname not in LOOPBACK_REDIRECT_HOSTS:
            # RFC 8252 section 8.3: plain http only to the device's own loopback.
            return "A public client may use http only on loopback (127.0.0.1, [::1])"
        return None
    if public and _PRIVATE_SCHEME.fullmatch(scheme):
        return None
    if public:
        return "A public client needs a loopback, https or private-use (com.example.app:) URI"
    return "Not an absolute http(s) URI"


def _squash(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def _client_name(metadata: dict[str, Any], idp: MockIdP) -> str:
    name = metadata.get("client_name") or "registered client"
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise _invalid(
            "invalid_client_metadata",
            f"client_name must be printable text of at most {MAX_NAME_LENGTH} characters.",
        )
    squashed = _squash(name)
    for client in idp.store.all(Client):
        own = _squash(client.name)
        if not client.dynamically_registered and own and own in squashed:
            raise _invalid(
                "invalid_client_metadata",
                f"client_name may not resemble the first-party client {client.name!r}.",
            )
    return name


def _make_room(idp: MockIdP) -> None:
    """Purge expired registered clients; 429 when the table is still full."""
    now = idp.clock.now()
    registered = [c for c in idp.store.all(Client) if c.dynamically_registered]
    if len(registered) < MAX_REGISTERED_CLIENTS:
        return
    live_clients = {
        f.client_id
        for f in idp.store.all(TokenFamily)
        if f.revoked_at is None and f.absolute_expires_at > now
    }
    for client in registered:
        old = (client.registered_at or 0.0) + REGISTRATION_TTL <= now
        if old and client.client_id not in live_clients:
            idp.store.delete(Client, client.client_id)
    if sum(1 for c in idp.store.all(Client) if c.dynamically_registered) >= (
        MAX_REGISTERED_CLIENTS
    ):
        raise OAuthError(
            "temporarily_unavailable",
            "Too many registered clients; try again later (or POST /_mock/reset).",
            429,
            headers={"Retry-After": "3600"},
        )


@router.post("/oauth/register")
async def register(request: Request) -> JSONResponse:
    idp: MockIdP = request.app.state.idp
    try:
        metadata = loads(await request.body())
    except UnusableBody as exc:
        raise _invalid("invalid_client_metadata", str(exc)) from None
    except ValueError:
        raise _invalid("invalid_client_metadata", "The body must be a JSON object.") from None
    if not isinstance(metadata, dict):
        raise _invalid("invalid_client_metadata", "The body must be a JSON object.")
    method = metadata.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise _invalid("invalid_client_metadata", f"Unsupported auth method {str(method)[:64]!r}.")
    redirect_uris = _redirect_uris(metadata, public=method == "none")
    grants = metadata.get("grant_types", ["authorization_code", "refresh_token"])
    if (
        not isinstance(grants, list)
        or not all(isinstance(g, str) for g in grants)
        or not set(grants) <= set(GRANTS)
    ):
        raise _invalid("invalid_client_metadata", f"grant_types must be among {list(GRANTS)}.")
    response_types = metadata.get("response_types", ["code"])
    if response_types != ["code"]:
        raise _invalid("invalid_client_metadata", "Only response_types ['code'] (OAuth 2.1).")
    scope = metadata.get("scope") or DEFAULT_SCOPE
    if not isinstance(scope, str):
        raise _invalid("invalid_client_metadata", "scope must be a space-separated string.")
    scopes = [s for s in dict.fromkeys(scope.split()) if s in ALL_SCOPES]
    name = _client_name(metadata, idp)
    _make_room(idp)
    secret = None if method == "none" else new_secret(32)
    now = idp.clock.now()
    client = Client(
        client_id="dyn-" + new_secret(12),
        name=name,
        redirect_uris=redirect_uris,
        scopes=scopes,
        grant_types=list(dict.fromkeys(grants)),
        client_secret_hash=digest(secret) if secret else None,
        dynamically_registered=True,
        registered_at=now,
    )
    idp.store.put(client)
    idp.audit.record("client.registered", client_id=client.client_id, auth_method=method)
    answer: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": int(now),
        "client_name": client.name,
        "redirect_uris": redirect_uris,
        "grant_types": client.grant_types,
        "response_types": ["code"],
        "token_endpoint_auth_method": method,
        "scope": " ".join(scopes),
    }
    if secret:
        answer["client_secret"] = secret
        answer["client_secret_expires_at"] = 0
    return JSONResponse(answer, status_code=201, headers=NO_STORE)
