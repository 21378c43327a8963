"""twg admin permissions show|set: the org's TWG CLI permissions, in the three categories
of Atlassian Administration; saving asks whether to revoke sessions, as its dialog does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from twg.admin import session
from twg.errors import UsageError
from twg.factory import Factory

CATEGORIES = (("read", "Read"), ("write", "Write and manage"), ("delete", "Delete"))
KEEP, REVOKE = "keep", "revoke"
CHOICES = (
    "1) Save without revoking: existing sessions keep the permissions they were issued "
    "with until they are re-issued",
    "2) Save and revoke sessions: everyone using the TWG CLI must log in again",
)


@dataclass
class Options:
    action: str = "show"  # show | set
    allow_all: bool = False
    read: str | None = None
    write: str | None = None
    delete: str | None = None
    sessions: str | None = None  # keep | revoke | None (ask)
    org: str | None = None
    json: bool = False


def _names(value: str | None) -> list[str]:
    if value is None:
        return []
    names = [n.strip() for n in value.split(",") if n.strip()]
    for name in names:
        if len(name) > 100 or not name.isprintable():
            raise UsageError("Permissions are OAuth scope names such as read:jira-work, or all.")
    return names


def _body(opts: Options) -> dict[str, Any]:
    chosen = {c: opts.__dict__[c] for c, _ in CATEGORIES}
    if opts.allow_all and any(v is not None for v in chosen.values()):
        raise UsageError("Give either --allow-all or --read/--write/--delete, not both.")
    if opts.allow_all:
        return {"allow_all": True}
    if all(v is None for v in chosen.values()):
        raise UsageError(
            "Give --allow-all, or the permissions to allow with --read/--write/--delete."
        )
    return {"allow_all": False, "permissions": {c: _names(v) for c, v in chosen.items()}}


def _ask(f: Factory) -> str:
    if not f.io.interactive:
        raise UsageError(
            "Choose --revoke-sessions or --keep-sessions (there is no terminal to ask on)."
        )
    f.io.err("Save the TWG CLI permissions:\n  " + "\n  ".join(CHOICES))
    for _ in range(3):
        try:
            answer = f.io.prompt_line("Choose 1 or 2: ").strip().lower()
        except EOFError:
            break
        if answer in ("1", "keep", "save without revoking"):
            return KEEP
        if answer in ("2", "revoke", "save and revoke sessions"):
            return REVOKE
        f.io.err("Please answer 1 or 2.")
    raise UsageError("Nothing was saved: choose --revoke-sessions or --keep-sessions.")


def _show(f: Factory, name: str, setting: dict[str, Any]) -> None:
    head = "allow all permissions" if setting.get("allow_all") else "only these permissions"
    f.io.out(f"TWG CLI permissions for {name}: {head}")
    permissions = setting.get("permissions") or {}
    for key, title in CATEGORIES:
        allowed = permissions.get(key) or []
        f.io.out(f"  {title}: {', '.join(allowed) if allowed else '(none)'}")


def run(opts: Options, f: Factory) -> int:
    body = _body(opts) if opts.action == "set" else None
    entry, client = session.connect(f, opts.org)
    with client.http:
        if body is None:
            setting = client.permissions()
            if opts.json:
                f.io.out_json(setting)
            else:
                _show(f, entry.org_name, setting)
            return 0
        choice = opts.sessions or _ask(f)
        saved = client.save_permissions({**body, "revoke_sessions": choice == REVOKE})
    if opts.json:
        f.io.out_json(saved)
        return 0
    _show(f, entry.org_name, saved)
    revoked = int(saved.get("revoked_sessions", 0))
    if choice == REVOKE:
        f.io.err(f"Saved and revoked {revoked} CLI session(s): users must log in again.")
    else:
        f.io.err(
            "Saved without revoking: existing sessions keep their permissions until their "
            "tokens are re-issued.",
        )
    return 0
