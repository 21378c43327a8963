"""The mock's records. Secrets are never stored: tokens, codes and keys are kept by hash."""

from __future__ import annotations

from dataclasses import dataclass, field

# TWG CLI permission categories, as organization admins see them in Atlassian Administration.
READ = "read"
WRITE = "write"
DELETE = "delete"
CATEGORIES: tuple[str, ...] = (READ, WRITE, DELETE)

# Which OAuth scopes each category governs. Scopes outside every category (identity and
# offline_access) are always allowed.
CATEGORY_SCOPES: dict[str, tuple[str, ...]] = {
    READ: ("read:jira-work", "read:jira-user", "read:confluence-content.all"),
    WRITE: ("write:jira-work", "manage:jira-project", "write:confluence-content"),
    DELETE: ("delete:jira-work",),
}
IDENTITY_SCOPES: tuple[str, ...] = (
    "read:me",
    "read:account",
    "offline_access",
    # OpenID Connect, for third-party relying parties that test against the mock.
    "openid",
    "profile",
    "email",
)


def category_of(scope: str) -> str | None:
    for category, scopes in CATEGORY_SCOPES.items():
        if scope in scopes:
            return category
    return None


@dataclass(slots=True)
class Org:
    id: str
    name: str
    # Org admin's TWG CLI permission setting: allow all, or only the listed categories.
    cli_allow_all: bool = True
    cli_categories: list[str] = field(default_factory=lambda: list(CATEGORIES))
    # Permission by permission (OAuth scope names) when not allow-all; None: every
    # permission of ``cli_categories`` (settings saved before permissions were modelled).
    cli_permissions: list[str] | None = None
    # CIDRs the org's users may call the API and token endpoint from; empty: anywhere.
    ip_allowlist: list[str] = field(default_factory=list)

    def allowed_scopes(self) -> set[str]:
        """The OAuth scopes (permissions) the org lets the TWG CLI use."""
        if self.cli_allow_all:
            return {s for c in CATEGORIES for s in CATEGORY_SCOPES[c]}
        if self.cli_permissions is not None:
            return set(self.cli_permissions)
        return {s for c in self.cli_categories for s in CATEGORY_SCOPES.get(c, ())}

    def allowed_categories(self) -> set[str]:
        """Categories with at least one permission allowed."""
        scopes = self.allowed_scopes()
        return {c for c in CATEGORIES if scopes & set(CATEGORY_SCOPES[c])}


@dataclass(slots=True)
class Site:
    id: str  # Atlassian cloudId
    org_id: str
    name: str
    url: str


@dataclass(slots=True)
class User:
    account_id: str
    email: str
    name: str
    # site id -> categories this account may use on that site (its own product access).
    site_access: dict[str, list[str]] = field(default_factory=dict)
    # orgs where this account is an organization admin.
    admin_of: list[str] = field(default_factory=list)
    # Suspended by an org admin: sessions ended, sign-in and refresh refused until restored.
    suspended: bool = False


@dataclass(slots=True)
class Client:
    client_id: str
    name: str
    redirect_uris: list[str]
    scopes: list[str]
    grant_types: list[str]
    client_secret_hash: str | None = None  # None: a public client (PKCE, no secret)
    # Registered through open RFC 7591 registration (anyone may): the consent page says
    # so, and such clients expire (registration.py). Seeded clients are first-party.
    dynamically_registered: bool = False
    registered_at: float | None = None  # mock clock

    @property
    def is_public(self) -> bool:
        return self.client_secret_hash is None


@dataclass(slots=True)
class AdminKey:
    key_hash: str
    org_id: str
    email: str
    label: str
    created_at: float
    revoked_at: float | None = None  # revoked keys are refused with their own message


@dataclass(slots=True)
class BitbucketToken:
    token_hash: str
    email: str
    username: str
    account_id: str


@dataclass(slots=True)
class AuthCode:
    code_hash: str
    client_id: str
    account_id: str
    site_id: str | None
    redirect_uri: str
    scope: str
    code_challenge: str
    code_challenge_method: str
    issued_at: float
    expires_at: float
    used: bool = False
    # Tokens issued for this code, so that a replayed code can revoke them (OAuth 2.1 4.1.3).
    family_id: str | None = None
    nonce: str | None = None  # OpenID Connect: echoed in the id_token


@dataclass(slots=True)
class DeviceCode:
    device_code_hash: str
    user_code: str
    client_id: str
    scope: str
    issued_at: float
    expires_at: float
    interval: int
    status: str = "pending"  # pending | approved | denied | used
    account_id: str | None = None
    site_id: str | None = None
    granted_scope: str | None = None
    last_poll_at: float | None = None


@dataclass(slots=True)
class TokenFamily:
    """All tokens descending from one authorization: one CLI session."""

    id: str
    client_id: str
    account_id: str
    org_id: str | None
    site_id: str | None
    scope: str
    created_at: float
    absolute_expires_at: float
    current_refresh_hash: str | None = None
    revoked_at: float | None = None
    # logout | reuse_detected | code_replay | org_admin | admin_policy | suspended
    # | absolute_expiry
    revoked_reason: str | None = None


@dataclass(slots=True)
class AccessToken:
    token_hash: str
    family_id: str
    client_id: str
    account_id: str
    scope: str
    issued_at: float
    expires_at: float
    revoked_at: float | None = None


@dataclass(slots=True)
class RefreshToken:
    token_hash: str
    family_id: str
    issued_at: float
    # Idle expiry: pushed forward each time the token's successor is issued, never by reads.
    idle_expires_at: float
    rotated_at: float | None = None  # set when this token was exchanged for a successor
    successor_hash: str | None = None
    revoked_at: float | None = None
    # Keys the successor derived from this token (Sessions.successor_for): a replay in
    # the reuse leeway gets the same successor, never a second lineage.
    successor_salt: str | None = None


@dataclass(slots=True)
class AuditEvent:
    id: int
    at: float
    event: str
    # Fingerprints (hash prefixes) and ids only: never a raw secret.
    details: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class WorkItem:
    """A Jira-like work item (issue) on one site, for the permission-checked API."""

    uid: str  # "<site id>/<key>": keys are unique per site only
    site_id: str
    id: str  # numeric id, as a string (Jira's shape)
    key: str
    summary: str
    description: str | None
    status: str
    created_at: float
    updated_at: float
    creator_account_id: str | None = None
