"""``GET /``: what this server is, where its metadata and control API are, and the world it
holds right now (who may use which site, and the published test secrets)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from mock_idp.models import AdminKey, BitbucketToken, Client, Org, Site, User
from mock_idp.pages import flows
from mock_idp.pages.layout import esc, page
from mock_idp.secrets_util import digest
from mock_idp.seed import DEFAULT_SEED

router = APIRouter(include_in_schema=False)


def _table(caption: str, head: list[str], rows: list[list[str]]) -> str:
    ident = "t-" + "".join(ch for ch in caption.lower() if ch.isalnum())[:24]
    heading = f"<h2 id={ident}>{esc(caption)}</h2>"
    if not rows:
        return f"{heading}<p class=muted>none</p>"
    th = "".join(f"<th scope=col>{esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (
        f"{heading}<table aria-labelledby={ident}>"
        f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
    )


def _published_secrets(
    kind: type[AdminKey] | type[BitbucketToken], section: str, field: str, request: Request
) -> list[dict[str, str]]:
    """Only the seed's published test secrets that still work: a custom seed's secrets
    are never shown (the store keeps digests only, so they could not be anyway)."""
    store = flows.idp_of(request).store
    items: list[dict[str, str]] = DEFAULT_SEED[section]
    return [item for item in items if store.get(kind, digest(item[field])) is not None]


@router.get("/")
async def landing(request: Request) -> Response:
    store = flows.idp_of(request).store
    orgs = {o.id: o for o in store.all(Org)}
    sites = {s.id: s for s in store.all(Site)}

    def site_name(site_id: str) -> str:
        site = sites.get(site_id)
        return site.name if site else site_id

    org_rows = [
        [
            esc(o.name),
            f"<code>{esc(o.id)}</code>",
            esc(", ".join(s.name for s in sites.values() if s.org_id == o.id)),
            esc("all" if o.cli_allow_all else ", ".join(o.cli_categories) or "none"),
        ]
        for o in orgs.values()
    ]
    site_rows = [
        [
            esc(s.name),
            esc(s.url),
            f"<code>{esc(s.id)}</code>",
            esc(orgs[s.org_id].name if s.org_id in orgs else s.org_id),
        ]
        for s in sites.values()
    ]
    user_rows = [
        [
            esc(u.email),
            esc(u.name),
            "<br>".join(
                f"{esc(site_name(sid))}: {esc(', '.join(access) or 'none')}"
                for sid, access in u.site_access.items()
            )
            or "no site",
            esc(", ".join(orgs[o].name if o in orgs else o for o in u.admin_of) or "-"),
        ]
        for u in store.all(User)
    ]
    client_rows = [
        [
            f"<code>{esc(c.client_id)}</code>",
            esc(c.name),
            "public (PKCE)" if c.is_public else "confidential",
            "<br>".join(f"<code>{esc(uri)}</code>" for uri in c.redirect_uris),
        ]
        for c in store.all(Client)
    ]
    key_rows = [
        [f"<code>{esc(k['key'])}</code>", esc(k["email"]), esc(k["label"])]
        for k in _published_secrets(AdminKey, "admin_keys", "key", request)
    ]
    token_rows = [
        [f"<code>{esc(t['token'])}</code>", esc(t["email"]), esc(t["username"])]
        for t in _published_secrets(BitbucketToken, "bitbucket_tokens", "token", request)
    ]
    body = (
        "<p>This is the <b>twg mock Atlassian identity provider</b>: a local stand-in for "
        "Atlassian's OAuth 2.0 sign-in, its APIs and its Admin API, for trying and testing "
        "the <code>twg</code> CLI. Nothing here is real Atlassian; every secret on this "
        "page is a published test value.</p>"
        "<ul>"
        '<li><a href="/.well-known/oauth-authorization-server">Authorization server '
        "metadata</a> (RFC 8414) and "
        '<a href="/.well-known/openid-configuration">OpenID configuration</a></li>'
        '<li><a href="/_mock/docs">Control API documentation</a> (clock, reset, seed, '
        "settings, faults, sessions, audit) and its "
        '<a href="/_mock/openapi.json">OpenAPI description</a></li>'
        '<li><a href="/device">Connect a device</a> (the device login page)</li>'
        "</ul>"
        + _table("Organizations", ["Name", "Id", "Sites", "CLI permissions"], org_rows)
        + _table("Sites", ["Name", "URL", "cloudId", "Organization"], site_rows)
        + _table(
            "Users (sign in with any of these)",
            ["Email", "Name", "Site access (permissions)", "Admin of"],
            user_rows,
        )
        + _table("OAuth clients", ["client_id", "Name", "Type", "Redirect URIs"], client_rows)
        + _table("Admin API keys (Bearer)", ["Key", "Admin", "Label"], key_rows)
        + _table("Bitbucket API tokens (Basic email:token)", ["Token", "Email", "User"], token_rows)
    )
    return page("twg mock identity provider", body, wide=True)
