"""twg admin auth login --email EMAIL --org ORG_ID: check an Admin API key, then save it."""

from __future__ import annotations

from dataclasses import dataclass

from twg.admin import config, session
from twg.admin.keyinput import read_key
from twg.factory import Factory


@dataclass
class Options:
    email: str
    org: str
    json: bool = False


def run(opts: Options, f: Factory) -> int:
    email = config.check_email(opts.email)
    org_id = config.check_org_id(opts.org)
    key = read_key(f.io, f.environ, org_id)
    entry, where = session.login(f, email, org_id, key, f.local_now())
    if opts.json:
        f.io.out_json(
            {
                "logged_in": True,
                "org_id": entry.org_id,
                "org_name": entry.org_name,
                "email": entry.email,
                "store": entry.store,
                "key_fp": entry.key_fp,
            }
        )
    f.io.err(
        f"Logged in as an admin of {entry.org_name} ({entry.org_id}) as {entry.email}; "
        f"the key is in the {where}. This org is now current.",
    )
    return 0
