"""twg upkeep disable: stop and remove the schedule (the session itself is untouched)."""

from __future__ import annotations

from dataclasses import dataclass

from twg.commands.upkeep_common import scheduler_for
from twg.errors import StorageError
from twg.factory import Factory
from twg.upkeep import install


@dataclass
class Options:
    json: bool = False


def run(opts: Options, f: Factory) -> int:
    scheduler = scheduler_for(f, recorded=True)
    try:
        was_enabled, problems = install.disable(scheduler, f.settings.config_dir)
    except OSError as exc:
        raise StorageError(
            f"Could not write the upkeep state in {f.settings.config_dir}: {exc.strerror or exc}."
        ) from None
    if opts.json:
        f.io.out_json({"enabled": False, "backend": scheduler.name, "problems": problems})
    if was_enabled:
        f.io.err(f"Upkeep disabled: the {scheduler.label} is removed. Your session is unchanged.")
    else:
        f.io.err("Upkeep was not enabled: nothing to stop. Your session is unchanged.")
    for problem in problems:
        f.io.err(f"  note: {problem}")
    return 0
