"""Sign-ins in progress: started by /authorize or /device, continued by the page forms.

Each lives in ``MockIdP.interactions`` under an unguessable id (``tx``) and is bound to the
browser that started it by an HttpOnly, SameSite=Lax cookie: a ``tx`` leaked through a
URL is useless in another browser, and a cross-site form post carries no cookie. Form
posts must also come from the mock's own origin. A sign-in expires on the mock's clock,
and ``/_mock/reset`` drops them all with the rest of the state.
"""

from __future__ import annotations

import hmac
import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from mock_idp.idp import MockIdP
from mock_idp.oauth.fast_token import BadBody
from mock_idp.oauth.server import MockAuthorizationServer
from mock_idp.oauth_routes import read_params
from mock_idp.pages import errors
from mock_idp.secrets_util import digest, new_secret

INTERACTION_TTL = 600.0  # seconds of mock time a person has to finish signing in
MAX_INTERACTIONS = 10_000
COOKIE = "twg_mock_browser"
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{32,64}")

Flow = dict[str, Any]


def idp_of(request: Request) -> MockIdP:
    idp: MockIdP = request.app.state.idp
    return idp


def server_of(request: Request) -> MockAuthorizationServer:
    server: MockAuthorizationServer = request.app.state.oauth
    return server


def _expired(idp: MockIdP, flow: Flow) -> bool:
    return idp.clock.now() - float(flow["started"]) > INTERACTION_TTL


def _make_room(idp: MockIdP) -> None:
    """Bounded: when full, drop a tenth, expired first, then the ones nobody has signed
    in to yet (cheap to make anonymously), oldest first, so real work survives a flood."""
    table = idp.interactions
    if len(table) < MAX_INTERACTIONS:
        return
    ranked = sorted(
        table.items(),
        key=lambda kv: (not _expired(idp, kv[1]), "account_id" in kv[1], kv[1]["started"]),
    )
    for key, _ in ranked[: len(table) - MAX_INTERACTIONS + 1 + MAX_INTERACTIONS // 10]:
        del table[key]


def start(idp: MockIdP, request: Request, flow: Flow, restart: str) -> Response:
    """Begin a sign-in; answers with the redirect to the sign-in page (and the cookie).

    ``restart`` is where "Start again" leads once this sign-in expired.
    """
    _make_room(idp)
    browser = request.cookies.get(COOKIE, "")
    fresh = not _COOKIE_VALUE.fullmatch(browser)
    if fresh:
        browser = new_secret(32)
    tx = new_secret(24)
    idp.interactions[tx] = {
        **flow,
        "started": idp.clock.now(),
        "browser": digest(browser),
        "restart": restart,
    }
    response = see_other("/authorize/login", tx)
    if fresh:
        response.set_cookie(
            COOKIE,
            browser,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
    return response


def authorize_restart(params: dict[str, str]) -> str:
    return "/authorize?" + urlencode(params)


def lookup(idp: MockIdP, request: Request, tx: str | None) -> Flow | Response:
    """The sign-in ``tx`` continues, or the page saying why it cannot go on."""
    flow = idp.interactions.get(tx) if tx else None
    if flow is None:
        return errors.unknown_sign_in()
    if _expired(idp, flow):
        return errors.expired_sign_in(flow["restart"], int(INTERACTION_TTL // 60))
    cookie = digest(request.cookies.get(COOKIE, ""))
    if not hmac.compare_digest(cookie, flow["browser"]):
        return errors.other_browser(flow["restart"])
    return flow


def finish(idp: MockIdP, tx: str) -> None:
    idp.interactions.pop(tx, None)  # one decision per sign-in


def own_origins(idp: MockIdP, request: Request) -> set[str]:
    host = request.headers.get("host", "").lower()
    origins = {f"{request.url.scheme}://{host}"}
    if idp.settings.issuer:
        parts = urlsplit(idp.settings.issuer)
        origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origins


def foreign_post(idp: MockIdP, request: Request) -> Response | None:
    """A form post from another site is refused.

    Browsers send ``Origin`` on every POST, but because every page says
    ``Referrer-Policy: no-referrer`` Chromium sends ``Origin: null`` even from our own
    pages; ``Sec-Fetch-Site`` (sent by every current browser) tells them apart. Scripts
    and the robot may send neither: the sign-in cookie still binds them.
    """
    origin = request.headers.get("origin")
    fetch_site = request.headers.get("sec-fetch-site")
    foreign_origin = origin not in (None, "null") and origin.lower() not in own_origins(
        idp, request
    )
    foreign_fetch = fetch_site is not None and fetch_site not in ("same-origin", "none")
    if not (foreign_origin or foreign_fetch):
        return None
    idp.audit.record("page.foreign_origin", path=request.url.path)
    return errors.foreign_origin()


async def read_form(request: Request) -> dict[str, str]:
    try:
        return await read_params(request)
    except BadBody:
        return {}


async def posted(request: Request) -> tuple[MockIdP, dict[str, str], str, Flow | Response]:
    """A submitted step: the form, its sign-in id and the sign-in it continues (or the
    page refusing it)."""
    idp = idp_of(request)
    refused = foreign_post(idp, request)
    if refused is not None:
        return idp, {}, "", refused
    form = await read_form(request)
    tx = form.get("tx", "")
    return idp, form, tx, lookup(idp, request, tx)


def see_other(path: str, tx: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'tx': tx})}", status_code=303)
