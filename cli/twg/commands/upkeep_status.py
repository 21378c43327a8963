"""twg upkeep status [--json]: is upkeep on, what did it last do, and when will it stop."""

from __future__ import annotations

from dataclasses import dataclass

from twg.commands.upkeep_common import policy_for, scheduler_for
from twg.errors import TwgError
from twg.factory import Factory
from twg.upkeep import state as upkeep_state
from twg.upkeep.report import last_use_seen, status_document, status_lines


@dataclass
class Options:
    json: bool = False


def run(opts: Options, f: Factory) -> int:
    config_dir = f.settings.config_dir
    policy = policy_for(f)
    state = upkeep_state.load(config_dir)
    installed: bool | None = None
    if state.enabled:
        installed = scheduler_for(f, recorded=True).installed()
    session = f.session
    logged_in = False
    note: str | None = None
    expires_at = refresh_at = logged_in_at = None
    try:
        conf = session.load_conf()
        # load(), not require(): looking at upkeep is not a use of the session.
        creds = session.load() if conf is not None else None
    except TwgError as exc:
        conf, creds, note = None, None, exc.message
    if conf is not None:
        logged_in_at = conf.logged_in_at
    if creds is not None and creds.source != "env":
        logged_in = True
        expires_at = creds.tokens.expires_at
        refresh_at = policy.refresh_at(creds.tokens)
    elif conf is not None and conf.invalid_reason:
        note = conf.invalid_reason.rstrip(".")
    last_use, where = last_use_seen(f.environ, logged_in_at)
    doc = status_document(
        state,
        installed,
        policy,
        logged_in,
        note,
        expires_at,
        refresh_at,
        last_use,
        where,
        f.local_now(),
    )
    if opts.json:
        f.io.out_json(doc)
    else:
        for line in status_lines(doc):
            f.io.out(line)
    return 0
