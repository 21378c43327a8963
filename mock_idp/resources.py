"""The resource side: identity (``/me``), the session's sites, and a permission-checked
Jira-like work item API under ``/ex/jira/{cloudId}/rest/api/3/``.

Every call needs a live access token (RFC 6750). A work item call is then checked, in
this order: the cloudId is the session's site; the token carries the scope; the org's
*current* TWG CLI setting allows the category (so an admin's change applies to existing
sessions at once); the account's own access on the site allows it. Every call is audited
as ``api.call``, as Atlassian's org audit log shows every CLI command.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_idp import work_items
from mock_idp.bearer import ApiError, ApiErrorRoute, Caller, require_access
from mock_idp.idp import MockIdP
from mock_idp.models import DELETE, READ, WRITE, Org, Site, User, category_of
from mock_idp.permissions import org_allows
from mock_idp.work_items import FieldsError

READ_WORK = "read:jira-work"
WRITE_WORK = "write:jira-work"
DELETE_WORK = "delete:jira-work"
SITE_AVATAR = "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/site.png"
VERBS = {READ: "read", WRITE: "create or change", DELETE: "delete"}


class AuditedRoute(ApiErrorRoute):
    """Records every call, like the org audit log: who, where, what, and the outcome."""

    def on_response(self, request: Request, response: Response) -> None:
        idp: MockIdP = request.app.state.idp
        state = request.state
        idp.audit.record(
            "api.call",
            account_id=getattr(state, "account_id", None),
            family=getattr(state, "family_id", None),
            org_id=getattr(state, "org_id", None),
            site_id=getattr(state, "site_id", None),
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            category=getattr(state, "category", None),
            scope=getattr(state, "scope", None),
            # Tells a person's terminal from a coding agent, as the org audit log does.
            user_agent=request.headers.get("user-agent"),
        )


router = APIRouter(route_class=AuditedRoute)


def _caller(request: Request) -> tuple[MockIdP, Caller]:
    idp: MockIdP = request.app.state.idp
    caller = require_access(idp, request)
    request.state.account_id = caller.user.account_id
    request.state.family_id = caller.family.id
    request.state.site_id = caller.family.site_id
    request.state.org_id = caller.family.org_id
    return idp, caller


def _sites_of(idp: MockIdP, caller: Caller) -> list[Site]:
    """The session's site; a session without one reaches every site the account can."""
    ids = [caller.family.site_id] if caller.family.site_id else list(caller.user.site_access)
    sites = (idp.store.get(Site, site_id) for site_id in ids)
    return [site for site in sites if site is not None]


def _picture(user: User) -> str:
    initials = "".join(part[0] for part in user.name.split()[:2]).lower() or "u"
    return f"https://avatar-management.services.atlassian.com/default/{initials}.png"


@router.get("/me")
async def me(request: Request) -> dict[str, Any]:
    _, caller = _caller(request)
    user = caller.user
    return {
        "account_id": user.account_id,
        "account_type": "atlassian",
        "account_status": "active",
        "email": user.email,
        "email_verified": True,
        "name": user.name,
        "nickname": user.name.split()[0] if user.name else user.email.split("@")[0],
        "picture": _picture(user),
        "extended_profile": {},
    }


@router.get("/oauth/token/accessible-resources")
async def accessible_resources(request: Request) -> list[dict[str, Any]]:
    idp, caller = _caller(request)
    scopes = caller.access.token.scope.split()
    return [
        {
            "id": site.id,
            "url": site.url,
            "name": site.name,
            "scopes": scopes,
            "avatarUrl": SITE_AVATAR,
        }
        for site in _sites_of(idp, caller)
    ]


# work items ------------------------------------------------------------------------------


def _forbidden(reason: str, message: str, scope: str, category: str | None) -> ApiError:
    return ApiError(
        403,
        {
            "errorMessages": [message],
            "error": {
                "code": "forbidden",
                "reason": reason,
                "message": message,
                "required_scope": scope,
                "category": category,
            },
        },
    )


def _not_found(id_or_key: str) -> ApiError:
    message = f"Issue {id_or_key} does not exist or you do not have permission to see it."
    return ApiError(404, {"errorMessages": [message], "errors": {}})


def _authorize(request: Request, cloud_id: str, scope: str) -> tuple[MockIdP, Caller, Site]:
    """The checks of every work item call, in order; each failure names what is missing."""
    idp, caller = _caller(request)
    category = category_of(scope)
    request.state.site_id = cloud_id
    request.state.category = category
    request.state.scope = scope
    site = idp.store.get(Site, cloud_id)
    if site is not None:
        request.state.org_id = site.org_id
    if site is None or site not in _sites_of(idp, caller):
        where = caller.family.site_id
        message = (
            f"This session was authorized for site {where}, not {cloud_id}: sign in again "
            "and choose that site."
            if where
            else f"Your account has no access to site {cloud_id}."
        )
        raise _forbidden("wrong_site", message, scope, category)
    org = idp.store.get(Org, site.org_id)
    verb = VERBS.get(category or "", "use")
    # The org's TWG CLI setting is applied when tokens are issued (permissions.py): a
    # token keeps the scopes it was issued with until a refresh or a new login.
    if scope not in caller.scopes:
        if not org_allows(org, scope):
            raise _forbidden(
                "org_cli_permission",
                f"Your organization's admin does not allow the TWG CLI to {verb} work items "
                f"(the permission {scope} is turned off for the TWG CLI).",
                scope,
                category,
            )
        raise _forbidden(
            "scope_missing",
            f"The access token does not carry the scope {scope}: sign in again and grant it.",
            scope,
            category,
        )
    if category is not None and category not in caller.user.site_access.get(site.id, ()):
        raise _forbidden(
            "account_permission",
            f"Your account does not have {category} permission on site {site.name}, "
            f"so it cannot {verb} work items there.",
            scope,
            category,
        )
    work_items.ensure_seeded(idp.store, site, idp.clock.now())
    return idp, caller, site


def _api_base(request: Request, cloud_id: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/ex/jira/{cloud_id}/rest/api/3"


async def _fields(request: Request, *, creating: bool) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            400, {"errorMessages": ["The request body is not valid JSON."], "errors": {}}
        ) from None
    try:
        return work_items.parse_fields(body, creating=creating)
    except FieldsError as exc:
        raise ApiError(400, {"errorMessages": [], "errors": exc.errors}) from None


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        message = f"'{name}' must be a whole number from {low} to {high}."
        raise ApiError(400, {"errorMessages": [message], "errors": {}})
    return value


@router.get("/ex/jira/{cloud_id}/rest/api/3/search")
async def search(request: Request, cloud_id: str) -> dict[str, Any]:
    idp, _, site = _authorize(request, cloud_id, READ_WORK)
    start = _int_param(request, "startAt", 0, 0, 1_000_000)
    limit = _int_param(request, "maxResults", 50, 0, 100)
    items = work_items.items_of(idp.store, site)
    base = _api_base(request, cloud_id)
    return {
        "startAt": start,
        "maxResults": limit,
        "total": len(items),
        "issues": [
            work_items.to_json(item, f"{base}/issue/{item.id}")
            for item in items[start : start + limit]
        ],
    }


@router.post("/ex/jira/{cloud_id}/rest/api/3/issue")
async def create_issue(request: Request, cloud_id: str) -> JSONResponse:
    idp, caller, site = _authorize(request, cloud_id, WRITE_WORK)
    fields = await _fields(request, creating=True)
    item = work_items.create(
        idp.store,
        site,
        summary=fields["summary"].strip(),
        description=fields.get("description"),
        account_id=caller.user.account_id,
        now=idp.clock.now(),
    )
    self_url = f"{_api_base(request, cloud_id)}/issue/{item.id}"
    return JSONResponse({"id": item.id, "key": item.key, "self": self_url}, status_code=201)


@router.get("/ex/jira/{cloud_id}/rest/api/3/issue/{id_or_key}")
async def get_issue(request: Request, cloud_id: str, id_or_key: str) -> dict[str, Any]:
    idp, _, site = _authorize(request, cloud_id, READ_WORK)
    item = work_items.find(idp.store, site, id_or_key)
    if item is None:
        raise _not_found(id_or_key)
    return work_items.to_json(item, f"{_api_base(request, cloud_id)}/issue/{item.id}")


@router.put("/ex/jira/{cloud_id}/rest/api/3/issue/{id_or_key}")
async def update_issue(request: Request, cloud_id: str, id_or_key: str) -> Response:
    idp, _, site = _authorize(request, cloud_id, WRITE_WORK)
    item = work_items.find(idp.store, site, id_or_key)
    if item is None:
        raise _not_found(id_or_key)
    fields = await _fields(request, creating=False)
    if "summary" in fields:
        item.summary = fields["summary"].strip()
    if "description" in fields:
        item.description = fields["description"]
    if "status" in fields:
        item.status = fields["status"]
    item.updated_at = idp.clock.now()
    idp.store.put(item)
    return Response(status_code=204)


@router.delete("/ex/jira/{cloud_id}/rest/api/3/issue/{id_or_key}")
async def delete_issue(request: Request, cloud_id: str, id_or_key: str) -> Response:
    idp, _, site = _authorize(request, cloud_id, DELETE_WORK)
    item = work_items.find(idp.store, site, id_or_key)
    if item is None:
        raise _not_found(id_or_key)
    work_items.delete(idp.store, item)
    return Response(status_code=204)
