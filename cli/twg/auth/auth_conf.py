"""``auth.conf``: who is logged in where, and token metadata. Never a secret.

One JSON file, 0600, written atomically, holding one section per issuer (as ``gh``
keeps one entry per host): a real Atlassian session and mock sessions live side by
side, and a command only ever sees the section of the issuer it is configured for.
Version 1 files held a single session at the top level; they are read as one section
and rewritten as version 2 by ``SessionManager`` (under the refresh lock).
Times are server time (epoch seconds).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twg.auth.atomic import atomic_write, move_aside
from twg.errors import StorageError

FILENAME = "auth.conf"
VERSION = 2


def describe_account(account_id: str | None, email: str | None, name: str | None) -> str:
    """How to name the signed-in account with whatever the server told us."""
    if email:
        return f"{name} ({email})" if name else email
    if account_id:
        return f"{name} (account {account_id})" if name else f"account {account_id}"
    return "an account twg could not identify"


def issuer_key(url: str) -> str:
    """The name a session is filed under: the issuer URL without a trailing slash."""
    return url.strip().rstrip("/")


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
    # The API the access token was obtained for: it is never sent anywhere else.
    api_url: str | None = None
    version: int = VERSION

    @property
    def key(self) -> str:
        return issuer_key(self.issuer)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class CorruptFile(StorageError):
    code = "CORRUPT_CONFIG"


@dataclass
class AuthFile:
    """Every stored session by issuer key; ``legacy`` when read from a version 1 file."""

    sessions: dict[str, AuthConf] = field(default_factory=dict)
    legacy: bool = False


def path_in(config_dir: Path) -> Path:
    return config_dir / FILENAME


_TIMES = ("access_expires_at", "access_issued_at", "last_refresh_at", "logged_in_at")
_LISTS = ("scopes", "unknown")


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _conf_from(data: Any) -> AuthConf:
    """An AuthConf from a file's section; a field of the wrong type is dropped (a
    hand-edited time or list must not crash a later comparison), a missing issuer,
    client or store makes the whole file corrupt."""
    if not isinstance(data, dict):
        raise ValueError("not an object")
    values: dict[str, Any] = {}
    for fld in dataclasses.fields(AuthConf):
        if fld.name not in data or fld.name == "version":
            continue
        value = data[fld.name]
        if fld.name in _TIMES:
            value = _finite(value)
        elif fld.name == "clock_skew":
            value = _finite(value) or 0.0
        elif fld.name in _LISTS:
            if not isinstance(value, list):
                continue
            value = [str(v) for v in value if isinstance(v, str)]
        elif value is not None and not isinstance(value, str):
            if fld.name in ("issuer", "client_id", "store"):
                raise ValueError(f"{fld.name} is not a string")
            value = None
        values[fld.name] = value
    for required in ("issuer", "client_id", "store"):
        if not values.get(required):
            raise ValueError(f"no {required}")
    return AuthConf(**values)


def load_all(config_dir: Path) -> AuthFile:
    """Every saved session (none if there is no file); a corrupt file is moved aside."""
    path = path_in(config_dir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return AuthFile()
    except OSError as exc:
        raise StorageError(f"Cannot read {path}: {exc.strerror}.") from None
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not an object")
        if "sessions" not in data:  # version 1: one session at the top level
            conf = _conf_from(data)
            return AuthFile({conf.key: conf}, legacy=True)
        sections = data["sessions"]
        if not isinstance(sections, dict):
            raise ValueError("sessions is not an object")
        return AuthFile({issuer_key(k): _conf_from(v) for k, v in sections.items()})
    except (ValueError, TypeError):  # UnicodeDecodeError is a ValueError
        try:
            moved = move_aside(path)
        except OSError as exc:
            raise StorageError(
                f"{path} is corrupt and could not be moved aside ({exc.strerror}).",
                f"Move it away yourself, then run `twg login`: mv {path} {path}.bad",
            ) from None
        raise CorruptFile(
            f"{path} was corrupt; it was moved aside to {moved.name}.",
            "Run `twg login` to sign in again.",
        ) from None


def load(config_dir: Path, issuer: str) -> AuthConf | None:
    """The session saved for ``issuer``, None if there is none."""
    return load_all(config_dir).sessions.get(issuer_key(issuer))


def save_all(config_dir: Path, sessions: dict[str, AuthConf]) -> None:
    body = {
        "version": VERSION,
        "sessions": {key: conf.to_json() for key, conf in sorted(sessions.items())},
    }
    path = path_in(config_dir)
    try:
        if sessions:
            atomic_write(path, json.dumps(body, indent=2, sort_keys=True).encode() + b"\n")
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        raise StorageError(
            f"Cannot save {path}: {exc.strerror or exc}.",
            "Make sure the twg config directory is writable.",
        ) from None


def save(config_dir: Path, conf: AuthConf) -> None:
    """Replace the section of ``conf``'s issuer; callers hold the RefreshLock."""
    sessions = load_all(config_dir).sessions
    sessions[conf.key] = conf
    save_all(config_dir, sessions)


def remove(config_dir: Path, issuer: str) -> bool:
    """Forget the session of ``issuer``; True if there was one."""
    sessions = load_all(config_dir).sessions
    if sessions.pop(issuer_key(issuer), None) is None:
        return False
    save_all(config_dir, sessions)
    return True
