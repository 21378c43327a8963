"""Bitbucket Cloud's ``GET /2.0/user``: HTTP Basic with the account email and an API token.

Bitbucket is not covered by the Atlassian OAuth session; the CLI keeps a separate token
and checks it here (``twg doctor``, ``twg setup bitbucket``).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from mock_idp.bearer import ApiError, ApiErrorRoute, credentials
from mock_idp.idp import MockIdP
from mock_idp.models import BitbucketToken, User
from mock_idp.secrets_util import digest, fingerprint_of_digest

router = APIRouter(route_class=ApiErrorRoute)

# Bitbucket's own challenge for API tokens and app passwords.
CHALLENGE = 'Basic realm="Bitbucket.org HTTP"'
UUID_NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")  # RFC 4122 URL namespace


def _unauthorized(message: str) -> ApiError:
    return ApiError(
        401,
        {"type": "error", "error": {"message": message}},
        headers={"WWW-Authenticate": CHALLENGE},
    )


def _basic(request: Request) -> tuple[str, str] | None:
    """(user, password) of an RFC 7617 Basic header, or None when absent or malformed."""
    encoded = credentials(request, "Basic")
    if encoded is None:
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    except ValueError:  # b64decode refuses a str with non-ASCII characters this way
        return None
    name, sep, password = decoded.partition(":")
    return (name, password) if sep and name and password else None


def bitbucket_uuid(account_id: str) -> str:
    """A stable Bitbucket-style ``{uuid}`` for an account."""
    return "{" + str(uuid.uuid5(UUID_NAMESPACE, f"bitbucket:{account_id}")) + "}"


@router.get("/2.0/user")
async def current_user(request: Request) -> dict[str, Any]:
    idp: MockIdP = request.app.state.idp
    pair = _basic(request)
    if pair is None:
        idp.audit.record("bitbucket.auth_failed", why="no_credentials")
        raise _unauthorized(
            "Authentication required: use Basic auth with your Atlassian account email "
            "and a Bitbucket API token."
        )
    email, secret = pair
    token_hash = digest(secret)
    token = idp.store.get(BitbucketToken, token_hash)
    if token is None or token.email.lower() != email.lower():
        idp.audit.record(
            "bitbucket.auth_failed",
            why="unknown_token" if token is None else "email_mismatch",
            token_fp=fingerprint_of_digest(token_hash),
        )
        raise _unauthorized("Invalid credentials: the email and API token do not match.")
    user = idp.store.get(User, token.account_id)
    idp.audit.record(
        "bitbucket.auth",
        account_id=token.account_id,
        token_fp=fingerprint_of_digest(token_hash),
    )
    user_uuid = bitbucket_uuid(token.account_id)
    base = str(request.base_url).rstrip("/")
    return {
        "type": "user",
        "uuid": user_uuid,
        "account_id": token.account_id,
        "username": token.username,
        "nickname": token.username,
        "display_name": user.name if user else token.username,
        "account_status": "active",
        "links": {
            "self": {"href": f"{base}/2.0/users/{user_uuid}"},
            "html": {"href": f"https://bitbucket.org/{user_uuid}/"},
            "avatar": {
                "href": f"https://secure.gravatar.com/avatar/{digest(token.email)[:32]}?d=retro"
            },
        },
    }
