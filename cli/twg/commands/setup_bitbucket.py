"""twg setup bitbucket [--force]: save a Bitbucket API token through a hidden prompt."""

from __future__ import annotations

from dataclasses import dataclass

from twg.commands.bitbucket_token import ask_and_save
from twg.errors import UsageError
from twg.factory import Factory


@dataclass
class Options:
    force: bool = False
    json: bool = False


def run(opts: Options, f: Factory) -> int:
    conf = f.session.load_conf()
    if conf is None:
        raise UsageError("Log in first with `twg login`: the token is tied to your account email.")
    if not f.io.stdin_tty and not f.environ.get("TWG_BBC_TOKEN"):
        raise UsageError(
            "A Bitbucket token is only read from a terminal (hidden prompt).",
            "Run this in a terminal, or set TWG_BBC_TOKEN for automation.",
        )
    line = ask_and_save(f, f.store(conf.store), conf.email, opts.force)
    saved = line.startswith("Bitbucket token: saved")
    if opts.json:
        f.io.out_json({"saved": saved, "message": line})
    f.io.err(line)
    return 0 if saved or "kept" in line or "TWG_BBC_TOKEN" in line else 1
