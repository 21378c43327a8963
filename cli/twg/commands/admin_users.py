"""twg admin users [suspend|restore EMAIL]: the org's users; suspend or restore one."""

from __future__ import annotations

from dataclasses import dataclass

from twg.admin import session
from twg.factory import Factory


@dataclass
class Options:
    action: str = "list"  # list | suspend | restore
    email: str | None = None
    org: str | None = None
    json: bool = False


def run(opts: Options, f: Factory) -> int:
    entry, client = session.connect(f, opts.org)
    with client.http:
        if opts.action == "list":
            users = client.users()
            if opts.json:
                f.io.out_json({"org_id": entry.org_id, "users": users})
                return 0
            for user in users:
                role = ", org admin" if user.get("org_admin") else ""
                f.io.out(
                    f"{user['email']}  {user.get('name', '')}  [{user['account_status']}{role}]"
                )
            return 0
        assert opts.email is not None  # the CLI requires it for suspend and restore
        user = client.user_by_email(opts.email)
        answer = client.set_access(str(user["account_id"]), opts.action == "suspend")
    ended = int(answer.get("sessions_ended", 0))
    if opts.json:
        f.io.out_json({"email": user["email"], "action": opts.action, "sessions_ended": ended})
    elif opts.action == "suspend":
        f.io.err(
            f"Suspended {user['email']} in {entry.org_name}: {ended} CLI session(s) ended; "
            "they cannot sign in until restored.",
        )
    else:
        f.io.err(f"Restored {user['email']} in {entry.org_name}: they can sign in again.")
    return 0
