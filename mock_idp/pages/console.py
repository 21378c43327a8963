"""The Administration console: Atlassian Administration's TWG CLI pages, for an org admin.

Sign in as an org admin (carol@example.com for Acme): TWG CLI permissions in the three
categories with the save dialog's two choices, users with suspend and restore, live CLI
sessions with revoke, the IP allowlist and the audit log. Every action calls the same
``org_admin`` functions as the Admin API, so the console and ``twg admin`` agree.

Safety, as a real admin console needs it: a console session is an unguessable id in an
HttpOnly ``SameSite=Strict`` cookie; every POST must come from this server's own origin
(``Origin``, or ``Sec-Fetch-Site`` where no-referrer makes Chromium send ``null``), so
no CSRF; every page forbids framing (``X-Frame-Options: DENY`` and CSP
``frame-ancestors 'none'``), sniffing and referrers; every value is escaped.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mock_idp import org_admin
from mock_idp.idp import MockIdP
from mock_idp.models import CATEGORIES, CATEGORY_SCOPES, Org, User
from mock_idp.oauth.fast_token import BadBody
from mock_idp.oauth_routes import read_params
from mock_idp.org_admin import Actor, AdminActionError
from mock_idp.pages.layout import esc, page
from mock_idp.permissions import CATEGORY_TITLES, PERMISSION_LABELS
from mock_idp.secrets_util import new_secret

router = APIRouter(prefix="/console", include_in_schema=False)

COOKIE = "twg_console"
SESSION_TTL = 8 * 3600.0
MAX_SESSIONS = 1000
# The layout's policy (its own style, no framing) plus: forms post only here. Not on the
# sign-in pages, whose consent form ends in a redirect to the client's loopback.
FORM_ACTION = "; form-action 'self'"
NAV = (
    ("settings", "TWG CLI settings"),
    ("users", "Users"),
    ("sessions", "Active sessions"),
    ("allowlist", "IP allowlist"),
    ("audit", "Audit log"),
)
TITLES = dict(NAV)


def _idp(request: Request) -> MockIdP:
    idp: MockIdP = request.app.state.idp
    return idp


def _sessions(request: Request) -> dict[str, dict[str, Any]]:
    store: dict[str, dict[str, Any]] | None = getattr(request.app.state, "console_sessions", None)
    if store is None:
        store = {}
        request.app.state.console_sessions = store
    return store


def _secure(response: Response) -> Response:
    # Framing, sniffing and referrers: SecurityHeadersMiddleware, as on every page.
    policy = response.headers.get("Content-Security-Policy")
    if policy:
        response.headers["Content-Security-Policy"] = policy + FORM_ACTION
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(title: str, body: str, status_code: int = 200) -> Response:
    return _secure(page(title, body, status_code))


def _see_other(path: str) -> Response:
    return _secure(RedirectResponse(path, status_code=303))


def _signed_in(request: Request) -> tuple[MockIdP, User, Org] | None:
    idp = _idp(request)
    found = _sessions(request).get(request.cookies.get(COOKIE, ""))
    if found is None or time.monotonic() - float(found["started"]) > SESSION_TTL:
        return None
    user = idp.store.get(User, str(found["account_id"]))
    org = idp.store.get(Org, str(found["org_id"]))
    if user is None or org is None or org.id not in user.admin_of or user.suspended:
        return None
    return idp, user, org


def _same_origin(request: Request) -> bool:
    """CSRF: a POST must come from the console itself. Browsers send the page's Origin,
    except that under ``Referrer-Policy: no-referrer`` Chromium sends ``Origin: null``;
    then the browser-set (unforgeable by pages) ``Sec-Fetch-Site: same-origin`` decides."""
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin == own:
        return True
    return origin in (None, "null") and request.headers.get("sec-fetch-site") == "same-origin"


async def _fields(request: Request) -> dict[str, str]:
    try:
        return await read_params(request)
    except BadBody:
        return {}


async def _form(request: Request) -> dict[str, str] | None:
    if not _same_origin(request):
        return None
    return await _fields(request)


def _admin(request: Request) -> tuple[MockIdP, User, Org] | Response:
    """The signed-in admin, or the redirect to the sign-in page."""
    signed = _signed_in(request)
    if signed is None:
        return _see_other("/console")
    return signed


def _admin_post(request: Request) -> tuple[MockIdP, User, Org] | Response:
    """As ``_admin``, and the POST must come from the console itself (CSRF)."""
    signed = _admin(request)
    if isinstance(signed, Response):
        return signed
    if not _same_origin(request):
        return _forbidden()
    return signed


async def _form_lists(request: Request) -> dict[str, list[str]]:
    """A form whose checkboxes repeat a name (``permission=a&permission=b``)."""
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}
    lists: dict[str, list[str]] = {}
    for key, value in pairs[:200]:
        lists.setdefault(key, []).append(value)
    return lists


def _forbidden() -> Response:
    return _page(
        "Request refused",
        "<p class=error id=error>This form did not come from the console (Origin check).</p>",
        403,
    )


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
    return _page(TITLES[current], _frame(org, user, current, body, message), status_code)


def _actor(user: User) -> Actor:
    return Actor(email=user.email, via="console")


# sign-in ----------------------------------------------------------------------------------


@router.get("")
async def home(request: Request) -> Response:
    if _signed_in(request) is not None:
        return _see_other("/console/settings")
    return _login_page(_idp(request))


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
    return _page("Administration", body, status_code)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return _forbidden()
    idp = _idp(request)
    email = form.get("email", "").strip().lower()[:200]
    user = next((u for u in idp.store.all(User) if u.email.lower() == email), None)
    if user is None or not user.admin_of or user.suspended:
        return _login_page(idp, f"{email or 'That account'} is not an organization admin.", 403)
    sessions = _sessions(request)
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
    response = _see_other("/console/settings")
    response.set_cookie(
        COOKIE, sid, httponly=True, samesite="strict", path="/console", max_age=int(SESSION_TTL)
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    if not _same_origin(request):
        return _forbidden()
    _sessions(request).pop(request.cookies.get(COOKIE, ""), None)
    response = _see_other("/console")
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
    signed = _admin(request)
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
    signed = _admin_post(request)
    if isinstance(signed, Response):
        return signed
    _, user, org = signed
    allow_all, permissions = _chosen(await _form_lists(request))
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
    signed = _admin_post(request)
    if isinstance(signed, Response):
        return signed
    idp, user, org = signed
    form = await _form_lists(request)
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
    signed = _admin(request)
    if isinstance(signed, Response):
        return signed
    idp, user, org = signed
    return _section(org, user, "users", _users_body(idp, org, user))


async def _user_action(request: Request, suspend: bool) -> Response:
    signed = _admin_post(request)
    if isinstance(signed, Response):
        return signed
    form = await _fields(request)
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
    signed = _admin(request)
    if isinstance(signed, Response):
        return signed
    idp, user, org = signed
    return _section(org, user, "sessions", _sessions_body(idp, org))


@router.post("/sessions/revoke")
async def revoke(request: Request) -> Response:
    signed = _admin_post(request)
    if isinstance(signed, Response):
        return signed
    form = await _fields(request)
    idp, user, org = signed
    account = None if form.get("all") == "1" else form.get("account_id") or None
    if account is None and form.get("all") != "1":
        return _see_other("/console/sessions")
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
    signed = _admin(request)
    if isinstance(signed, Response):
        return signed
    _, user, org = signed
    return _section(org, user, "allowlist", _allowlist_body(org))


@router.post("/allowlist")
async def save_allowlist(request: Request) -> Response:
    signed = _admin_post(request)
    if isinstance(signed, Response):
        return signed
    form = await _fields(request)
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
    signed = _admin(request)
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
