"""The Administration console: Atlassian Administration's TWG CLI pages, for an org admin.

Sign in as an org admin (carol@example.com for Acme): TWG CLI permissions in the three
categories with the save dialog's two choices, users with suspend and restore, live CLI
sessions with revoke, the IP allowlist and the audit log. Every action calls the same
``org_admin`` functions as the Admin API, so the console and ``twg admin`` agree.

Safety, as a real admin console needs it: sessions and the same-origin check on every
POST are ``console_guard``'s; every page forbids framing (``X-Frame-Options: DENY`` and
CSP ``frame-ancestors 'none'``), sniffing and referrers; every value is escaped.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from mock_idp import org_admin
from mock_idp.idp import MockIdP
from mock_idp.models import CATEGORIES, CATEGORY_SCOPES, Org, User
from mock_idp.org_admin import Actor, AdminActionError
from mock_idp.pages.console_guard import (
    COOKIE,
    MAX_SESSIONS,
    SESSION_TTL,
    admin_post,
    console_page,
    console_sessions,
    fields,
    forbidden,
    form_lists,
    idp_of,
    same_origin,
    same_origin_form,
    see_other,
    signed_in,
    signed_in_admin,
)
from mock_idp.pages.layout import esc
from mock_idp.permissions import CATEGORY_TITLES, PERMISSION_LABELS
from mock_idp.secrets_util import new_secret

router = APIRouter(prefix="/console", include_in_schema=False)

NAV = (
    ("settings", "TWG CLI settings"),
    ("users", "Users"),
    ("sessions", "Active sessions"),
    ("allowlist", "IP allowlist"),
    ("audit", "Audit log"),
)
TITLES = dict(NAV)


def _frame(org: Org, user: User, current: str, body: str, message: str = "") -> str:
    links = " · ".join(
        f'<a href="/console/{key}"{" aria-current=page" if key == current else ""}>{esc(title)}</a>'
        for key, title in NAV
    )
    note = f"<p id=message role=status>{esc(message)}</p>" if message else ""
    return (
        f"<p class=muted>{esc(org.name)} · signed in as {esc(user.email)}</p>"
        f"<nav>{links}</nav>{note}{body}"
        '<form method=post action="/console/logout"><button class=secondary>Sign out</button>'
        "</form>"
    )


def _section(
    org: Org, user: User, current: str, body: str, message: str = "", status_code: int = 200
) -> Response:
    """A console page in section ``current`` (a key of NAV), titled as its nav link."""
    return console_page(TITLES[current], _frame(org, user, current, body, message), status_code)


def _actor(user: User) -> Actor:
    return Actor(email=user.email, via="console")


# sign-in ----------------------------------------------------------------------------------


@router.get("")
async def home(request: Request) -> Response:
    if signed_in(request) is not None:
        return see_other("/console/settings")
    return _login_page(idp_of(request))


def _login_page(idp: MockIdP, error: str = "", status_code: int = 200) -> Response:
    admins = [u for u in idp.store.all(User) if u.admin_of]
    people = "".join(
        f'<button class=secondary name=email value="{esc(u.email)}">{esc(u.name)} '
        f"&lt;{esc(u.email)}&gt;</button>"
        for u in admins
    )
    body = (
        (f"<p class=error id=error>{esc(error)}</p>" if error else "")
        + "<p>Atlassian Administration, for organization admins.</p>"
        + '<form method=post action="/console/login" id=signin>'
        + "<label>Email <input type=email name=email autocomplete=username required></label>"
        + "<button type=submit>Sign in</button></form>"
        + '<form method=post action="/console/login"><p class=muted>Or pick an admin:</p>'
        + people
        + "</form>"
    )
    return console_page("Administration", body, status_code)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await same_origin_form(request)
    if form is None:
        return forbidden()
    idp = idp_of(request)
    email = form.get("email", "").strip().lower()[:200]
    user = next((u for u in idp.store.all(User) if u.email.lower() == email), None)
    if user is None or not user.admin_of or user.suspended:
        return _login_page(idp, f"{email or 'That account'} is not an organization admin.", 403)
    sessions = console_sessions(request)
    if len(sessions) >= MAX_SESSIONS:
        sessions.pop(next(iter(sessions)))
    sid = new_secret(24)
    sessions[sid] = {
        "account_id": user.account_id,
        "org_id": user.admin_of[0],
        "started": time.monotonic(),
    }
    idp.audit.record(
        "admin.console_signin", org_id=user.admin_of[0], admin=user.email, via="console"
    )
    response = see_other("/console/settings")
    response.set_cookie(
        COOKIE, sid, httponly=True, samesite="strict", path="/console", max_age=int(SESSION_TTL)
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    if not same_origin(request):
        return forbidden()
    console_sessions(request).pop(request.cookies.get(COOKIE, ""), None)
    response = see_other("/console")
    response.delete_cookie(COOKIE, path="/console")
    return response


# TWG CLI settings -------------------------------------------------------------------------


def _permission_boxes(allowed: set[str], allow_all: bool) -> str:
    parts = [
        "<label><input type=checkbox name=allow_all value=1 id=allow_all"
        f"{' checked' if allow_all else ''}> Allow all permissions by default</label>"
    ]
    for category in CATEGORIES:
        boxes = "".join(
            f'<label><input type=checkbox name=permission value="{esc(scope)}"'
            f"{' checked' if scope in allowed else ''}> {esc(PERMISSION_LABELS.get(scope, scope))}"
            f" <code>{esc(scope)}</code></label>"
            for scope in CATEGORY_SCOPES[category]
        )
        parts.append(
            f'<fieldset id="category-{category}"><legend>{esc(CATEGORY_TITLES[category])}'
            f"</legend>{boxes}</fieldset>"
        )
    return "".join(parts)


@router.get("/settings")
async def settings(request: Request) -> Response:
    signed = signed_in_admin(request)
    if isinstance(signed, Response):
        return signed
    _, user, org = signed
    return _section(org, user, "settings", _settings_body(org))


def _chosen(form: dict[str, list[str]]) -> tuple[bool, list[str]]:
    allow_all = form.get("allow_all", []) == ["1"]
    known = set(PERMISSION_LABELS)
    permissions = [p for p in form.get("permission", []) if p in known]
    return allow_all, permissions


@router.post("/settings/review")
async def review(request: Request) -> Response:
    """The save dialog: the two choices of Atlassian Administration's dialog."""
    signed = admin_post(request)
    if isinstance(signed, Response):
        return signed
    _, user, org = signed
    allow_all, permissions = _chosen(await form_lists(request))
    hidden = ("<input type=hidden name=allow_all value=1>" if allow_all else "") + "".join(
        f'<input type=hidden name=permission value="{esc(p)}">' for p in permissions
    )
    summary = "all permissions" if allow_all else (", ".join(permissions) or "no permissions")
    body = (
        "<dialog open id=save-dialog aria-labelledby=save-title>"
        "<h2 id=save-title>Save changes to TWG CLI permissions?</h2>"
        f"<p>New setting: <b id=summary>{esc(summary)}</b>.</p>"
        "<p>Revoking sessions signs everyone out of the TWG CLI so that they log in again "
        "with the new permissions. Without revoking, existing sessions keep the permissions "
        "they were issued with until their tokens are re-issued.</p>"
        '<form method=post action="/console/settings">'
        + hidden
        + "<button name=revoke value=0 class=secondary id=save-keep>Save without revoking"
        "</button><button name=revoke value=1 id=save-revoke>Save and revoke sessions</button>"
        '</form><p><a href="/console/settings">Cancel</a></p></dialog>'
    )
    return _section(org, user, "settings", body)


@router.post("/settings")
async def save_settings(request: Request) -> Response:
    signed = admin_post(request)
    if isinstance(signed, Response):
        return signed
    idp, user, org = signed
    form = await form_lists(request)
    allow_all, permissions = _chosen(form)
    revoke = form.get("revoke", []) == ["1"]
    if allow_all:
        permissions = [s for c in CATEGORIES for s in CATEGORY_SCOPES[c]]
    saved = org_admin.save_setting(idp, org, _actor(user), allow_all, permissions, revoke)
    message = (
        f"Saved and revoked {saved['revoked_sessions']} CLI session(s)."
        if revoke
        else "Saved without revoking sessions."
    )
    return _section(org, user, "settings", _settings_body(org), message)


def _settings_body(org: Org) -> str:
    return (
        "<h2>TWG CLI settings</h2><p>Which permissions the Teamwork Graph CLI may use.</p>"
        '<form method=post action="/console/settings/review" id=permissions>'
        + _permission_boxes(org.allowed_scopes(), org.cli_allow_all)
        + "<button type=submit id=save>Save</button></form>"
    )


# users ------------------------------------------------------------------------------------


def _users_body(idp: MockIdP, org: Org, me: User) -> str:
    rows = []
    for u in org_admin.org_users(idp, org.id):
        status = "Suspended" if u.suspended else "Active"
        action = "restore" if u.suspended else "suspend"
        button = (
            ""
            if u.account_id == me.account_id
            else f'<form method=post action="/console/users/{action}">'
            f'<input type=hidden name=email value="{esc(u.email)}">'
            f"<button>{action.title()}</button></form>"
        )
        rows.append(
            f'<tr data-email="{esc(u.email)}"><td>{esc(u.email)}</td><td class=status>'
            f"{status}</td><td>{button}</td></tr>"
        )
    return (
        "<h2>Users</h2><table id=users><tr><th>Email</th><th>Status</th><th></th></tr>"
        + "".join(rows)
        + "</table>"
    )


@router.get("/users")
async def users(request: Request) -> Response:
    signed = signed_in_admin(request)
    if isinstance(signed, Response):
        return signed
    idp, user, org = signed
    return _section(org, user, "users", _users_body(idp, org, user))


async def _user_action(request: Request, suspend: bool) -> Response:
    signed = admin_post(request)
    if isinstance(signed, Response):
        return signed
    form = await fields(request)
    idp, user, org = signed
    try:
        target = org_admin.find_user(idp, org.id, form.get("email", ""))
        ended = org_admin.set_suspended(idp, org.id, _actor(user), target, suspend)
    except AdminActionError as exc:
        body = _users_body(idp, org, user)
        return _section(org, user, "users", body, exc.detail, exc.status_code)
    message = (
        f"Suspended {target.email}: {ended} CLI session(s) ended."
        if suspend
        else f"Restored {target.email}."
    )
    return _section(org, user, "users", _users_body(idp, org, user), message)


@router.post("/users/suspend")
async def suspend(request: Request) -> Response:
    return await _user_action(request, True)


@router.post("/users/restore")
async def restore(request: Request) -> Response:
    return await _user_action(request, False)


# sessions ---------------------------------------------------------------------------------


def _sessions_body(idp: MockIdP, org: Org) -> str:
    live = org_admin.live_sessions(idp, org.id)
    emails = {u.account_id: u.email for u in idp.store.all(User)}
    rows = "".join(
        f'<tr data-email="{esc(emails.get(f.account_id, f.account_id))}">'
        f"<td>{esc(emails.get(f.account_id, f.account_id))}</td>"
        f"<td>{esc(org_admin.iso(f.created_at))}</td><td>"
        '<form method=post action="/console/sessions/revoke">'
        f'<input type=hidden name=account_id value="{esc(f.account_id)}">'
        "<button>Revoke</button></form></td></tr>"
        for f in live
    )
    return (
        f"<h2>Active sessions</h2><p id=count>{len(live)} live CLI session(s).</p>"
        "<table id=sessions><tr><th>User</th><th>Since</th><th></th></tr>"
        + rows
        + '</table><form method=post action="/console/sessions/revoke">'
        "<input type=hidden name=all value=1><button id=revoke-all>Revoke all</button></form>"
    )


@router.get("/sessions")
async def sessions(request: Request) -> Response:
    signed = signed_in_admin(request)
    if isinstance(signed, Response):
        return signed
    idp, user, org = signed
    return _section(org, user, "sessions", _sessions_body(idp, org))


@router.post("/sessions/revoke")
async def revoke(request: Request) -> Response:
    signed = admin_post(request)
    if isinstance(signed, Response):
        return signed
    form = await fields(request)
    idp, user, org = signed
    account = None if form.get("all") == "1" else form.get("account_id") or None
    if account is None and form.get("all") != "1":
        return see_other("/console/sessions")
    count = org_admin.revoke_sessions(idp, org.id, _actor(user), account)
    body = _sessions_body(idp, org)
    return _section(org, user, "sessions", body, f"Revoked {count} session(s).")


# IP allowlist -----------------------------------------------------------------------------


def _allowlist_body(org: Org) -> str:
    items = "".join(f"<li>{esc(c)}</li>" for c in org.ip_allowlist) or "<li>(none)</li>"
    return (
        "<h2>IP allowlist</h2><p>When set, the TWG CLI (API and token requests) works only "
        f"from these ranges.</p><ul id=cidrs>{items}</ul>"
        '<form method=post action="/console/allowlist" id=allowlist>'
        "<label>One IP address or CIDR range per line"
        f"<textarea name=cidrs rows=4>{esc(chr(10).join(org.ip_allowlist))}</textarea></label>"
        "<button id=save-allowlist>Save</button></form>"
        '<form method=post action="/console/allowlist"><input type=hidden name=cidrs value="">'
        "<button class=secondary id=clear-allowlist>Clear</button></form>"
    )


@router.get("/allowlist")
async def allowlist(request: Request) -> Response:
    signed = signed_in_admin(request)
    if isinstance(signed, Response):
        return signed
    _, user, org = signed
    return _section(org, user, "allowlist", _allowlist_body(org))


@router.post("/allowlist")
async def save_allowlist(request: Request) -> Response:
    signed = admin_post(request)
    if isinstance(signed, Response):
        return signed
    form = await fields(request)
    idp, user, org = signed
    lines = [line.strip() for line in form.get("cidrs", "").splitlines() if line.strip()]
    try:
        cidrs = org_admin.parse_cidrs(lines)
    except AdminActionError as exc:
        body = _allowlist_body(org)
        return _section(org, user, "allowlist", body, exc.detail, 400)
    org_admin.set_allowlist(idp, org, _actor(user), cidrs)
    message = "Allowlist saved." if cidrs else "Allowlist cleared."
    return _section(org, user, "allowlist", _allowlist_body(org), message)


# audit log --------------------------------------------------------------------------------


@router.get("/audit")
async def audit(request: Request) -> Response:
    signed = signed_in_admin(request)
    if isinstance(signed, Response):
        return signed
    idp, user, org = signed
    found, _ = org_admin.org_events(idp, org.id, limit=10_000)
    rows = "".join(
        f"<tr><td>{esc(e['attributes']['time'])}</td>"
        f"<td>{esc(e['attributes']['actor'].get('email') or '-')}</td>"
        f"<td class=action>{esc(e['attributes']['action'])}</td></tr>"
        for e in reversed(found[-200:])
    )
    body = (
        "<h2>Audit log</h2><table id=audit><tr><th>Time</th><th>Who</th><th>Action</th></tr>"
        + rows
        + "</table>"
    )
    return _section(org, user, "audit", body)
