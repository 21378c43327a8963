"""twg admin orgs [use ORG_ID]: the orgs logged in as admin; switch the current one."""

from __future__ import annotations

from dataclasses import dataclass

from twg.admin import config, session
from twg.factory import Factory


@dataclass
class Options:
    use: str | None = None
    org: str | None = None  # only this org
    json: bool = False


def run(opts: Options, f: Factory) -> int:
    if opts.use is not None:
        conf, entry = session.chosen(f, config.check_org_id(opts.use))
        conf.current = entry.org_id
        config.save(f.settings.config_dir, conf)
        f.io.err(f"Current organization: {entry.org_name} ({entry.org_id}).")
        return 0
    conf = config.load(f.settings.config_dir)
    if opts.org is not None:
        _, entry = session.chosen(f, opts.org)
        conf.orgs = {entry.org_id: entry}
    rows = [
        {
            "org_id": o.org_id,
            "name": o.org_name,
            "email": o.email,
            "current": o.org_id == conf.current,
        }
        for o in conf.orgs.values()
    ]
    if opts.json:
        f.io.out_json({"orgs": rows})
        return 0
    if not rows:
        session.chosen(f, None)  # raises "not logged in as an organization admin"
    for row in rows:
        f.io.out(
            f"{'*' if row['current'] else ' '} {row['org_id']}  {row['name']}  ({row['email']})"
        )
    return 0
