"""twg upkeep run [--every SECONDS]: one upkeep pass, or a foreground loop of them."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from twg.commands.upkeep_common import policy_for
from twg.errors import TwgError, UsageError
from twg.factory import Factory
from twg.upkeep.loop import run_loop
from twg.upkeep.upkeep_pass import revoke_quietly, run_pass

MAX_EVERY = 86400


@dataclass
class Options:
    every: float | None = None


def _learn_server_time(f: Factory) -> None:
    """One cheap request (discovery) whose Date header gives the server's time, as
    `twg auth refresh` does; a loop makes it once (the metadata is kept), and each
    refresh's own answer updates it afterwards."""
    if f.settings.idp_url:
        with contextlib.suppress(TwgError):
            _ = f.metadata


def one_pass(f: Factory, every: float | None = None) -> int:
    outcome = run_pass(
        f.session,
        revoke_quietly(f.oauth),
        f.settings.config_dir,
        policy_for(f),
        f.environ,
        f.local_now(),
        loop_every=every,
        learn_server_time=lambda: _learn_server_time(f),
    )
    f.io.err(f"upkeep: {outcome.result}: {outcome.detail}")
    if outcome.warning:
        f.io.err(f"upkeep: warning: {outcome.warning}")
    return outcome.exit_code


def run(opts: Options, f: Factory) -> int:
    policy = policy_for(f)  # a bad TWG_UPKEEP_INACTIVITY_DAYS fails before anything runs
    if opts.every is None:
        return one_pass(f)
    if not 1 <= opts.every <= MAX_EVERY:
        raise UsageError(
            f"--every takes 1 to {MAX_EVERY} seconds (upkeep's own schedule: "
            f"{int(policy.interval)})."
        )
    f.io.err(f"upkeep: running every {opts.every:g} s until stopped.")
    every = opts.every
    return run_loop(lambda: one_pass(f, every), every, f.sleep)
