"""Where Admin API keys live: the credential store's keyring code under its own service
name, or its 0600 atomic file store in its own file. Never the user's entries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from twg.auth.credentials import CredentialStore, FileStore, KeyringStore, choose_store

if TYPE_CHECKING:
    from twg.factory import Factory

SERVICE = "twg-admin"
FILE_NAME = "admin-keys"


class AdminKeyringStore(KeyringStore):
    service = SERVICE

    def describe(self) -> str:
        return f"{super().describe()}, service {SERVICE}"


def _file_store(f: Factory) -> FileStore:
    store = FileStore(f.settings.config_dir)
    store.path = f.settings.config_dir / FILE_NAME
    return store


def key_name(org_id: str) -> str:
    return f"admin-api-key:{org_id}"


def store_for(f: Factory, name: str | None = None) -> CredentialStore:
    """The store called ``name`` ("keyring"/"file"), or the one to save a new key in."""
    preferred = name or f.settings.credential_store
    if preferred == "file":
        return _file_store(f)
    chosen, _ = choose_store(
        f.settings.config_dir,
        f.environ,
        preferred=preferred,
        keyring_backend=f.keyring_backend,
        timeout=f.settings.keyring_timeout,
    )
    if isinstance(chosen, KeyringStore):
        return AdminKeyringStore(chosen.backend, chosen.timeout)
    return _file_store(f)
