"""The Admin API, in Atlassian Administration's shape, for org-limited Admin API keys.

Besides orgs and users it carries the TWG CLI controls an org admin has: which permission
categories the CLI may use (saved with or without revoking sessions), the list of live CLI
sessions, and revoking everyone's or one user's sessions. Keys are sent as
``Authorization: Bearer <key>`` and looked up by digest; a key reaches its own org only.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from mock_idp.bearer import ApiErrorRoute, admin_error, require_admin_key
from mock_idp.idp import MockIdP
from mock_idp.models import CATEGORIES, AdminKey, Org, Site, TokenFamily, User
from mock_idp.secrets_util import fingerprint_of_digest

router = APIRouter(prefix="/admin/v1", route_class=ApiErrorRoute)


def _admin(request: Request, org_id: str | None = None) -> tuple[MockIdP, AdminKey]:
    idp: MockIdP = request.app.state.idp
    return idp, require_admin_key(idp, request, org_id)


def _org(idp: MockIdP, org_id: str) -> Org:
    org = idp.store.get(Org, org_id)
    if org is None:
        raise admin_error(404, "not_found", f"Organization {org_id} does not exist.")
    return org


def _org_json(request: Request, org: Org) -> dict[str, Any]:
    return {
        "id": org.id,
        "type": "orgs",
        "attributes": {"name": org.name},
        "links": {"self": f"{str(request.base_url).rstrip('/')}/admin/v1/orgs/{org.id}"},
    }


def _org_sites(idp: MockIdP, org_id: str) -> dict[str, Site]:
    return {site.id: site for site in idp.store.all(Site) if site.org_id == org_id}


def _cli_setting(org: Org) -> dict[str, Any]:
    categories = list(CATEGORIES) if org.cli_allow_all else list(org.cli_categories)
    return {"allow_all": org.cli_allow_all, "categories": categories}


def _session_json(idp: MockIdP, family: TokenFamily) -> dict[str, Any]:
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
    return {"data": [_org_json(request, _org(idp, key.org_id))], "links": {}}


@router.get("/orgs/{org_id}")
async def get_org(request: Request, org_id: str) -> dict[str, Any]:
    idp, _ = _admin(request, org_id)
    return {"data": _org_json(request, _org(idp, org_id))}


@router.get("/orgs/{org_id}/users")
async def list_users(request: Request, org_id: str) -> dict[str, Any]:
    idp, _ = _admin(request, org_id)
    _org(idp, org_id)
    sites = _org_sites(idp, org_id)
    users = []
    for user in sorted(idp.store.all(User), key=lambda u: u.email):
        access = {sid: cats for sid, cats in user.site_access.items() if sid in sites}
        if not access and org_id not in user.admin_of:
            continue
        users.append(
            {
                "account_id": user.account_id,
                "account_type": "atlassian",
                "account_status": "active",
                "email": user.email,
                "name": user.name,
                "access_billable": bool(access),
                "org_admin": org_id in user.admin_of,
                "product_access": [
                    {"site_id": sid, "site_name": sites[sid].name, "categories": list(cats)}
                    for sid, cats in access.items()
                ],
                "links": {"self": f"{str(request.base_url).rstrip('/')}/users/{user.account_id}"},
            }
        )
    return {"data": users, "links": {}}


# TWG CLI controls ------------------------------------------------------------------------


@router.get("/orgs/{org_id}/twg-cli/permissions")
async def get_cli_permissions(request: Request, org_id: str) -> dict[str, Any]:
    idp, _ = _admin(request, org_id)
    return _cli_setting(_org(idp, org_id))


def _parse_setting(body: object) -> tuple[bool, list[str], bool]:
    """(allow_all, categories, revoke_sessions) from a PUT body; 400 when it is unclear."""
    if not isinstance(body, dict):
        raise admin_error(400, "invalid_request", "The body must be a JSON object.")
    unknown = set(body) - {"allow_all", "categories", "revoke_sessions"}
    if unknown:
        raise admin_error(
            400, "invalid_request", f"Unknown field(s): {', '.join(sorted(unknown))}."
        )
    allow_all = body.get("allow_all", False)
    revoke = body.get("revoke_sessions", False)
    if not isinstance(allow_all, bool) or not isinstance(revoke, bool):
        raise admin_error(
            400, "invalid_request", "'allow_all' and 'revoke_sessions' must be true or false."
        )
    categories = body.get("categories", list(CATEGORIES) if allow_all else None)
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise admin_error(
            400,
            "invalid_request",
            f"'categories' must be a list drawn from {', '.join(CATEGORIES)}.",
        )
    bad = sorted(set(categories) - set(CATEGORIES))
    if bad:
        raise admin_error(
            400,
            "invalid_category",
            f"Unknown permission category {', '.join(bad)}: use {', '.join(CATEGORIES)}.",
        )
    if allow_all:
        categories = list(CATEGORIES)
    # Keep the canonical order whatever order the admin sent.
    return allow_all, [c for c in CATEGORIES if c in categories], revoke


@router.put("/orgs/{org_id}/twg-cli/permissions")
async def put_cli_permissions(request: Request, org_id: str) -> dict[str, Any]:
    idp, key = _admin(request, org_id)
    org = _org(idp, org_id)
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        raise admin_error(400, "invalid_request", "The body is not valid JSON.") from None
    allow_all, categories, revoke = _parse_setting(body)
    before = _cli_setting(org)
    org.cli_allow_all = allow_all
    org.cli_categories = categories
    idp.store.put(org)
    after = _cli_setting(org)
    idp.audit.record(
        "admin.permissions_changed",
        org_id=org_id,
        admin=key.email,
        key_fp=fingerprint_of_digest(key.key_hash),
        before=before,
        after=after,
        revoke_sessions=revoke,
    )
    # Saved "and revoke sessions": everyone signs in again and gets the new scopes.
    revoked = _revoke(idp, key, org_id, None, "admin_policy") if revoke else 0
    return {**after, "revoked_sessions": revoked}


@router.get("/orgs/{org_id}/twg-cli/sessions")
async def list_cli_sessions(request: Request, org_id: str) -> dict[str, Any]:
    idp, _ = _admin(request, org_id)
    _org(idp, org_id)
    live = [f for f in idp.sessions.live_sessions() if f.org_id == org_id]
    live.sort(key=lambda f: f.created_at)
    return {"data": [_session_json(idp, f) for f in live], "links": {}}


def _revoke(
    idp: MockIdP, key: AdminKey, org_id: str, account_id: str | None, reason: str = "org_admin"
) -> int:
    """Revoke the org's (or one account's) live CLI sessions and audit who did it."""
    count = idp.sessions.revoke_sessions(org_id=org_id, account_id=account_id, reason=reason)
    idp.audit.record(
        "admin.sessions_revoked",
        org_id=org_id,
        admin=key.email,
        account_id=account_id,
        reason=reason,
        count=count,
    )
    return count


@router.delete("/orgs/{org_id}/twg-cli/sessions")
async def revoke_all_sessions(request: Request, org_id: str) -> dict[str, int]:
    idp, key = _admin(request, org_id)
    _org(idp, org_id)
    return {"revoked_sessions": _revoke(idp, key, org_id, None)}


@router.delete("/orgs/{org_id}/users/{account_id}/twg-cli/sessions")
async def revoke_user_sessions(request: Request, org_id: str, account_id: str) -> dict[str, int]:
    idp, key = _admin(request, org_id)
    _org(idp, org_id)
    if idp.store.get(User, account_id) is None:
        raise admin_error(404, "not_found", f"User {account_id} does not exist.")
    return {"revoked_sessions": _revoke(idp, key, org_id, account_id)}
