"""Logging an org admin in and out, and opening the Admin API for the chosen org.

Order matters for the key: it is validated live before anything is saved, saved in the
store before ``admin.conf`` names it, and removed from the store after ``admin.conf``
forgets it, so a crash never leaves ``admin.conf`` naming a key that is not there.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import TYPE_CHECKING

from twg.admin import config, keystore
from twg.admin.client import AdminClient, open_client
from twg.admin.config import AdminConf, OrgLogin
from twg.admin.errors import LOGIN, AdminKeyRefused, AdminNotLoggedIn
from twg.errors import TwgError

if TYPE_CHECKING:
    from twg.factory import Factory


def key_fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def login(f: Factory, email: str, org_id: str, key: str, now: float) -> tuple[OrgLogin, str]:
    """Check ``key`` against the org, then save it; returns the login and where it is."""
    client = open_client(f, key, org_id)
    with client.http:
        org = client.org()
    if org.get("id") != org_id:
        raise AdminKeyRefused(f"This Admin API key belongs to another organization, not {org_id}.")
    conf = config.load(f.settings.config_dir)
    store = keystore.store_for(f)
    store.set(keystore.key_name(org_id), key)
    entry = OrgLogin(
        org_id=org_id,
        org_name=str((org.get("attributes") or {}).get("name") or org_id)[:200],
        email=email,
        store=store.name,
        key_fp=key_fingerprint(key),
        logged_in_at=now,
    )
    conf.orgs[org_id] = entry
    conf.current = org_id
    config.save(f.settings.config_dir, conf)
    return entry, store.describe()


def logout(f: Factory, org_id: str | None) -> OrgLogin | None:
    """Forget one org's key (the current one by default); None when it was not logged in."""
    conf = config.load(f.settings.config_dir)
    target = org_id or conf.current
    entry = conf.orgs.pop(target, None) if target else None
    if entry is None:
        return None
    if conf.current == target:
        conf.current = next(iter(conf.orgs), None)
    config.save(f.settings.config_dir, conf)
    for name in ("keyring", "file"):
        with contextlib.suppress(TwgError):
            keystore.store_for(f, name).delete(keystore.key_name(entry.org_id))
    return entry


def chosen(f: Factory, org_id: str | None) -> tuple[AdminConf, OrgLogin]:
    conf = config.load(f.settings.config_dir)
    target = org_id or conf.current
    if target is None:
        raise AdminNotLoggedIn("You are not logged in as an organization admin.", LOGIN)
    config.check_org_id(target)
    entry = conf.orgs.get(target)
    if entry is None:
        raise AdminNotLoggedIn(
            f"You are not logged in as an admin of organization {target}.",
            f"Run `twg admin auth login --email EMAIL --org {target}`.",
        )
    return conf, entry


def connect(f: Factory, org_id: str | None) -> tuple[OrgLogin, AdminClient]:
    """The chosen org's login and an Admin API client with its key."""
    _, entry = chosen(f, org_id)
    key = keystore.store_for(f, entry.store).get(keystore.key_name(entry.org_id))
    if not key:
        raise AdminNotLoggedIn(
            f"The Admin API key for organization {entry.org_id} is missing from the {entry.store}.",
            f"Run `twg admin auth login --email {entry.email} --org {entry.org_id}`.",
        )
    return entry, open_client(f, key, entry.org_id)
