"""twg admin auth status: the orgs logged in as admin, and the current one. No network."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from twg.admin import config, session
from twg.admin.errors import LOGIN, AdminNotLoggedIn
from twg.commands._format import iso
from twg.factory import Factory


@dataclass
class Options:
    org: str | None = None  # only this org
    json: bool = False


def run(opts: Options, f: Factory) -> int:
    conf = config.load(f.settings.config_dir)
    if opts.org is not None:
        _, entry = session.chosen(f, opts.org)
        conf.orgs = {entry.org_id: entry}
    if opts.json:
        f.io.out_json(
            {
                "logged_in": bool(conf.orgs),
                "current": conf.current,
                "config_file": str(config.path_in(f.settings.config_dir)),
                "orgs": [
                    asdict(o) | {"current": o.org_id == conf.current} for o in conf.orgs.values()
                ],
            }
        )
        return 0 if conf.orgs else AdminNotLoggedIn.exit_code
    if not conf.orgs:
        raise AdminNotLoggedIn("You are not logged in as an organization admin.", LOGIN)
    for org in conf.orgs.values():
        mark = "*" if org.org_id == conf.current else " "
        f.io.out(
            f"{mark} {org.org_name} ({org.org_id}): {org.email}, key {org.key_fp}… in the "
            f"{org.store}, since {iso(org.logged_in_at)}",
        )
    return 0
