"""twg upkeep enable: install the per-user schedule that runs `twg upkeep run`."""

from __future__ import annotations

from dataclasses import dataclass

from twg.commands.upkeep_common import scheduler_for
from twg.errors import StorageError
from twg.factory import Factory
from twg.upkeep import install
from twg.upkeep.policy import INTERVAL
from twg.upkeep.scheduler import Installed, find_launcher


@dataclass
class Options:
    json: bool = False


def enable_upkeep(f: Factory) -> Installed:
    """Shared with `twg setup`: raises SchedulerUnavailable (upkeep left disabled)."""
    scheduler = scheduler_for(f)
    try:
        return install.enable(
            scheduler, find_launcher(f.environ), f.settings.config_dir, f.local_now()
        )
    except OSError as exc:
        raise StorageError(
            f"Could not write the upkeep state in {f.settings.config_dir}: {exc.strerror or exc}."
        ) from None


def describe(installed: Installed) -> str:
    return (
        f"Upkeep enabled: the {installed.description} runs `twg upkeep run` every "
        f"{INTERVAL // 60} minutes."
    )


def run(opts: Options, f: Factory) -> int:
    installed = enable_upkeep(f)
    if opts.json:
        f.io.out_json(
            {
                "enabled": True,
                "backend": installed.backend,
                "files": [str(p) for p in installed.files],
                "commands": [list(c) for c in installed.commands],
            }
        )
    f.io.err(describe(installed))
    return 0
