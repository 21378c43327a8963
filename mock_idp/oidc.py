"""Just enough OpenID Connect for third-party relying parties: an RS256 id_token when
``openid`` is granted, the signing key set, and the userinfo endpoint.

The CLI itself does not use OIDC; certified RPs and conformance probes that discover
the mock through /.well-known/openid-configuration do.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from fastapi import APIRouter, Request
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.responses import JSONResponse

from mock_idp.bearer import require_access
from mock_idp.errors import OAuthError
from mock_idp.idp import MockIdP
from mock_idp.models import User

router = APIRouter(include_in_schema=False)

KEY_META = "oidc_signing_key"
ID_TOKEN_TTL = 3600
SUPPORTED_CLAIMS = ["sub", "iss", "aud", "exp", "iat", "nonce", "email", "email_verified", "name"]


def signing_key(idp: MockIdP) -> RSAKey:
    """The mock's signing key: made once, then kept with the state (SQLite survives)."""
    if idp.signing_key is None:
        saved = idp.store.get_meta(KEY_META)
        if saved is not None:
            key = RSAKey.import_key(saved)
        else:
            fresh = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"})
            # RFC 7638 thumbprint as the key id, so RPs can pick the key from the set.
            key = RSAKey.import_key({**fresh.as_dict(private=True), "kid": fresh.thumbprint()})
            idp.store.set_meta(KEY_META, key.as_dict(private=True))
        idp.signing_key = key
    return idp.signing_key


def _half_hash(value: str) -> str:
    # OIDC Core 3.1.3.6: at_hash is the left half of the SHA-256 of the access token.
    half = hashlib.sha256(value.encode()).digest()[:16]
    return base64.urlsafe_b64encode(half).rstrip(b"=").decode()


def id_token(
    idp: MockIdP,
    *,
    issuer: str,
    user: User,
    client_id: str,
    access_token: str,
    nonce: str | None,
) -> str:
    key = signing_key(idp)
    now = int(idp.clock.now())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": user.account_id,
        "aud": client_id,
        "iat": now,
        "exp": now + ID_TOKEN_TTL,
        "auth_time": now,
        "at_hash": _half_hash(access_token),
        "email": user.email,
        "email_verified": True,
        "name": user.name,
    }
    if nonce:
        claims["nonce"] = nonce
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def discovery_fields(issuer: str) -> dict[str, Any]:
    """What OpenID Connect Discovery 1.0 adds to the RFC 8414 document."""
    return {
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": SUPPORTED_CLAIMS,
    }


@router.get("/.well-known/jwks.json")
async def jwks(request: Request) -> JSONResponse:
    key = signing_key(request.app.state.idp)
    return JSONResponse({"keys": [key.as_dict(private=False)]})


@router.api_route("/userinfo", methods=["GET", "POST"])
async def userinfo(request: Request) -> JSONResponse:
    idp: MockIdP = request.app.state.idp
    caller = require_access(idp, request)
    if "openid" not in caller.scopes:
        # OIDC Core 5.3.3 / RFC 6750 section 3.1.
        raise OAuthError(
            "insufficient_scope",
            "The access token was not granted the openid scope.",
            403,
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope", scope="openid"'},
        )
    user = caller.user
    return JSONResponse(
        {"sub": user.account_id, "email": user.email, "email_verified": True, "name": user.name}
    )
