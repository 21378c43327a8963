"""twg setup: log in if needed, ask for the Bitbucket token if needed, enable upkeep, and
say what was done and what still needs the user. Safe to run again: it repairs."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from twg.commands import login
from twg.commands.bitbucket_token import ask_and_save
from twg.commands.upkeep_enable import describe, enable_upkeep
from twg.errors import TwgError
from twg.factory import Factory
from twg.upkeep.scheduler import SchedulerUnavailable


@dataclass
class Options:
    site: str | None = None
    no_browser: bool = False
    device: bool = False
    json: bool = False


@dataclass
class Summary:
    done: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)


def _logged_in_at(f: Factory) -> float | None:
    with contextlib.suppress(TwgError):
        conf = f.session.load_conf()
        if conf is not None and conf.access_fp:
            return conf.logged_in_at
    return None


def _login(opts: Options, f: Factory, summary: Summary) -> int:
    before = _logged_in_at(f)
    login_opts = login.Options(site=opts.site, no_browser=opts.no_browser, device=opts.device)
    try:
        login.run(login_opts, f)  # says "Already logged in" when the session is alive
    except TwgError as exc:
        summary.todo.append(f"Log in: {exc.text()}")
        return exc.exit_code
    conf = f.session.load_conf()
    who = (conf.email or conf.name or "your account") if conf else "your account"
    if conf is not None and conf.logged_in_at == before:
        summary.done.append(f"Already logged in as {who}.")
        # login asks for the Bitbucket token only on a new login: ask here otherwise.
        with contextlib.suppress(TwgError):
            f.io.err(ask_and_save(f, f.store(conf.store), conf.email, force=False))
    else:
        summary.done.append(f"Logged in as {who}.")
    return 0


def _bitbucket(f: Factory, summary: Summary) -> None:
    if f.environ.get("TWG_BBC_TOKEN"):
        summary.done.append("Bitbucket token: TWG_BBC_TOKEN from the environment.")
        return
    saved = False
    with contextlib.suppress(TwgError):
        conf = f.session.load_conf()
        saved = conf is not None and bool(f.store(conf.store).get("bitbucket_token"))
    if saved:
        summary.done.append("Bitbucket token: saved.")
    else:
        summary.todo.append(
            "Bitbucket token: not set. Run `twg setup bitbucket` in a terminal (hidden "
            "prompt), or set TWG_BBC_TOKEN."
        )


def _upkeep(f: Factory, summary: Summary) -> None:
    try:
        installed = enable_upkeep(f)
    except SchedulerUnavailable as exc:
        summary.todo.append(f"Upkeep is not enabled: {exc.message} To repair: {exc.remedy}")
        return
    except TwgError as exc:
        summary.todo.append(f"Upkeep is not enabled: {exc.text()}")
        return
    summary.done.append(describe(installed))


def run(opts: Options, f: Factory) -> int:
    summary = Summary()
    code = _login(opts, f, summary)
    if code == 0:
        _bitbucket(f, summary)
    _upkeep(f, summary)
    if opts.json:
        f.io.out_json({"done": summary.done, "needs_you": summary.todo})
    f.io.err("")
    f.io.err("twg setup summary:")
    for line in summary.done:
        f.io.err(f"  done: {line}")
    for line in summary.todo:
        f.io.err(f"  needs you: {line}")
    if not summary.todo:
        f.io.err("  Nothing else needs you.")
    return code
