"""Choosing the organization and site the login is for."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from mock_idp.idp import MockIdP
from mock_idp.models import Org, Site, User
from mock_idp.pages import flows
from mock_idp.pages.layout import error_page, esc, hidden, page

router = APIRouter(include_in_schema=False)


def user_sites(idp: MockIdP, user: User) -> list[tuple[Site, Org | None]]:
    sites = [idp.store.get(Site, site_id) for site_id in user.site_access]
    return [(s, idp.store.get(Org, s.org_id)) for s in sites if s is not None]


def signed_in_user(idp: MockIdP, flow: flows.Flow) -> User | None:
    return idp.store.get(User, flow.get("account_id", ""))


def _not_signed_in(tx: str) -> Response:
    return error_page(
        "Sign in first",
        "Nobody has signed in to this sign-in yet.",
        restart=f"/authorize/login?tx={tx}",
        restart_label="Sign in",
    )


@router.get("/authorize/site")
async def site_page(request: Request, tx: str = "") -> Response:
    idp = flows.idp_of(request)
    flow = flows.lookup(idp, request, tx)
    if isinstance(flow, Response):
        return flow
    user = signed_in_user(idp, flow)
    if user is None:
        return _not_signed_in(tx)
    choices = user_sites(idp, user)
    if not choices:
        return error_page(
            "No site access",
            f"{user.email} has no access to any site.",
            403,
            restart=f"/authorize/login?tx={tx}",
            restart_label="Sign in as someone else",
        )
    by_org: dict[str, list[Site]] = {}
    names: dict[str, str] = {}
    for site, org in choices:
        by_org.setdefault(site.org_id, []).append(site)
        names[site.org_id] = org.name if org else site.org_id
    groups = "".join(
        f"<fieldset><legend>{esc(names[org_id])}</legend>"
        + "".join(
            f'<label><input type=radio name=site_id value="{esc(s.id)}"'
            f"{' checked autofocus' if i == 0 and n == 0 else ''}> {esc(s.name)}"
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
    idp, form, tx, flow = await flows.posted(request)
    if isinstance(flow, Response):
        return flow
    user = signed_in_user(idp, flow)
    if user is None:
        return _not_signed_in(tx)
    site_id = form.get("site_id", "")
    if site_id not in user.site_access or idp.store.get(Site, site_id) is None:
        return error_page(
            "Choose a site",
            "Pick one of the sites listed.",
            restart=f"/authorize/site?tx={tx}",
            restart_label="Back to the list of sites",
        )
    flow["site_id"] = site_id
    refused = flows.save(idp, tx, flow)
    if refused is not None:
        return refused
    return flows.see_other("/authorize/consent", tx)
