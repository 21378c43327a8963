"""What a CLI session may do: the meet of the token's scopes, the org's TWG CLI permission
setting and the account's own access on the site. Nothing grants more than the account has.

The org setting is permission by permission (an OAuth scope name is a permission) inside
three categories, as Atlassian Administration shows them: Read, Write and manage, Delete,
or "allow all permissions". It is applied when tokens are *issued* (consent, and every
refresh re-issues them): a session keeps the rights it was issued with until then, which
is why an admin's save offers to revoke sessions.
"""

from __future__ import annotations

from mock_idp.models import (
    CATEGORIES,
    CATEGORY_SCOPES,
    DELETE,
    IDENTITY_SCOPES,
    READ,
    WRITE,
    Org,
    Site,
    User,
    category_of,
)
from mock_idp.store import MemoryStore

# How Atlassian Administration titles the three categories.
CATEGORY_TITLES = {READ: "Read", WRITE: "Write and manage", DELETE: "Delete"}
# What each permission lets the CLI do, for the console.
PERMISSION_LABELS = {
    "read:jira-work": "View Jira work items",
    "read:jira-user": "View Jira users",
    "read:confluence-content.all": "View Confluence content",
    "write:jira-work": "Create and edit Jira work items",
    "manage:jira-project": "Manage Jira projects",
    "write:confluence-content": "Create and edit Confluence content",
    "delete:jira-work": "Delete Jira work items",
}


def all_permissions() -> list[str]:
    return [scope for category in CATEGORIES for scope in CATEGORY_SCOPES[category]]


def allowed_categories(user: User, site: Site | None, org: Org | None) -> set[str]:
    """Categories the account may use on ``site`` under its org's current CLI setting."""
    if site is None:
        return set()
    own = set(user.site_access.get(site.id, ()))
    return own & org.allowed_categories() if org is not None else own


def org_allows(org: Org | None, scope: str) -> bool:
    """Whether the org's CLI setting allows ``scope`` (identity scopes always are)."""
    if org is None or category_of(scope) is None:
        return True
    return scope in org.allowed_scopes()


def grantable_scopes(
    requested: list[str], client_scopes: list[str], user: User, site: Site | None, org: Org | None
) -> list[str]:
    """The scopes a consent may grant: requested, known to the client, and allowed.

    Scopes that are not allowed are dropped rather than failing the whole request, as
    Atlassian does; identity scopes and offline_access need no category.
    """
    own = set(user.site_access.get(site.id, ())) if site is not None else set()
    granted: list[str] = []
    for scope in requested:
        if scope not in client_scopes or scope in granted:
            continue
        category = category_of(scope)
        if category is None and scope not in IDENTITY_SCOPES:
            continue
        if category is not None and (category not in own or not org_allows(org, scope)):
            continue
        granted.append(scope)
    return granted


def reissued_scope(store: MemoryStore, account_id: str, site_id: str | None, scope: str) -> str:
    """``scope`` narrowed to what the org and the account allow now: a refresh re-issues
    the session's tokens under the current setting (it never widens them)."""
    user = store.get(User, account_id)
    site = store.get(Site, site_id) if site_id else None
    if user is None or site is None:
        return scope
    org = store.get(Org, site.org_id)
    names = scope.split()
    kept = grantable_scopes(names, names, user, site, org)
    return " ".join(kept) or scope


def scopes_for(category: str) -> tuple[str, ...]:
    return CATEGORY_SCOPES[category]
