"""``GET /authorize`` (the start of a browser login) and the sign-in page."""

from __future__ import annotations

from authlib.oidc.core.errors import LoginRequiredError
from fastapi import APIRouter, Request
from starlette.responses import Response

from mock_idp.idp import MockIdP
from mock_idp.models import Client, User
from mock_idp.oauth.adapters import ClientModel
from mock_idp.oauth.server import OAuth2Error, oauth_request
from mock_idp.pages import errors, flows
from mock_idp.pages.layout import alert, error_page, esc, field_error, hidden, page

router = APIRouter(include_in_schema=False)


@router.get("/authorize")
async def authorize(request: Request) -> Response:
    idp, server = flows.idp_of(request), flows.server_of(request)
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
        return errors.authorize_error(idp, request, exc, params.get("state"))
    except ValueError:
        # authlib refuses to build an error whose description would echo '"', '\' or
        # non-ASCII input (an odd redirect_uri or response_type): still a 400 page.
        idp.audit.record("authorize.rejected", error="invalid_request", redirected=False)
        return errors.malformed_request()
    if "none" in params.get("prompt", "").split():
        # OpenID Connect Core 3.1.2.6: prompt=none forbids any page, and the mock keeps
        # no sign-in session to answer silently from.
        refused = LoginRequiredError(
            "Signing in needs a page; prompt=none forbids it.",
            redirect_uri=params["redirect_uri"],
        )
        return errors.authorize_error(idp, request, refused, params.get("state"))
    client: ClientModel = grant.client
    flow = {
        "kind": "authorize",
        "params": params,
        "client_id": client.get_client_id(),
        "scope": client.get_allowed_scope(params.get("scope")),
    }
    return flows.start(idp, request, flow, flows.authorize_restart(params))


@router.get("/authorize/login")
async def login_page(request: Request, tx: str = "") -> Response:
    idp = flows.idp_of(request)
    flow = flows.lookup(idp, request, tx)
    if isinstance(flow, Response):
        return flow
    return login_form(idp, tx, flow)


def login_form(idp: MockIdP, tx: str, flow: flows.Flow, error: str = "") -> Response:
    client = idp.store.get(Client, flow["client_id"])
    people = "".join(
        f'<li><button class=secondary name=email value="{esc(u.email)}">{esc(u.name)}'
        f" &lt;{esc(u.email)}&gt;</button></li>"
        for u in idp.store.all(User)
    )
    body = (
        (alert(error) if error else "")
        + f"<p>to continue to <b>{esc(client.name if client else flow['client_id'])}</b></p>"
        + '<form method=post action="/authorize/login" id=signin>'
        + hidden("tx", tx)
        + "<label for=email>Email</label>"
        + "<input type=email id=email name=email autocomplete=username required autofocus"
        + f"{field_error(error)}>"
        + "<button type=submit>Continue</button></form>"
        + '<form method=post action="/authorize/login" id=pick aria-labelledby=pick-title>'
        + "<p class=muted id=pick-title>Or pick a test user:</p>"
        + hidden("tx", tx)
        + f"<ul class=people>{people}</ul>"
        + "</form>"
    )
    return page("Sign in to Atlassian", body, 400 if error else 200)


@router.post("/authorize/login")
async def login_submit(request: Request) -> Response:
    idp, form, tx, flow = await flows.posted(request)
    if isinstance(flow, Response):
        return flow
    email = form.get("email", "").strip().lower()
    user = next((u for u in idp.store.all(User) if u.email.lower() == email), None)
    if user is None:
        return login_form(idp, tx, flow, f"No account for {email or 'an empty email'}.")
    if user.suspended:
        idp.audit.record("signin.refused", account_id=user.account_id, reason="suspended")
        return login_form(
            idp,
            tx,
            flow,
            f"{user.email} is suspended by an organization admin and cannot sign in.",
        )
    flow["account_id"] = user.account_id
    # Signing in again (as someone else) starts the choices over: a site picked for the
    # previous account must not carry over to this one.
    flow.pop("site_id", None)
    refused = flows.save(idp, tx, flow)
    if refused is not None:
        return refused
    idp.audit.record("signin.succeeded", account_id=user.account_id, kind=flow["kind"])
    return flows.see_other("/authorize/site", tx)
