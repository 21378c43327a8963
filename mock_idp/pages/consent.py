"""The consent page, and what Accept or Deny does for a browser or a device login."""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from mock_idp.idp import MockIdP
from mock_idp.models import Client, DeviceCode, Org, Site, User
from mock_idp.oauth.adapters import Consent
from mock_idp.oauth.server import OAuth2Error, oauth_request
from mock_idp.pages import errors, flows
from mock_idp.pages.layout import error_page, esc, hidden, page
from mock_idp.permissions import grantable_scopes

router = APIRouter(include_in_schema=False)

Grant = tuple[User, Site, Client, list[str]]


def registered_dynamically(client: Client) -> bool:
    """A client that registered itself (RFC 7591): nobody vouches for its name.

    ``dynamically_registered`` is the flag registration sets on the record; the ``dyn-``
    prefix covers records made before that flag existed.
    """
    flagged = bool(getattr(client, "dynamically_registered", False))
    return flagged or client.client_id.startswith("dyn-")


def _granted(idp: MockIdP, flow: flows.Flow) -> Grant | Response:
    """What this sign-in may grant now; re-checked at every step, because the account
    may have been signed in again or lost its access since the site was chosen."""
    user = idp.store.get(User, flow.get("account_id", ""))
    site = idp.store.get(Site, flow.get("site_id", ""))
    client = idp.store.get(Client, flow["client_id"])
    if user is None or site is None or client is None:
        return error_page(
            "Sign-in incomplete",
            "Sign in and choose a site before allowing access.",
            restart=flow["restart"],
        )
    if site.id not in user.site_access:
        idp.audit.record("consent.refused", account_id=user.account_id, site_id=site.id)
        return error_page(
            "No access to this site",
            f"{user.email} has no access to {site.name}. Start again.",
            403,
            restart=flow["restart"],
        )
    org = idp.store.get(Org, site.org_id)
    scopes = grantable_scopes(str(flow["scope"]).split(), client.scopes, user, site, org)
    return user, site, client, scopes


@router.get("/authorize/consent")
async def consent_page(request: Request, tx: str = "") -> Response:
    idp = flows.idp_of(request)
    flow = flows.lookup(idp, request, tx)
    if isinstance(flow, Response):
        return flow
    granted = _granted(idp, flow)
    if isinstance(granted, Response):
        return granted
    user, site, client, scopes = granted
    dropped = [s for s in str(flow["scope"]).split() if s not in scopes]
    items = "".join(f"<li><code>{esc(s)}</code></li>" for s in scopes) or "<li>nothing</li>"
    note = (
        "<p class=muted>Not granted (your access or your organization's CLI permissions "
        "do not allow it): " + ", ".join(f"<code>{esc(s)}</code>" for s in dropped) + "</p>"
        if dropped
        else ""
    )
    warning = (
        "<p id=third-party role=note><span class=badge>Unverified third-party app</span> "
        "This application registered itself with this identity provider; its name is "
        "not checked by anyone. Allow access only if you started this sign-in.</p>"
        if registered_dynamically(client)
        else ""
    )
    body = (
        warning + f"<p><b>{esc(client.name)}</b> wants to act as "
        f"{esc(user.email)} on <b>{esc(site.name)}</b> ({esc(site.url)}):</p>"
        f"<ul id=scopes>{items}</ul>{note}"
        + '<form method=post action="/authorize/consent" id=consent>'
        + hidden("tx", tx)
        + "<button name=decision value=accept autofocus>Accept</button>"
        + "<button class=secondary name=decision value=deny>Deny</button></form>"
    )
    return page("Allow access?", body)


@router.post("/authorize/consent")
async def consent_submit(request: Request) -> Response:
    idp, form, tx, flow = await flows.posted(request)
    if isinstance(flow, Response):
        return flow
    granted = _granted(idp, flow)
    if isinstance(granted, Response):
        return granted
    decision = form.get("decision")
    if decision not in ("accept", "deny"):
        return error_page(
            "Allow access?",
            "Choose Accept or Deny.",
            restart=f"/authorize/consent?tx={tx}",
            restart_label="Back to the question",
        )
    flows.finish(idp, tx, flow)
    user, site, _, scopes = granted
    consent = Consent(user=user, site_id=site.id, scope=" ".join(scopes))
    if decision == "deny":
        idp.audit.record("consent.denied", account_id=user.account_id, client_id=flow["client_id"])
    if flow["kind"] == "device":
        return _finish_device(idp, flow, consent if decision == "accept" else None)
    return _finish_authorize(idp, request, flow, consent if decision == "accept" else None)


def _finish_authorize(
    idp: MockIdP, request: Request, flow: flows.Flow, consent: Consent | None
) -> Response:
    server = flows.server_of(request)
    params: dict[str, str] = flow["params"]
    url = str(request.url_for("authorize").include_query_params(**params))
    oauth_req = oauth_request("GET", url, request.headers, params, params)
    try:
        grant = server.get_consent_grant(oauth_req)
    except OAuth2Error as exc:  # the client changed since the flow started
        return errors.authorize_error(idp, request, exc, params.get("state"))
    except ValueError:
        return errors.malformed_request()
    if consent is not None and not consent.scope:
        # RFC 6749 section 4.1.2.1 invalid_scope: nothing asked for may be granted to this
        # account on this site; a code for a token with no scope at all would be useless.
        refused = InvalidScopeError(
            "None of the requested scopes can be granted to this account on this site.",
            redirect_uri=params["redirect_uri"],
        )
        return errors.authorize_error(idp, request, refused, params.get("state"))
    status, _, headers = server.create_authorization_response(oauth_req, consent, grant)
    location = dict(headers).get("Location")
    if location is None:
        return error_page("Authorization failed", "The authorization server could not answer.")
    # RFC 9207: name the issuer in every authorization response.
    location = add_params_to_uri(location, [("iss", idp.issuer(request))])
    return RedirectResponse(location, status_code=status)


def _finish_device(idp: MockIdP, flow: flows.Flow, consent: Consent | None) -> Response:
    record = idp.store.get(DeviceCode, flow["device_code_hash"])
    if record is None or record.status != "pending" or idp.clock.now() >= record.expires_at:
        return error_page(
            "Connect a device",
            "That device code has expired. Start the login on your device again.",
        )
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
            "<p id=result data-result=denied role=status>You denied access. "
            "You can close this window.</p>",
        )
    return page(
        "Device connected",
        "<p id=result data-result=approved role=status>Done: return to your terminal.</p>",
    )
