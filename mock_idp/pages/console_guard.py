"""Who may use the Administration console, and how its requests are checked.

A console session is an unguessable id in an HttpOnly ``SameSite=Strict`` cookie, kept
in memory for ``SESSION_TTL``; every POST must come from this server's own origin
(``Origin``, or ``Sec-Fetch-Site`` where no-referrer makes Chromium send ``null``), so
no CSRF; every answer is ``no-store`` and may post forms only here.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from mock_idp.idp import MockIdP
from mock_idp.models import Org, User
from mock_idp.oauth.fast_token import BadBody
from mock_idp.oauth_routes import read_params
from mock_idp.pages.layout import page

COOKIE = "twg_console"
SESSION_TTL = 8 * 3600.0
MAX_SESSIONS = 1000
# The layout's policy (its own style, no framing) plus: forms post only here. Not on the
# sign-in pages, whose consent form ends in a redirect to the client's loopback.
FORM_ACTION = "; form-action 'self'"


def idp_of(request: Request) -> MockIdP:
    idp: MockIdP = request.app.state.idp
    return idp


def console_sessions(request: Request) -> dict[str, dict[str, Any]]:
    store: dict[str, dict[str, Any]] | None = getattr(request.app.state, "console_sessions", None)
    if store is None:
        store = {}
        request.app.state.console_sessions = store
    return store


def secure(response: Response) -> Response:
    # Framing, sniffing and referrers: SecurityHeadersMiddleware, as on every page.
    policy = response.headers.get("Content-Security-Policy")
    if policy:
        response.headers["Content-Security-Policy"] = policy + FORM_ACTION
    response.headers["Cache-Control"] = "no-store"
    return response


def console_page(title: str, body: str, status_code: int = 200) -> Response:
    return secure(page(title, body, status_code))


def see_other(path: str) -> Response:
    return secure(RedirectResponse(path, status_code=303))


def signed_in(request: Request) -> tuple[MockIdP, User, Org] | None:
    idp = idp_of(request)
    found = console_sessions(request).get(request.cookies.get(COOKIE, ""))
    if found is None or time.monotonic() - float(found["started"]) > SESSION_TTL:
        return None
    user = idp.store.get(User, str(found["account_id"]))
    org = idp.store.get(Org, str(found["org_id"]))
    if user is None or org is None or org.id not in user.admin_of or user.suspended:
        return None
    return idp, user, org


def same_origin(request: Request) -> bool:
    """CSRF: a POST must come from the console itself. Browsers send the page's Origin,
    except that under ``Referrer-Policy: no-referrer`` Chromium sends ``Origin: null``;
    then the browser-set (unforgeable by pages) ``Sec-Fetch-Site: same-origin`` decides."""
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin == own:
        return True
    return origin in (None, "null") and request.headers.get("sec-fetch-site") == "same-origin"


async def fields(request: Request) -> dict[str, str]:
    try:
        return await read_params(request)
    except BadBody:
        return {}


async def same_origin_form(request: Request) -> dict[str, str] | None:
    if not same_origin(request):
        return None
    return await fields(request)


def signed_in_admin(request: Request) -> tuple[MockIdP, User, Org] | Response:
    """The signed-in admin, or the redirect to the sign-in page."""
    signed = signed_in(request)
    if signed is None:
        return see_other("/console")
    return signed


def admin_post(request: Request) -> tuple[MockIdP, User, Org] | Response:
    """As ``signed_in_admin``, and the POST must come from the console itself (CSRF)."""
    signed = signed_in_admin(request)
    if isinstance(signed, Response):
        return signed
    if not same_origin(request):
        return forbidden()
    return signed


async def form_lists(request: Request) -> dict[str, list[str]]:
    """A form whose checkboxes repeat a name (``permission=a&permission=b``)."""
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}
    lists: dict[str, list[str]] = {}
    for key, value in pairs[:200]:
        lists.setdefault(key, []).append(value)
    return lists


def forbidden() -> Response:
    return console_page(
        "Request refused",
        "<p class=error id=error>This form did not come from the console (Origin check).</p>",
        403,
    )
