"""Sign-ins in progress: started by /authorize or /device, continued by the page forms.

A sign-in's id (``tx``) is the sign-in itself, sealed (HMAC) by the mock: starting one
stores nothing, so a flood of anonymous ``/authorize`` calls cannot crowd out the
sign-in a person is in the middle of. Only once someone signs in is it kept in
``MockIdP.interactions`` (under the same ``tx``), bounded, until the consent decides it.

Every sign-in is bound to the browser that started it by an HttpOnly, SameSite=Lax
cookie: a ``tx`` leaked through a URL is useless in another browser, and a cross-site
form post carries no cookie. Form posts must also come from the mock's own site. A
sign-in expires on the mock's clock; the sealing key lives in the store's meta, so
``/_mock/reset`` (which clears the store) drops every sign-in in progress, and an
expired one still knows where "Start again" leads.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import zlib
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from mock_idp.errors import OAuthError
from mock_idp.idp import MockIdP
from mock_idp.interactions import INTERACTION_TTL
from mock_idp.oauth.fast_token import BadBody
from mock_idp.oauth.server import MockAuthorizationServer
from mock_idp.oauth_routes import read_params
from mock_idp.pages import errors
from mock_idp.secrets_util import digest, new_secret

MAX_TX_LENGTH = 8_192
COOKIE = "twg_mock_browser"
KEY_META = "pages"
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{32,64}")

Flow = dict[str, Any]


def idp_of(request: Request) -> MockIdP:
    idp: MockIdP = request.app.state.idp
    return idp


def server_of(request: Request) -> MockAuthorizationServer:
    server: MockAuthorizationServer = request.app.state.oauth
    return server


# sealing ----------------------------------------------------------------------------------
def _key(idp: MockIdP) -> bytes:
    saved = idp.store.get_meta(KEY_META)
    if saved is None or not isinstance(saved.get("key"), str):
        saved = {"key": secrets.token_hex(32)}
        idp.store.set_meta(KEY_META, saved)
    return bytes.fromhex(saved["key"])


def _generation(idp: MockIdP) -> str:
    """Names the current key: a kept sign-in from before a reset has another one."""
    return hashlib.sha256(_key(idp)).hexdigest()[:16]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _seal(idp: MockIdP, flow: Flow) -> str:
    payload = zlib.compress(json.dumps(flow, separators=(",", ":")).encode())
    mac = hmac.new(_key(idp), payload, hashlib.sha256).digest()[:18]
    return f"{_b64(payload)}.{_b64(mac)}"


def _unseal(idp: MockIdP, tx: str) -> Flow | None:
    """The sign-in a ``tx`` carries, or None when it is not one this mock sealed."""
    if len(tx) > MAX_TX_LENGTH or tx.count(".") != 1:
        return None
    try:
        payload, mac = (_unb64(part) for part in tx.split("."))
        expected = hmac.new(_key(idp), payload, hashlib.sha256).digest()[:18]
        if not hmac.compare_digest(mac, expected):
            return None
        flow = json.loads(zlib.decompressobj().decompress(payload, 65_536))
    except (ValueError, binascii.Error, zlib.error):
        return None
    return flow if isinstance(flow, dict) else None


# the sign-in's life ------------------------------------------------------------------------
def _expired(idp: MockIdP, flow: Flow) -> bool:
    return idp.clock.now() - float(flow["started"]) > INTERACTION_TTL


def start(idp: MockIdP, request: Request, flow: Flow, restart: str) -> Response:
    """Begin a sign-in; answers with the redirect to the sign-in page (and the cookie).

    ``restart`` is where "Start again" leads once this sign-in expired.
    """
    browser = request.cookies.get(COOKIE, "")
    fresh = not _COOKIE_VALUE.fullmatch(browser)
    if fresh:
        browser = new_secret(32)
    tx = _seal(
        idp,
        {
            **flow,
            "started": idp.clock.now(),
            "browser": digest(browser),
            "restart": restart,
            "nonce": new_secret(9),
        },
    )
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
    if not tx:
        return errors.unknown_sign_in()
    kept = idp.interactions.get(tx)
    if kept is not None and kept.get("generation") != _generation(idp):
        kept = None  # kept from before a reset
    flow = kept or _unseal(idp, tx)
    if flow is None:
        return errors.unknown_sign_in()
    if _expired(idp, flow):
        return errors.expired_sign_in(flow["restart"], int(INTERACTION_TTL // 60))
    cookie = digest(request.cookies.get(COOKIE, ""))
    if not hmac.compare_digest(cookie, flow["browser"]):
        return errors.other_browser(flow["restart"])
    if flow.get("finished"):
        return errors.finished_sign_in(flow["restart"])
    return flow


def save(idp: MockIdP, tx: str, flow: Flow) -> Response | None:
    """Keep what the person chose so far; a page when the mock cannot keep more."""
    flow["generation"] = _generation(idp)
    try:
        idp.interactions[tx] = flow
    except OAuthError:  # a table that refuses rather than evicts when full
        return errors.too_many_sign_ins()
    return None


def finish(idp: MockIdP, tx: str, flow: Flow) -> None:
    """One decision per sign-in: what is left answers "already finished"."""
    idp.interactions.pop(tx, None)
    save(
        idp,
        tx,
        {k: flow[k] for k in ("kind", "started", "browser", "restart")} | {"finished": True},
    )


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
