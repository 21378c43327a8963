"""``auth.conf``: who is logged in where, and token metadata. Never a secret.

JSON, 0600, written atomically. Times are server time (epoch seconds).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twg.auth.atomic import atomic_write, move_aside
from twg.errors import StorageError

FILENAME = "auth.conf"
VERSION = 1


def describe_account(account_id: str | None, email: str | None, name: str | None) -> str:
    """How to name the signed-in account with whatever the server told us."""
    if email:
        return f"{name} ({email})" if name else email
    if account_id:
        return f"{name} (account {account_id})" if name else f"account {account_id}"
    return "an account twg could not identify"


@dataclass
class AuthConf:
    issuer: str
    client_id: str
    store: str  # "keyring" or "file"
    account_id: str | None = None
    email: str | None = None
    name: str | None = None
    site_id: str | None = None
    site_name: str | None = None
    site_url: str | None = None
    scopes: list[str] = field(default_factory=list)
    access_expires_at: float | None = None
    access_issued_at: float | None = None
    last_refresh_at: float | None = None  # server time of the last login or refresh
    logged_in_at: float | None = None
    clock_skew: float = 0.0
    # Fingerprints tie the secrets to this metadata, so a reader can tell when the
    # secret store holds a newer token than auth.conf (a refresh in progress).
    access_fp: str | None = None
    refresh_fp: str | None = None
    unknown: list[str] = field(default_factory=list)  # what login could not learn
    # Set when the server refused the session (the tokens were then cleared): the next
    # command says why instead of a bare "not logged in".
    invalid_reason: str | None = None
    version: int = VERSION

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class CorruptFile(StorageError):
    code = "CORRUPT_CONFIG"


def path_in(config_dir: Path) -> Path:
    return config_dir / FILENAME


def load(config_dir: Path) -> AuthConf | None:
    """The saved metadata, None if there is none; a corrupt file is moved aside."""
    path = path_in(config_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"Cannot read {path}: {exc.strerror}.") from None
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        names = {f.name for f in dataclasses.fields(AuthConf)}
        return AuthConf(**{k: v for k, v in data.items() if k in names})
    except (ValueError, TypeError):
        moved = move_aside(path)
        raise CorruptFile(
            f"{path} was corrupt; it was moved aside to {moved.name}.",
            "Run `twg login` to sign in again.",
        ) from None


def save(config_dir: Path, conf: AuthConf) -> None:
    data = json.dumps(conf.to_json(), indent=2, sort_keys=True).encode()
    try:
        atomic_write(path_in(config_dir), data + b"\n")
    except OSError as exc:
        raise StorageError(
            f"Cannot save {path_in(config_dir)}: {exc.strerror or exc}.",
            "Make sure the twg config directory is writable.",
        ) from None


def remove(config_dir: Path) -> bool:
    try:
        path_in(config_dir).unlink()
    except FileNotFoundError:
        return False
    return True
