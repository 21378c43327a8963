"""The OAuth client twg signs in as: the default public client, or a developer's own
confidential app (Atlassian developer console: client id + secret).

``client.json`` in the config directory holds only what is not secret (the client id and
which store holds the secret); the secret lives in the keyring or the 0600 credentials
file, or comes from TWG_CLIENT_SECRET. It is never printed and never an argument.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from twg.auth.atomic import atomic_write, move_aside
from twg.auth.configdir import ensure_config_dir

if TYPE_CHECKING:
    from twg.auth.credentials import CredentialStore

FILE_NAME = "client.json"
SECRET_KEY = "client_secret"  # noqa: S105 (the key name in the credential store)


@dataclass(frozen=True)
class ClientApp:
    client_id: str
    secret_store: str | None  # "keyring" or "file": where `twg setup client` put the secret


def path_in(config_dir: Path) -> Path:
    return config_dir / FILE_NAME


def load(config_dir: Path) -> ClientApp | None:
    path = path_in(config_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ClientApp(str(data["client_id"]), data.get("secret_store"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        move_aside(path)  # kept for the user to look at; setup writes a new one
        return None


def save(config_dir: Path, app: ClientApp) -> Path:
    ensure_config_dir(config_dir)
    path = path_in(config_dir)
    body = {"client_id": app.client_id, "secret_store": app.secret_store}
    atomic_write(path, (json.dumps(body, indent=2) + "\n").encode())
    return path


def resolve_client_id(env_client_id: str | None, config_dir: Path, default: str) -> str:
    """TWG_CLIENT_ID, else the client `twg setup client` saved, else the default."""
    if env_client_id:
        return env_client_id
    saved = load(config_dir)
    return saved.client_id if saved else default


def resolve_secret(
    env_secret: str | None,
    client_id: str,
    config_dir: Path,
    store_for: Callable[[str], CredentialStore],
) -> str | None:
    """TWG_CLIENT_SECRET, else the saved secret of this same client id, else None (a
    public client). The store is only opened when setup saved a secret there."""
    if env_secret:
        return env_secret
    saved = load(config_dir)
    if saved is None or saved.secret_store is None or saved.client_id != client_id:
        return None
    return store_for(saved.secret_store).get(SECRET_KEY)
