"""What an org admin can do, once: the Admin API routes and the Administration console both
call these functions, so ``twg admin`` and the console give the same results.

Every change is audited with who made it (the admin's email, and the Admin API key's
fingerprint or "console"), never a secret.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mock_idp.idp import MockIdP
from mock_idp.models import CATEGORIES, CATEGORY_SCOPES, Org, Site, TokenFamily, User
from mock_idp.permissions import all_permissions
from mock_idp.secrets_util import fingerprint_of_digest

MAX_ALLOWLIST = 100
EVENTS_PAGE = 100


class AdminActionError(Exception):
    """A refused admin action: an HTTP status, a stable code and a sentence for a person."""

    def __init__(self, status_code: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: an org admin, through an Admin API key or the console."""

    email: str
    via: str  # "api" or "console"
    key_fp: str | None = None

    def details(self) -> dict[str, object]:
        return {"admin": self.email, "via": self.via, "key_fp": self.key_fp}


def api_actor(email: str, key_hash: str) -> Actor:
    return Actor(email=email, via="api", key_fp=fingerprint_of_digest(key_hash))


def org_of(idp: MockIdP, org_id: str) -> Org:
    org = idp.store.get(Org, org_id)
    if org is None:
        raise AdminActionError(404, "not_found", f"Organization {org_id} does not exist.")
    return org


def org_sites(idp: MockIdP, org_id: str) -> dict[str, Site]:
    return {site.id: site for site in idp.store.all(Site) if site.org_id == org_id}


# TWG CLI permissions ----------------------------------------------------------------------


def cli_setting(org: Org) -> dict[str, Any]:
    allowed = org.allowed_scopes()
    return {
        "allow_all": org.cli_allow_all,
        "categories": [c for c in CATEGORIES if c in org.allowed_categories()],
        "permissions": {c: [s for s in CATEGORY_SCOPES[c] if s in allowed] for c in CATEGORIES},
    }


def parse_setting(body: object) -> tuple[bool, list[str], bool]:
    """(allow_all, permissions, revoke_sessions) from a PUT body.

    ``permissions`` is ``{"read": [...], "write": [...], "delete": [...]}`` (each a list of
    permissions of that category, or ``["all"]``; a category left out allows none);
    ``categories`` (whole categories) is still accepted.
    """
    if not isinstance(body, dict):
        raise AdminActionError(400, "invalid_request", "The body must be a JSON object.")
    unknown = set(body) - {"allow_all", "categories", "permissions", "revoke_sessions"}
    if unknown:
        raise AdminActionError(
            400, "invalid_request", f"Unknown field(s): {', '.join(sorted(unknown))}."
        )
    allow_all = body.get("allow_all", False)
    revoke = body.get("revoke_sessions", False)
    if not isinstance(allow_all, bool) or not isinstance(revoke, bool):
        raise AdminActionError(
            400, "invalid_request", "'allow_all' and 'revoke_sessions' must be true or false."
        )
    if allow_all:
        return True, all_permissions(), revoke
    chosen: set[str] = set()
    categories = body.get("categories")
    if categories is not None:
        if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
            raise AdminActionError(
                400,
                "invalid_request",
                f"'categories' must be a list drawn from {', '.join(CATEGORIES)}.",
            )
        bad = sorted(set(categories) - set(CATEGORIES))
        if bad:
            raise AdminActionError(
                400,
                "invalid_category",
                f"Unknown permission category {', '.join(bad)}: use {', '.join(CATEGORIES)}.",
            )
        chosen.update(s for c in categories for s in CATEGORY_SCOPES[c])
    permissions = body.get("permissions")
    if permissions is not None:
        chosen.update(_parse_permissions(permissions))
    if categories is None and permissions is None:
        raise AdminActionError(
            400, "invalid_request", "Send 'allow_all': true, 'permissions' or 'categories'."
        )
    return False, [s for s in all_permissions() if s in chosen], revoke


def _parse_permissions(permissions: object) -> set[str]:
    if not isinstance(permissions, dict):
        raise AdminActionError(
            400, "invalid_request", "'permissions' must map read, write and delete to lists."
        )
    chosen: set[str] = set()
    for category, names in permissions.items():
        if category not in CATEGORIES:
            raise AdminActionError(
                400,
                "invalid_category",
                f"Unknown permission category {category}: use {', '.join(CATEGORIES)}.",
            )
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise AdminActionError(
                400, "invalid_request", f"'permissions.{category}' must be a list of names."
            )
        own = CATEGORY_SCOPES[category]
        for name in names:
            if name == "all":
                chosen.update(own)
            elif name in own:
                chosen.add(name)
            else:
                raise AdminActionError(
                    400,
                    "invalid_permission",
                    f"{name[:80]} is not a {category} permission: use {', '.join(own)} or all.",
                )
    return chosen


def save_setting(
    idp: MockIdP, org: Org, actor: Actor, allow_all: bool, permissions: list[str], revoke: bool
) -> dict[str, Any]:
    """Save the TWG CLI setting; with ``revoke`` everyone signs in again (new scopes)."""
    before = cli_setting(org)
    org.cli_allow_all = allow_all
    org.cli_permissions = list(permissions)
    org.cli_categories = [c for c in CATEGORIES if set(CATEGORY_SCOPES[c]) & set(permissions)]
    idp.store.put(org)
    after = cli_setting(org)
    idp.audit.record(
        "admin.permissions_changed",
        org_id=org.id,
        **actor.details(),
        before=before,
        after=after,
        revoke_sessions=revoke,
    )
    revoked = revoke_sessions(idp, org.id, actor, None, "admin_policy") if revoke else 0
    return {**after, "revoked_sessions": revoked}


# users ------------------------------------------------------------------------------------


def org_users(idp: MockIdP, org_id: str) -> list[User]:
    sites = org_sites(idp, org_id)
    return [
        u
        for u in sorted(idp.store.all(User), key=lambda u: u.email)
        if any(sid in sites for sid in u.site_access) or org_id in u.admin_of
    ]


def find_user(idp: MockIdP, org_id: str, who: str) -> User:
    """A user of the org by account id or email (case-insensitive)."""
    wanted = who.strip().lower()
    for user in org_users(idp, org_id):
        if user.account_id == who or user.email.lower() == wanted:
            return user
    raise AdminActionError(404, "not_found", f"User {who[:120]} is not in this organization.")


def set_suspended(idp: MockIdP, org_id: str, actor: Actor, user: User, suspended: bool) -> int:
    """Suspend (ending the account's sessions) or restore; returns sessions ended."""
    if suspended and org_id in user.admin_of and user.email == actor.email:
        raise AdminActionError(400, "invalid_request", "You cannot suspend your own account.")
    user.suspended = suspended
    idp.store.put(user)
    ended = 0
    if suspended:
        for family in idp.sessions.live_sessions(user.account_id):
            ended += idp.sessions.revoke_family(family, "suspended")
    idp.audit.record(
        "admin.user_suspended" if suspended else "admin.user_restored",
        org_id=org_id,
        **actor.details(),
        account_id=user.account_id,
        email=user.email,
        sessions_ended=ended,
    )
    return ended


# sessions ---------------------------------------------------------------------------------


def live_sessions(idp: MockIdP, org_id: str, account_id: str | None = None) -> list[TokenFamily]:
    live = [f for f in idp.sessions.live_sessions(account_id) if f.org_id == org_id]
    return sorted(live, key=lambda f: f.created_at)


def revoke_sessions(
    idp: MockIdP, org_id: str, actor: Actor, account_id: str | None, reason: str = "org_admin"
) -> int:
    """Revoke the org's (or one account's) live CLI sessions and audit who did it."""
    count = idp.sessions.revoke_sessions(org_id=org_id, account_id=account_id, reason=reason)
    idp.audit.record(
        "admin.sessions_revoked",
        org_id=org_id,
        **actor.details(),
        account_id=account_id,
        reason=reason,
        count=count,
    )
    return count


# IP allowlist -----------------------------------------------------------------------------


def parse_cidrs(values: object) -> list[str]:
    """Normalised CIDRs (a bare address is one host); refuses anything else."""
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise AdminActionError(400, "invalid_request", "'cidrs' must be a list of strings.")
    if len(values) > MAX_ALLOWLIST:
        raise AdminActionError(
            400, "invalid_request", f"An allowlist holds at most {MAX_ALLOWLIST} entries."
        )
    cidrs: list[str] = []
    for value in values:
        try:
            network = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise AdminActionError(
                400, "invalid_cidr", f"{value[:60]!r} is not an IP address or CIDR range."
            ) from None
        if str(network) not in cidrs:
            cidrs.append(str(network))
    return cidrs


def set_allowlist(idp: MockIdP, org: Org, actor: Actor, cidrs: list[str]) -> list[str]:
    before = list(org.ip_allowlist)
    org.ip_allowlist = list(cidrs)
    idp.store.put(org)
    idp.audit.record(
        "admin.allowlist_changed", org_id=org.id, **actor.details(), before=before, after=cidrs
    )
    return cidrs


# events -----------------------------------------------------------------------------------


def _event_org(idp: MockIdP, details: dict[str, object], sites: dict[str, Site]) -> str | None:
    org_id = details.get("org_id")
    if isinstance(org_id, str):
        return org_id
    site_id = details.get("site_id")
    if isinstance(site_id, str) and site_id in sites:
        return sites[site_id].org_id
    family_id = details.get("family")
    if isinstance(family_id, str):
        family = idp.store.get(TokenFamily, family_id)
        return family.org_id if family else None
    return None


def _family_account(idp: MockIdP, family_id: object) -> str | None:
    """Whose session an event about a token family (a redeemed code, a revoked token) is."""
    family = idp.store.get(TokenFamily, family_id) if isinstance(family_id, str) else None
    return family.account_id if family else None


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat().replace("+00:00", "Z")


def org_events(
    idp: MockIdP, org_id: str, since: float | None = None, after_id: int = 0, limit: int = 100
) -> tuple[list[dict[str, Any]], int | None]:
    """The org's events, oldest first, shaped on Atlassian's org events; and the id to
    continue after when there are more."""
    sites = {s.id: s for s in idp.store.all(Site)}
    emails = {u.account_id: u.email for u in idp.store.all(User)}
    found: list[dict[str, Any]] = []
    for event in idp.audit.events(since_id=after_id):
        if since is not None and event.at < since:
            continue
        if _event_org(idp, event.details, sites) != org_id:
            continue
        if len(found) == limit:
            return found, int(found[-1]["id"])
        details = event.details
        account = details.get("account_id") or _family_account(idp, details.get("family"))
        admin = details.get("admin")
        actor = (
            {"email": admin, "type": "admin", "via": details.get("via")}
            if isinstance(admin, str)
            else {"email": emails.get(str(account)), "id": account, "type": "user"}
        )
        found.append(
            {
                "id": str(event.id),
                "type": "events",
                "attributes": {
                    "time": iso(event.at),
                    "action": event.event,
                    "actor": actor,
                    "context": details,
                },
            }
        )
    return found, None
