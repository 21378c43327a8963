"""The platform's scheduler backend: systemd (Linux), launchd (macOS) or Task Scheduler
(Windows), or the one ``TWG_UPKEEP_BACKEND`` names. Apart from ``scheduler`` so the
protocol module does not import its own implementations."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from twg.errors import ConfigError
from twg.upkeep.launchd import LaunchdScheduler
from twg.upkeep.runner import CommandRunner
from twg.upkeep.scheduler import Scheduler
from twg.upkeep.schtasks import TaskScheduler
from twg.upkeep.systemd import SystemdScheduler


def choose(
    platform: str,
    environ: Mapping[str, str],
    runner: CommandRunner,
    config_dir: Path,
    uid: int | None = None,
) -> Scheduler:
    """The platform's scheduler (TWG_UPKEEP_BACKEND=systemd|launchd|schtasks overrides)."""
    home = Path(environ.get("HOME") or os.path.expanduser("~"))
    wanted = (environ.get("TWG_UPKEEP_BACKEND") or "").strip().lower()
    if not wanted:
        wanted = {"darwin": "launchd", "win32": "schtasks"}.get(platform, "systemd")
    if wanted == "launchd":
        real_uid = uid if uid is not None else getattr(os, "getuid", lambda: 0)()
        return LaunchdScheduler(runner, home, real_uid)
    if wanted == "schtasks":
        return TaskScheduler(runner, config_dir)
    if wanted == "systemd":
        xdg = environ.get("XDG_CONFIG_HOME")
        return SystemdScheduler(runner, Path(xdg) if xdg else home / ".config")
    raise ConfigError(
        f"TWG_UPKEEP_BACKEND={wanted!r} is not a scheduler twg knows.",
        "Use systemd, launchd or schtasks, or unset it.",
    )
