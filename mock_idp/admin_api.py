"""The Admin API, in Atlassian Administration's shape, for org-limited Admin API keys.

Besides orgs and users (with suspend and restore) it carries the TWG CLI controls an org
admin has: which permissions the CLI may use (saved with or without revoking sessions),
the list of live CLI sessions and revoking them, the org's IP allowlist, and the org's
events (shaped on Atlassian's ``GET /admin/v1/orgs/{orgId}/events``). Keys are sent as
``Authorization: Bearer <key>`` and looked up by digest; a key reaches its own org only.

The work itself is in ``org_admin``, shared with the Administration console.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mock_idp import org_admin
from mock_idp.bearer import ApiErrorRoute, admin_error, require_admin_key
from mock_idp.idp import MockIdP
from mock_idp.models import AdminKey, Org, TokenFamily, User
from mock_idp.org_admin import Actor, AdminActionError
from mock_idp.secrets_util import fingerprint_of_digest


class AdminRoute(ApiErrorRoute):
    """Also answers an ``AdminActionError`` in the Admin API's error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except AdminActionError as exc:
                return admin_error(exc.status_code, exc.code, exc.detail).response()

        return route_handler


router = APIRouter(prefix="/admin/v1", route_class=AdminRoute)


def _admin(request: Request, org_id: str | None = None) -> tuple[MockIdP, AdminKey]:
    """The key (401 unknown or revoked), then the org (404), then the key's reach (403)."""
    idp: MockIdP = request.app.state.idp
    key = require_admin_key(idp, request)
    if org_id is not None:
        org_admin.org_of(idp, org_id)
        key = require_admin_key(idp, request, org_id)
    return idp, key


def _acting(request: Request, org_id: str) -> tuple[MockIdP, Org, Actor]:
    idp, key = _admin(request, org_id)
    org = org_admin.org_of(idp, org_id)
    return idp, org, org_admin.api_actor(key.email, key.key_hash)


async def _body(request: Request) -> object:
    try:
        return json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        raise admin_error(400, "invalid_request", "The body is not valid JSON.") from None


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _org_json(request: Request, org: Org) -> dict[str, Any]:
    return {
        "id": org.id,
        "type": "orgs",
        "attributes": {"name": org.name},
        "links": {"self": f"{_base(request)}/admin/v1/orgs/{org.id}"},
    }


def user_json(request: Request, idp: MockIdP, org_id: str, user: User) -> dict[str, Any]:
    sites = org_admin.org_sites(idp, org_id)
    access = {sid: cats for sid, cats in user.site_access.items() if sid in sites}
    return {
        "account_id": user.account_id,
        "account_type": "atlassian",
        "account_status": "suspended" if user.suspended else "active",
        "email": user.email,
        "name": user.name,
        "access_billable": bool(access),
        "org_admin": org_id in user.admin_of,
        "product_access": [
            {"site_id": sid, "site_name": sites[sid].name, "categories": list(cats)}
            for sid, cats in access.items()
        ],
        "links": {"self": f"{_base(request)}/users/{user.account_id}"},
    }


def session_json(idp: MockIdP, family: TokenFamily) -> dict[str, Any]:
    user = idp.store.get(User, family.account_id)
    return {
        "id": family.id,
        "account_id": family.account_id,
        "email": user.email if user else None,
        "client_id": family.client_id,
        "site_id": family.site_id,
        "scope": family.scope,
        "created_at": family.created_at,
        # A fingerprint names the current refresh token without revealing it.
        "refresh_token_fp": fingerprint_of_digest(family.current_refresh_hash)
        if family.current_refresh_hash
        else None,
    }


@router.get("/orgs")
async def list_orgs(request: Request) -> dict[str, Any]:
    idp, key = _admin(request)
    return {"data": [_org_json(request, org_admin.org_of(idp, key.org_id))], "links": {}}


@router.get("/orgs/{org_id}")
async def get_org(request: Request, org_id: str) -> dict[str, Any]:
    idp, _ = _admin(request, org_id)
    return {"data": _org_json(request, org_admin.org_of(idp, org_id))}


@router.get("/orgs/{org_id}/users")
async def list_users(request: Request, org_id: str) -> dict[str, Any]:
    idp, _ = _admin(request, org_id)
    org_admin.org_of(idp, org_id)
    users = [user_json(request, idp, org_id, u) for u in org_admin.org_users(idp, org_id)]
    return {"data": users, "links": {}}


# Atlassian's user lifecycle: POST .../directory/users/{accountId}/suspend-access|restore-access
@router.post("/orgs/{org_id}/directory/users/{account_id}/suspend-access")
async def suspend_user(request: Request, org_id: str, account_id: str) -> dict[str, Any]:
    idp, _, actor = _acting(request, org_id)
    user = org_admin.find_user(idp, org_id, account_id)
    ended = org_admin.set_suspended(idp, org_id, actor, user, True)
    return {"message": f"{user.email} is suspended.", "sessions_ended": ended}


@router.post("/orgs/{org_id}/directory/users/{account_id}/restore-access")
async def restore_user(request: Request, org_id: str, account_id: str) -> dict[str, Any]:
    idp, _, actor = _acting(request, org_id)
    user = org_admin.find_user(idp, org_id, account_id)
    org_admin.set_suspended(idp, org_id, actor, user, False)
    return {"message": f"{user.email} is restored.", "sessions_ended": 0}


# TWG CLI controls ------------------------------------------------------------------------


@router.get("/orgs/{org_id}/twg-cli/permissions")
async def get_cli_permissions(request: Request, org_id: str) -> dict[str, Any]:
    idp, _ = _admin(request, org_id)
    return org_admin.cli_setting(org_admin.org_of(idp, org_id))


@router.put("/orgs/{org_id}/twg-cli/permissions")
async def put_cli_permissions(request: Request, org_id: str) -> dict[str, Any]:
    idp, org, actor = _acting(request, org_id)
    allow_all, permissions, revoke = org_admin.parse_setting(await _body(request))
    return org_admin.save_setting(idp, org, actor, allow_all, permissions, revoke)


@router.get("/orgs/{org_id}/twg-cli/sessions")
async def list_cli_sessions(request: Request, org_id: str) -> dict[str, Any]:
    idp, _ = _admin(request, org_id)
    org_admin.org_of(idp, org_id)
    who = request.query_params.get("account_id")
    account = org_admin.find_user(idp, org_id, who).account_id if who else None
    live = org_admin.live_sessions(idp, org_id, account)
    return {"data": [session_json(idp, f) for f in live], "links": {}}


@router.delete("/orgs/{org_id}/twg-cli/sessions")
async def revoke_all_sessions(request: Request, org_id: str) -> dict[str, int]:
    idp, _, actor = _acting(request, org_id)
    return {"revoked_sessions": org_admin.revoke_sessions(idp, org_id, actor, None)}


@router.delete("/orgs/{org_id}/users/{account_id}/twg-cli/sessions")
async def revoke_user_sessions(request: Request, org_id: str, account_id: str) -> dict[str, int]:
    idp, _, actor = _acting(request, org_id)
    if idp.store.get(User, account_id) is None:
        raise admin_error(404, "not_found", f"User {account_id} does not exist.")
    return {"revoked_sessions": org_admin.revoke_sessions(idp, org_id, actor, account_id)}


# IP allowlist ----------------------------------------------------------------------------


@router.get("/orgs/{org_id}/ip-allowlist")
async def get_allowlist(request: Request, org_id: str) -> dict[str, Any]:
    idp, _ = _admin(request, org_id)
    return {"cidrs": org_admin.org_of(idp, org_id).ip_allowlist}


@router.put("/orgs/{org_id}/ip-allowlist")
async def put_allowlist(request: Request, org_id: str) -> dict[str, Any]:
    idp, org, actor = _acting(request, org_id)
    body = await _body(request)
    if not isinstance(body, dict) or set(body) != {"cidrs"}:
        raise admin_error(400, "invalid_request", 'Send {"cidrs": ["203.0.113.0/24", ...]}.')
    cidrs = org_admin.parse_cidrs(body["cidrs"])
    return {"cidrs": org_admin.set_allowlist(idp, org, actor, cidrs)}


@router.delete("/orgs/{org_id}/ip-allowlist")
async def clear_allowlist(request: Request, org_id: str) -> dict[str, Any]:
    idp, org, actor = _acting(request, org_id)
    return {"cidrs": org_admin.set_allowlist(idp, org, actor, [])}


# Admin API keys ----------------------------------------------------------------------------


@router.delete("/orgs/{org_id}/api-keys/{key_fp}")
async def revoke_key(request: Request, org_id: str, key_fp: str) -> dict[str, Any]:
    """Revoke one of the org's Admin API keys, named by its fingerprint."""
    idp, _, actor = _acting(request, org_id)
    for key in idp.store.all(AdminKey):
        if key.org_id == org_id and fingerprint_of_digest(key.key_hash) == key_fp:
            if key.revoked_at is None:
                key.revoked_at = idp.clock.now()
                idp.store.put(key)
            idp.audit.record("admin.key_revoked", org_id=org_id, **actor.details(), fp=key_fp)
            return {"revoked": key_fp}
    raise admin_error(404, "not_found", f"No API key {key_fp[:20]} in this organization.")


# events ------------------------------------------------------------------------------------


def _from_param(raw: str | None) -> float | None:
    """Atlassian's ``from``: epoch milliseconds or an ISO 8601 time."""
    if raw is None or raw == "":
        return None
    if raw.isdigit():
        return int(raw) / 1000
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise admin_error(
            400, "invalid_request", "'from' must be epoch milliseconds or an ISO 8601 time."
        ) from None
    if parsed.tzinfo is None:
        raise admin_error(400, "invalid_request", "'from' needs a time zone (e.g. Z).")
    return parsed.timestamp()


@router.get("/orgs/{org_id}/events")
async def list_events(request: Request, org_id: str) -> dict[str, Any]:
    idp, _ = _admin(request, org_id)
    org_admin.org_of(idp, org_id)
    params = request.query_params
    since = _from_param(params.get("from"))
    cursor = params.get("cursor") or "0"
    if not cursor.isdigit() or len(cursor) > 18:
        raise admin_error(400, "invalid_request", "'cursor' is not one this API gave out.")
    found, after = org_admin.org_events(idp, org_id, since, int(cursor))
    self_url = f"{_base(request)}/admin/v1/orgs/{org_id}/events"
    links: dict[str, str] = {"self": str(request.url)}
    meta: dict[str, Any] = {"page_size": len(found), "next": None}
    if after is not None:
        query = {k: v for k, v in params.items() if k != "cursor"} | {"cursor": str(after)}
        links["next"] = f"{self_url}?{urlencode(query)}"
        meta["next"] = str(after)
    return {"data": found, "meta": meta, "links": links}
