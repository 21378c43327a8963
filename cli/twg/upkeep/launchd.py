"""macOS: a LaunchAgent that runs ``twg upkeep run`` every 12 minutes, loaded with
``launchctl bootstrap gui/<uid>``."""

from __future__ import annotations

import plistlib
from pathlib import Path

from twg.upkeep.policy import INTERVAL
from twg.upkeep.runner import CommandRunner
from twg.upkeep.scheduler import (
    Installed,
    Launcher,
    remove_files,
    write_and_enable,
)

LABEL = "dev.twg.upkeep"


def plist(launcher: Launcher, log_dir: Path, interval: int = INTERVAL) -> bytes:
    agent: dict[str, object] = {
        "Label": LABEL,
        "ProgramArguments": launcher.command("upkeep", "run"),
        "StartInterval": interval,
        "RunAtLoad": True,
        # Background work: launchd may delay it for the user's own programs.
        "ProcessType": "Background",
        "StandardOutPath": str(log_dir / "upkeep.log"),
        "StandardErrorPath": str(log_dir / "upkeep.log"),
    }
    if launcher.environment:
        agent["EnvironmentVariables"] = dict(sorted(launcher.environment.items()))
    return plistlib.dumps(agent, sort_keys=False)


class LaunchdScheduler:
    name = "launchd"
    label = "LaunchAgent"

    def __init__(self, runner: CommandRunner, home: Path, uid: int) -> None:
        self.runner = runner
        self.path = home / "Library" / "LaunchAgents" / f"{LABEL}.plist"
        self.log_dir = home / "Library" / "Logs" / "twg"
        self.domain = f"gui/{uid}"

    def files(self, launcher: Launcher) -> dict[Path, bytes]:
        return {self.path: plist(launcher, self.log_dir)}

    def enable_commands(self) -> list[list[str]]:
        return [["launchctl", "bootstrap", self.domain, str(self.path)]]

    def enable(self, launcher: Launcher) -> Installed:
        # Repair: an agent loaded from an older plist must be unloaded first, or
        # bootstrap fails with "service already loaded". Failure here means "not loaded".
        self.runner.run(["launchctl", "bootout", f"{self.domain}/{LABEL}"])
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return write_and_enable(
            self.runner, self.files(launcher), self.enable_commands(), self.name, self.label, LABEL
        )

    def disable(self) -> list[str]:
        problems: list[str] = []
        if self.path.exists():
            out = self.runner.run(["launchctl", "bootout", self.domain, str(self.path)])
            if not out.ok:
                problems.append(f"launchctl bootout: {out.problem()}")
        return problems + remove_files([self.path])

    def installed(self) -> bool:
        return self.path.exists()

    def repair_hint(self) -> str:
        return (
            "LaunchAgents load into your GUI login session (`launchctl print "
            f"{self.domain}` shows it); run `twg upkeep enable` from a logged-in session, "
            f"or run `twg upkeep run --every {INTERVAL}` as a long-running process."
        )
