"""What the upkeep commands share: the scheduler for this machine and the policy."""

from __future__ import annotations

from twg.factory import Factory
from twg.upkeep import state as upkeep_state
from twg.upkeep.backends import choose
from twg.upkeep.policy import Policy
from twg.upkeep.scheduler import Scheduler


def scheduler_for(f: Factory, recorded: bool = False) -> Scheduler:
    """This platform's scheduler, or (``recorded``) the one upkeep.json says was enabled,
    so `disable` removes what `enable` installed."""
    environ = dict(f.environ)
    if recorded:
        backend = upkeep_state.load(f.settings.config_dir).backend
        if backend in ("systemd", "launchd", "schtasks"):
            environ["TWG_UPKEEP_BACKEND"] = backend
    return choose(f.platform, environ, f.command_runner, f.settings.config_dir)


def policy_for(f: Factory) -> Policy:
    return Policy.from_environ(f.environ)
