"""twg admin sessions [--user EMAIL] | revoke (--user EMAIL | --all): live CLI sessions."""

from __future__ import annotations

from dataclasses import dataclass

from twg.admin import session
from twg.commands._format import iso
from twg.errors import UsageError
from twg.factory import Factory


@dataclass
class Options:
    action: str = "list"  # list | revoke
    user: str | None = None
    all: bool = False
    org: str | None = None
    json: bool = False


def run(opts: Options, f: Factory) -> int:
    if opts.action == "revoke" and (opts.user is None) == (not opts.all):
        raise UsageError("Give exactly one of --user EMAIL or --all.")
    entry, client = session.connect(f, opts.org)
    with client.http:
        account = str(client.user_by_email(opts.user)["account_id"]) if opts.user else None
        if opts.action == "list":
            live = client.sessions(account)
            if opts.json:
                f.io.out_json({"org_id": entry.org_id, "sessions": live})
                return 0
            if not live:
                f.io.err("No live CLI sessions.")
            for s in live:
                since = iso(s.get("created_at"))
                f.io.out(f"{s['id']}  {s.get('email')}  site {s.get('site_id')}  since {since}")
            return 0
        count = client.revoke_sessions(account)
    if opts.json:
        f.io.out_json({"revoked_sessions": count})
    whose = f"{opts.user}'s" if opts.user else "every"
    f.io.err(f"Revoked {count} CLI session(s) ({whose} in {entry.org_name}).")
    return 0
