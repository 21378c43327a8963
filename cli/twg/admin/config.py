"""``admin.conf``: which orgs are logged in, who for, and which one is current.

Not secret (the keys live in the keyring or ``admin-keys``), but written atomically and
0600 like every file of ours; a corrupt file is moved aside, never deleted.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from twg.auth.atomic import atomic_write, move_aside
from twg.auth.auth_conf import CorruptFile
from twg.errors import StorageError, UsageError

FILENAME = "admin.conf"
VERSION = 1
ORG_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}$")


@dataclass
class OrgLogin:
    org_id: str
    org_name: str
    email: str
    store: str  # "keyring" or "file"
    key_fp: str  # fingerprint of the key, to recognise it without showing it
    logged_in_at: float


@dataclass
class AdminConf:
    current: str | None = None
    orgs: dict[str, OrgLogin] = field(default_factory=dict)


def path_in(config_dir: Path) -> Path:
    return config_dir / FILENAME


def check_org_id(value: str) -> str:
    if not ORG_ID.match(value):
        raise UsageError(
            "--org must be an organization ID (letters, digits, '-' and '_', at most 64).",
            "Find it in Atlassian Administration: admin.atlassian.com/o/ORG_ID.",
        )
    return value


def check_email(value: str) -> str:
    if not EMAIL.match(value) or not value.isprintable():
        raise UsageError("--email must be an email address, such as admin@example.com.")
    return value


def load(config_dir: Path) -> AdminConf:
    path = path_in(config_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return AdminConf()
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            return _corrupt(path)
        raise StorageError(f"Cannot read {path}: {exc.strerror}.") from None
    try:
        data = json.loads(text)
        orgs = {key: OrgLogin(**value) for key, value in data["orgs"].items()}
        current = data.get("current")
        if current is not None and current not in orgs:
            current = None
        return AdminConf(current=current, orgs=orgs)
    except (ValueError, KeyError, TypeError, AttributeError):
        return _corrupt(path)


def _corrupt(path: Path) -> AdminConf:
    moved = move_aside(path)
    raise CorruptFile(
        f"{path} was corrupt; it was moved aside to {moved.name}.",
        "Run `twg admin auth login` again.",
    )


def save(config_dir: Path, conf: AdminConf) -> None:
    path = path_in(config_dir)
    try:
        if not conf.orgs:
            path.unlink(missing_ok=True)
            return
        data = {
            "version": VERSION,
            "current": conf.current,
            "orgs": {key: asdict(value) for key, value in conf.orgs.items()},
        }
        atomic_write(path, json.dumps(data, indent=2).encode() + b"\n")
    except OSError as exc:
        raise StorageError(f"Cannot save {path}: {exc.strerror or exc}.") from None
