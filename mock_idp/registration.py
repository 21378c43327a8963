"""RFC 7591 dynamic client registration, open (it is a mock): a relying party under test
registers its own redirect URIs instead of needing the mock's seed format."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from mock_idp.errors import NO_STORE, OAuthError
from mock_idp.idp import MockIdP
from mock_idp.models import Client
from mock_idp.secrets_util import digest, new_secret
from mock_idp.seed import ALL_SCOPES, DEVICE_GRANT

router = APIRouter(include_in_schema=False)

AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post")
GRANTS = ("authorization_code", "refresh_token", DEVICE_GRANT)


def _invalid(error: str, description: str) -> OAuthError:
    # RFC 7591 section 3.2.2: registration errors are 400 with these codes.
    return OAuthError(error, description, 400)


def _redirect_uris(metadata: dict[str, Any]) -> list[str]:
    uris = metadata.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        raise _invalid("invalid_redirect_uri", "redirect_uris must be a non-empty list of URIs.")
    for uri in uris:
        parts = urlsplit(uri)
        if parts.fragment or parts.scheme not in ("http", "https") or not parts.hostname:
            # RFC 6749 section 3.1.2: absolute, without a fragment.
            raise _invalid("invalid_redirect_uri", f"Not an absolute http(s) URI: {uri}")
    return uris


@router.post("/oauth/register")
async def register(request: Request) -> JSONResponse:
    idp: MockIdP = request.app.state.idp
    try:
        metadata = await request.json()
    except ValueError:
        raise _invalid("invalid_client_metadata", "The body must be a JSON object.") from None
    if not isinstance(metadata, dict):
        raise _invalid("invalid_client_metadata", "The body must be a JSON object.")
    redirect_uris = _redirect_uris(metadata)
    method = metadata.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise _invalid("invalid_client_metadata", f"Unsupported auth method {method!r}.")
    grants = metadata.get("grant_types", ["authorization_code", "refresh_token"])
    if not isinstance(grants, list) or not set(grants) <= set(GRANTS):
        raise _invalid("invalid_client_metadata", f"grant_types must be among {list(GRANTS)}.")
    response_types = metadata.get("response_types", ["code"])
    if response_types != ["code"]:
        raise _invalid("invalid_client_metadata", "Only response_types ['code'] (OAuth 2.1).")
    requested = str(metadata.get("scope") or " ".join(ALL_SCOPES)).split()
    scopes = [s for s in requested if s in ALL_SCOPES]
    secret = None if method == "none" else new_secret(32)
    client = Client(
        client_id="dyn-" + new_secret(12),
        name=str(metadata.get("client_name") or "registered client"),
        redirect_uris=redirect_uris,
        scopes=scopes,
        grant_types=list(grants),
        client_secret_hash=digest(secret) if secret else None,
    )
    idp.store.put(client)
    idp.audit.record("client.registered", client_id=client.client_id, auth_method=method)
    answer: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": int(time.time()),
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
