"""twg admin auth logout [--org ORG_ID]: forget an org's Admin API key on this machine."""

from __future__ import annotations

from dataclasses import dataclass

from twg.admin import config, session
from twg.factory import Factory


@dataclass
class Options:
    org: str | None = None
    json: bool = False


def run(opts: Options, f: Factory) -> int:
    if opts.org is not None:
        config.check_org_id(opts.org)
    entry = session.logout(f, opts.org)
    if opts.json:
        f.io.out_json({"logged_out": entry is not None, "org_id": entry.org_id if entry else None})
    if entry is None:
        f.io.err("You were not logged in as an admin of that organization; nothing to remove.")
    else:
        f.io.err(
            f"Logged out of {entry.org_name} ({entry.org_id}): its Admin API key was removed "
            "from this machine. The key itself stays valid until it is revoked in Atlassian "
            "Administration.",
        )
    return 0
