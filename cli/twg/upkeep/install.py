"""Enabling and disabling the scheduled upkeep, and keeping upkeep.json in step."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from twg.upkeep import state as upkeep_state
from twg.upkeep.policy import INTERVAL
from twg.upkeep.scheduler import Installed, Launcher, Scheduler, SchedulerUnavailable
from twg.upkeep.state import iso


def enable(scheduler: Scheduler, launcher: Launcher, config_dir: Path, now: float) -> Installed:
    """Install and start the schedule; on failure upkeep stays disabled and upkeep.json
    says why (in the scheduler's own words), then the error is raised."""
    state = upkeep_state.load(config_dir)
    try:
        installed = scheduler.enable(launcher)
    except SchedulerUnavailable as exc:
        state.enabled = False
        state.backend = scheduler.name
        state.last_error = exc.message
        upkeep_state.save(config_dir, state)
        exc.remedy = scheduler.repair_hint()
        raise
    except OSError as exc:
        state.enabled = False
        state.last_error = f"could not write the {scheduler.label} files: {exc.strerror or exc}"
        upkeep_state.save(config_dir, state)
        raise SchedulerUnavailable(state.last_error, scheduler.repair_hint()) from None
    state.enabled = True
    state.backend = scheduler.name
    state.launcher = " ".join(launcher.argv)
    state.interval_seconds = INTERVAL
    state.enabled_at = iso(now)
    state.last_error = None
    upkeep_state.save(config_dir, state)
    return installed


class Disabled(NamedTuple):
    was_enabled: bool
    problems: list[str]  # what the OS tool complained about, for the user


def disable(scheduler: Scheduler, config_dir: Path) -> Disabled:
    """Stop and remove the schedule (also what a half-finished enable left); upkeep.json
    says disabled even if the OS tool complained."""
    problems = scheduler.disable()
    state = upkeep_state.load(config_dir)
    was_enabled = state.enabled
    state.enabled = False
    state.last_error = "; ".join(problems) or None
    if config_dir.is_dir() or state.backend:
        upkeep_state.save(config_dir, state)
    return Disabled(was_enabled, problems)
