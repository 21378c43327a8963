"""What a CLI session may do: the meet of the token's scopes, the org's TWG CLI permission
setting and the account's own access on the site. Nothing grants more than the account has.
"""

from __future__ import annotations

from mock_idp.models import CATEGORY_SCOPES, IDENTITY_SCOPES, Org, Site, User, category_of


def allowed_categories(user: User, site: Site | None, org: Org | None) -> set[str]:
    """Categories the account may use on ``site`` under its org's current CLI setting."""
    if site is None:
        return set()
    own = set(user.site_access.get(site.id, ()))
    return own & org.allowed_categories() if org is not None else own


def grantable_scopes(
    requested: list[str], client_scopes: list[str], user: User, site: Site | None, org: Org | None
) -> list[str]:
    """The scopes a consent may grant: requested, known to the client, and allowed.

    Scopes that are not allowed are dropped rather than failing the whole request, as
    Atlassian does; identity scopes and offline_access need no category.
    """
    categories = allowed_categories(user, site, org)
    granted: list[str] = []
    for scope in requested:
        if scope not in client_scopes or scope in granted:
            continue
        category = category_of(scope)
        if category is None and scope not in IDENTITY_SCOPES:
            continue
        if category is not None and category not in categories:
            continue
        granted.append(scope)
    return granted


def scopes_for(category: str) -> tuple[str, ...]:
    return CATEGORY_SCOPES[category]
