"""The pages a person sees: sign-in, organization and site, consent; and the RFC 8628
verification page for device logins. ``twg-mock-idp browser`` drives the same pages.

A flow in progress lives server-side under an unguessable id carried in each form.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oidc.core.errors import LoginRequiredError
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mock_idp.html import error_page, esc, hidden, page
from mock_idp.idp import MockIdP
from mock_idp.models import Client, DeviceCode, Org, Site, User
from mock_idp.oauth.adapters import ClientModel, Consent
from mock_idp.oauth.fast_token import BadBody
from mock_idp.oauth.server import MockAuthorizationServer, OAuth2Error, oauth_request
from mock_idp.oauth_routes import read_params
from mock_idp.permissions import grantable_scopes
from mock_idp.secrets_util import new_secret

router = APIRouter(include_in_schema=False)

INTERACTION_TTL = 600.0  # seconds a person has to finish signing in
MAX_INTERACTIONS = 10_000


def _idp(request: Request) -> MockIdP:
    idp: MockIdP = request.app.state.idp
    return idp


def _server(request: Request) -> MockAuthorizationServer:
    server: MockAuthorizationServer = request.app.state.oauth
    return server


def _start(idp: MockIdP, interaction: dict[str, Any]) -> str:
    now = time.monotonic()
    stale = [k for k, v in idp.interactions.items() if now - float(v["started"]) > INTERACTION_TTL]
    for key in stale:
        del idp.interactions[key]
    if len(idp.interactions) >= MAX_INTERACTIONS:
        idp.interactions.pop(next(iter(idp.interactions)))
    tx = new_secret(24)
    idp.interactions[tx] = {**interaction, "started": now}
    return tx


def _interaction(idp: MockIdP, tx: str | None) -> dict[str, Any] | None:
    if not tx:
        return None
    found = idp.interactions.get(tx)
    if found is None or time.monotonic() - float(found["started"]) > INTERACTION_TTL:
        return None
    return found


def _lost() -> Response:
    return error_page("Sign-in expired", "This sign-in is unknown or has expired. Start again.")


def _see_other(path: str, tx: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode({'tx': tx})}", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    try:
        return await read_params(request)
    except BadBody:
        return {}


async def _posted(
    request: Request,
) -> tuple[MockIdP, dict[str, str], str, dict[str, Any] | None]:
    """A submitted step: the form, its interaction id and the flow it continues (if any)."""
    idp = _idp(request)
    form = await _form(request)
    tx = form.get("tx", "")
    return idp, form, tx, _interaction(idp, tx)


# /authorize -------------------------------------------------------------------------------
@router.get("/authorize")
async def authorize(request: Request) -> Response:
    idp, server = _idp(request), _server(request)
    params = dict(request.query_params)
    if len(params) != len(request.query_params.multi_items()):
        # RFC 6749 section 3.1: parameters must not repeat. Which redirect_uri or state
        # would be the real one is unknowable, so no redirect: an error page.
        idp.audit.record("authorize.rejected", error="invalid_request", redirected=False)
        return error_page(
            "Authorization request rejected", "invalid_request: a parameter was sent twice."
        )
    oauth_req = oauth_request("GET", str(request.url), request.headers, params, params)
    try:
        grant = server.get_consent_grant(oauth_req)
    except OAuth2Error as exc:
        return _authorize_error(idp, request, exc, params.get("state"))
    if "none" in params.get("prompt", "").split():
        # OpenID Connect Core 3.1.2.6: prompt=none forbids any page, and the mock keeps
        # no sign-in session to answer silently from.
        refused = LoginRequiredError(
            "Signing in needs a page; prompt=none forbids it.",
            redirect_uri=params["redirect_uri"],
        )
        return _authorize_error(idp, request, refused, params.get("state"))
    client: ClientModel = grant.client
    tx = _start(
        idp,
        {
            "kind": "authorize",
            "params": params,
            "client_id": client.get_client_id(),
            "scope": client.get_allowed_scope(params.get("scope")),
        },
    )
    return _see_other("/authorize/login", tx)


def _authorize_error(
    idp: MockIdP, request: Request, exc: OAuth2Error, state: str | None
) -> Response:
    """RFC 6749 section 4.1.2.1: redirect only to a validated redirect URI."""
    redirect_uri = getattr(exc, "redirect_uri", None)
    idp.audit.record("authorize.rejected", error=exc.error, redirected=bool(redirect_uri))
    if not redirect_uri:
        return error_page("Authorization request rejected", f"{exc.error}: {exc.description}")
    query = [("error", exc.error)]
    if exc.description:
        query.append(("error_description", exc.description))
    if state:
        query.append(("state", state))
    query.append(("iss", idp.issuer(request)))  # RFC 9207
    return RedirectResponse(add_params_to_uri(redirect_uri, query), status_code=302)


@router.get("/authorize/login")
async def login_page(request: Request, tx: str = "") -> Response:
    idp = _idp(request)
    flow = _interaction(idp, tx)
    if flow is None:
        return _lost()
    return _login_form(idp, tx, flow)


def _login_form(idp: MockIdP, tx: str, flow: dict[str, Any], error: str = "") -> Response:
    client = idp.store.get(Client, flow["client_id"])
    people = "".join(
        f'<button class=secondary name=email value="{esc(u.email)}">{esc(u.name)}'
        f" &lt;{esc(u.email)}&gt;</button>"
        for u in idp.store.all(User)
    )
    body = (
        (f"<p class=error id=error>{esc(error)}</p>" if error else "")
        + f"<p>to continue to <b>{esc(client.name if client else flow['client_id'])}</b></p>"
        + '<form method=post action="/authorize/login" id=signin>'
        + hidden("tx", tx)
        + "<label>Email <input type=email name=email autocomplete=username required></label>"
        + "<button type=submit>Continue</button></form>"
        + '<form method=post action="/authorize/login" id=pick>'
        + "<p class=muted>Or pick a test user:</p>"
        + hidden("tx", tx)
        + people
        + "</form>"
    )
    return page("Sign in to Atlassian", body, 400 if error else 200)


@router.post("/authorize/login")
async def login_submit(request: Request) -> Response:
    idp, form, tx, flow = await _posted(request)
    if flow is None:
        return _lost()
    email = form.get("email", "").strip().lower()
    user = next((u for u in idp.store.all(User) if u.email.lower() == email), None)
    if user is None:
        return _login_form(idp, tx, flow, f"No account for {email or 'an empty email'}.")
    flow["account_id"] = user.account_id
    idp.audit.record("signin.succeeded", account_id=user.account_id, kind=flow["kind"])
    return _see_other("/authorize/site", tx)


# organization and site --------------------------------------------------------------------
def _user_sites(idp: MockIdP, user: User) -> list[tuple[Site, Org | None]]:
    sites = [idp.store.get(Site, site_id) for site_id in user.site_access]
    return [(s, idp.store.get(Org, s.org_id)) for s in sites if s is not None]


@router.get("/authorize/site")
async def site_page(request: Request, tx: str = "") -> Response:
    idp = _idp(request)
    flow = _interaction(idp, tx)
    user = idp.store.get(User, flow.get("account_id", "")) if flow else None
    if flow is None or user is None:
        return _lost()
    choices = _user_sites(idp, user)
    if not choices:
        return error_page("No site access", f"{user.email} has no access to any site.", 403)
    by_org: dict[str, list[Site]] = {}
    names: dict[str, str] = {}
    for site, org in choices:
        by_org.setdefault(site.org_id, []).append(site)
        names[site.org_id] = org.name if org else site.org_id
    groups = "".join(
        f"<fieldset><legend>{esc(names[org_id])}</legend>"
        + "".join(
            f'<label><input type=radio name=site_id value="{esc(s.id)}"'
            f"{' checked' if i == 0 and n == 0 else ''}> {esc(s.name)}"
            f" <span class=muted>{esc(s.url)}</span></label>"
            for i, s in enumerate(sites)
        )
        + "</fieldset>"
        for n, (org_id, sites) in enumerate(by_org.items())
    )
    body = (
        f"<p>Signed in as {esc(user.email)}. Choose the organization and site.</p>"
        + '<form method=post action="/authorize/site" id=site>'
        + hidden("tx", tx)
        + groups
        + "<button type=submit>Continue</button></form>"
    )
    return page("Choose a site", body)


@router.post("/authorize/site")
async def site_submit(request: Request) -> Response:
    idp, form, tx, flow = await _posted(request)
    user = idp.store.get(User, flow.get("account_id", "")) if flow else None
    if flow is None or user is None:
        return _lost()
    site_id = form.get("site_id", "")
    if site_id not in user.site_access or idp.store.get(Site, site_id) is None:
        return error_page("Choose a site", "Pick one of the sites listed.", 400)
    flow["site_id"] = site_id
    return _see_other("/authorize/consent", tx)


# consent ----------------------------------------------------------------------------------
def _granted(idp: MockIdP, flow: dict[str, Any]) -> tuple[User, Site, list[str]] | None:
    user = idp.store.get(User, flow.get("account_id", ""))
    site = idp.store.get(Site, flow.get("site_id", ""))
    client = idp.store.get(Client, flow["client_id"])
    if user is None or site is None or client is None:
        return None
    org = idp.store.get(Org, site.org_id)
    scopes = grantable_scopes(str(flow["scope"]).split(), client.scopes, user, site, org)
    return user, site, scopes


@router.get("/authorize/consent")
async def consent_page(request: Request, tx: str = "") -> Response:
    idp = _idp(request)
    flow = _interaction(idp, tx)
    granted = _granted(idp, flow) if flow else None
    if flow is None or granted is None:
        return _lost()
    user, site, scopes = granted
    client = idp.store.get(Client, flow["client_id"])
    dropped = [s for s in str(flow["scope"]).split() if s not in scopes]
    items = "".join(f"<li><code>{esc(s)}</code></li>" for s in scopes) or "<li>nothing</li>"
    note = (
        "<p class=muted>Not granted (your access or your organization's CLI permissions "
        "do not allow it): " + ", ".join(f"<code>{esc(s)}</code>" for s in dropped) + "</p>"
        if dropped
        else ""
    )
    body = (
        f"<p><b>{esc(client.name if client else flow['client_id'])}</b> wants to act as "
        f"{esc(user.email)} on <b>{esc(site.name)}</b> ({esc(site.url)}):</p>"
        f"<ul id=scopes>{items}</ul>{note}"
        + '<form method=post action="/authorize/consent" id=consent>'
        + hidden("tx", tx)
        + "<button name=decision value=accept>Accept</button>"
        + "<button class=secondary name=decision value=deny>Deny</button></form>"
    )
    return page("Allow access?", body)


@router.post("/authorize/consent")
async def consent_submit(request: Request) -> Response:
    idp, form, tx, flow = await _posted(request)
    granted = _granted(idp, flow) if flow else None
    if flow is None or granted is None:
        return _lost()
    decision = form.get("decision")
    if decision not in ("accept", "deny"):
        return error_page("Allow access?", "Choose Accept or Deny.", 400)
    idp.interactions.pop(tx, None)  # one decision per flow
    user, site, scopes = granted
    consent = Consent(user=user, site_id=site.id, scope=" ".join(scopes))
    if decision == "deny":
        idp.audit.record("consent.denied", account_id=user.account_id, client_id=flow["client_id"])
    if flow["kind"] == "device":
        return _finish_device(idp, flow, consent if decision == "accept" else None)
    return _finish_authorize(idp, request, flow, consent if decision == "accept" else None)


def _finish_authorize(
    idp: MockIdP, request: Request, flow: dict[str, Any], consent: Consent | None
) -> Response:
    server = _server(request)
    params: dict[str, str] = flow["params"]
    url = str(request.url_for("authorize").include_query_params(**params))
    oauth_req = oauth_request("GET", url, request.headers, params, params)
    try:
        grant = server.get_consent_grant(oauth_req)
    except OAuth2Error as exc:  # the client changed since the flow started
        return _authorize_error(idp, request, exc, params.get("state"))
    if consent is not None and not consent.scope:
        # RFC 6749 section 4.1.2.1 invalid_scope: nothing asked for may be granted to this
        # account on this site; a code for a token with no scope at all would be useless.
        refused = InvalidScopeError(
            "None of the requested scopes can be granted to this account on this site.",
            redirect_uri=params["redirect_uri"],
        )
        return _authorize_error(idp, request, refused, params.get("state"))
    status, _, headers = server.create_authorization_response(oauth_req, consent, grant)
    location = dict(headers).get("Location")
    if location is None:
        return error_page("Authorization failed", "The authorization server could not answer.")
    # RFC 9207: name the issuer in every authorization response.
    location = add_params_to_uri(location, [("iss", idp.issuer(request))])
    return RedirectResponse(location, status_code=status)


# device verification (RFC 8628 section 3.3) -----------------------------------------------
def _device_form(user_code: str = "", error: str = "", status_code: int = 200) -> Response:
    body = (
        (f"<p class=error id=error>{esc(error)}</p>" if error else "")
        + "<p>Enter the code shown in your terminal.</p>"
        + '<form method=post action="/device" id=device>'
        + f'<label>Code <input type=text name=user_code value="{esc(user_code)}" '
        + "autocomplete=off required></label><button type=submit>Continue</button></form>"
    )
    return page("Connect a device", body, status_code)


@router.get("/device")
async def device_page(user_code: str = "") -> Response:
    return _device_form(user_code)


def normalize_user_code(raw: str) -> str:
    letters = "".join(ch for ch in raw.upper() if ch.isalnum())
    return f"{letters[:4]}-{letters[4:]}" if len(letters) == 8 else letters


@router.post("/device")
async def device_submit(request: Request) -> Response:
    idp = _idp(request)
    form = await _form(request)
    code = normalize_user_code(form.get("user_code", ""))
    now = idp.clock.now()
    record = next(
        (
            d
            for d in idp.store.all(DeviceCode)
            if d.user_code == code and d.status == "pending" and now < d.expires_at
        ),
        None,
    )
    if record is None:
        return _device_form(code, "That code is unknown, used or expired.", 400)
    tx = _start(
        idp,
        {
            "kind": "device",
            "device_code_hash": record.device_code_hash,
            "client_id": record.client_id,
            "scope": record.scope,
        },
    )
    return _see_other("/authorize/login", tx)


def _finish_device(idp: MockIdP, flow: dict[str, Any], consent: Consent | None) -> Response:
    record = idp.store.get(DeviceCode, flow["device_code_hash"])
    if record is None or record.status != "pending" or idp.clock.now() >= record.expires_at:
        return error_page("Connect a device", "That device code has expired. Start again.")
    if consent is None:
        record.status = "denied"
    else:
        record.status = "approved"
        record.account_id = consent.user.account_id
        record.site_id = consent.site_id
        record.granted_scope = consent.scope
    idp.store.put(record)
    idp.audit.record(
        "device." + record.status, user_code=record.user_code, account_id=record.account_id
    )
    if consent is None:
        return page(
            "Access denied",
            "<p id=result data-result=denied>You denied access. You can close this window.</p>",
        )
    return page(
        "Device connected", "<p id=result data-result=approved>Done: return to your terminal.</p>"
    )
