"""The world the mock starts with, and how a seed document becomes records.

The same document shape is accepted by ``POST /_mock/seed`` and by the ``seed`` table of
the config file. Secrets in a seed (admin keys, Bitbucket tokens, client secrets) are
stored only as digests.
"""

from __future__ import annotations

from typing import Any

from mock_idp.models import (
    CATEGORIES,
    CATEGORY_SCOPES,
    DELETE,
    IDENTITY_SCOPES,
    READ,
    WRITE,
    AdminKey,
    BitbucketToken,
    Client,
    Org,
    Site,
    User,
)
from mock_idp.secrets_util import digest
from mock_idp.store import MemoryStore

ACME_ORG_ID = "6a1d2f0e-0000-4000-8000-00000000ac3e"
GLOBEX_ORG_ID = "6a1d2f0e-0000-4000-8000-0000000910be"
ACME_SITE_ID = "1f4c7a52-0000-4000-8000-0000000000a1"
ACME_SANDBOX_SITE_ID = "1f4c7a52-0000-4000-8000-0000000000a2"
GLOBEX_SITE_ID = "1f4c7a52-0000-4000-8000-0000000000b1"

CLI_CLIENT_ID = "twg-cli"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ALL_SCOPES: list[str] = [
    *IDENTITY_SCOPES,
    *(scope for category in CATEGORIES for scope in CATEGORY_SCOPES[category]),
]

# Well-known secrets of the seeded world, for tests and for people trying the mock.
ACME_ADMIN_KEY = "mock-admin-key-acme"
GLOBEX_ADMIN_KEY = "mock-admin-key-globex"
ALICE_BITBUCKET_TOKEN = "mock-bitbucket-token-alice"  # noqa: S105 (a published test secret)
BOB_BITBUCKET_TOKEN = "mock-bitbucket-token-bob"  # noqa: S105 (a published test secret)

ALL = list(CATEGORIES)

DEFAULT_SEED: dict[str, Any] = {
    "orgs": [
        {"id": ACME_ORG_ID, "name": "Acme"},
        {"id": GLOBEX_ORG_ID, "name": "Globex"},
    ],
    "sites": [
        {
            "id": ACME_SITE_ID,
            "org_id": ACME_ORG_ID,
            "name": "acme",
            "url": "https://acme.atlassian.net",
        },
        {
            "id": ACME_SANDBOX_SITE_ID,
            "org_id": ACME_ORG_ID,
            "name": "acme-sandbox",
            "url": "https://acme-sandbox.atlassian.net",
        },
        {
            "id": GLOBEX_SITE_ID,
            "org_id": GLOBEX_ORG_ID,
            "name": "globex",
            "url": "https://globex.atlassian.net",
        },
    ],
    "users": [
        {
            "account_id": "712020:a11ce000-0000-4000-8000-000000000001",
            "email": "alice@example.com",
            "name": "Alice Example",
            "site_access": {ACME_SITE_ID: ALL, ACME_SANDBOX_SITE_ID: ALL},
        },
        {
            "account_id": "712020:b0b00000-0000-4000-8000-000000000002",
            "email": "bob@example.com",
            "name": "Bob Example",
            "site_access": {ACME_SITE_ID: [READ]},
        },
        {
            "account_id": "712020:ca201000-0000-4000-8000-000000000003",
            "email": "carol@example.com",
            "name": "Carol Example",
            "site_access": {ACME_SITE_ID: ALL, ACME_SANDBOX_SITE_ID: ALL},
            "admin_of": [ACME_ORG_ID],
        },
        {
            "account_id": "712020:da7e0000-0000-4000-8000-000000000004",
            "email": "dave@example.com",
            "name": "Dave Example",
            "site_access": {GLOBEX_SITE_ID: [READ, WRITE, DELETE]},
            "admin_of": [GLOBEX_ORG_ID],
        },
    ],
    "clients": [
        {
            "client_id": CLI_CLIENT_ID,
            "name": "Teamwork Graph CLI",
            # RFC 8252 section 7.3: any port on the loopback address matches.
            "redirect_uris": ["http://127.0.0.1/callback"],
            "scopes": ALL_SCOPES,
            "grant_types": ["authorization_code", "refresh_token", DEVICE_GRANT],
        },
    ],
    "admin_keys": [
        {
            "key": ACME_ADMIN_KEY,
            "org_id": ACME_ORG_ID,
            "email": "carol@example.com",
            "label": "seeded Acme admin key",
        },
        {
            "key": GLOBEX_ADMIN_KEY,
            "org_id": GLOBEX_ORG_ID,
            "email": "dave@example.com",
            "label": "seeded Globex admin key",
        },
    ],
    "bitbucket_tokens": [
        {"token": ALICE_BITBUCKET_TOKEN, "email": "alice@example.com", "username": "alice"},
        {"token": BOB_BITBUCKET_TOKEN, "email": "bob@example.com", "username": "bob"},
    ],
}


class SeedError(ValueError):
    """A seed document that does not describe a consistent world."""


def apply_seed(store: MemoryStore, seed: dict[str, Any], now: float) -> dict[str, int]:
    """Add (or replace) the records a seed document describes; returns counts per kind."""
    try:
        orgs = [Org(**item) for item in seed.get("orgs", [])]
        sites = [Site(**item) for item in seed.get("sites", [])]
        users = [User(**item) for item in seed.get("users", [])]
        clients = [_client(item) for item in seed.get("clients", [])]
        keys = [
            AdminKey(
                key_hash=digest(item["key"]),
                org_id=item["org_id"],
                email=item["email"],
                label=item.get("label", ""),
                created_at=now,
            )
            for item in seed.get("admin_keys", [])
        ]
    except (TypeError, KeyError) as exc:
        raise SeedError(f"seed record is missing or has an unknown field: {exc}") from exc
    known_orgs = {o.id for o in orgs} | {o.id for o in store.all(Org)}
    for site in sites:
        if site.org_id not in known_orgs:
            raise SeedError(f"site {site.id} names unknown org {site.org_id}")
    for key in keys:
        if key.org_id not in known_orgs:
            raise SeedError(f"admin key for {key.email} names unknown org {key.org_id}")
    for user in users:
        bad = {c for access in user.site_access.values() for c in access} - set(CATEGORIES)
        if bad:
            raise SeedError(f"user {user.email} has unknown permission(s) {sorted(bad)}")
    all_users = {u.email: u for u in store.all(User)} | {u.email: u for u in users}
    try:
        tokens = [
            BitbucketToken(
                token_hash=digest(item["token"]),
                email=item["email"],
                username=item.get("username") or item["email"].split("@")[0],
                account_id=all_users[item["email"]].account_id,
            )
            for item in seed.get("bitbucket_tokens", [])
        ]
    except KeyError as exc:
        raise SeedError(f"Bitbucket token names unknown user or misses a field: {exc}") from exc
    records: list[object] = [*orgs, *sites, *users, *clients, *keys, *tokens]
    for record in records:
        store.put(record)
    return {
        "orgs": len(orgs),
        "sites": len(sites),
        "users": len(users),
        "clients": len(clients),
        "admin_keys": len(keys),
        "bitbucket_tokens": len(tokens),
    }


def _client(item: dict[str, Any]) -> Client:
    data = dict(item)
    secret = data.pop("client_secret", None)
    data.setdefault("scopes", ALL_SCOPES)
    data.setdefault("grant_types", ["authorization_code", "refresh_token", DEVICE_GRANT])
    data.setdefault("name", data.get("client_id", "client"))
    return Client(**data, client_secret_hash=digest(secret) if secret else None)
