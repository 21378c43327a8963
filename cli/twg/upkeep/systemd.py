"""Linux: a systemd user service (one ``twg upkeep run``) and a timer every 12 minutes,
enabled with ``systemctl --user daemon-reload`` and ``enable --now``."""

from __future__ import annotations

from pathlib import Path

from twg.upkeep.policy import INTERVAL
from twg.upkeep.runner import CommandRunner
from twg.upkeep.scheduler import (
    Installed,
    Launcher,
    remove_files,
    write_and_enable,
)

SERVICE = "twg-upkeep.service"
TIMER = "twg-upkeep.timer"
HEADER = "# Written by `twg upkeep enable`; `twg upkeep disable` removes it.\n"
_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@")


def _escape(text: str, dollar: bool) -> str:
    # systemd.unit(5)/systemd.service(5): % starts a specifier, $ a variable in Exec lines.
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return text.replace("$", "$$") if dollar else text


def exec_word(word: str) -> str:
    if word and set(word) <= _SAFE:
        return word
    return f'"{_escape(word, dollar=True)}"'


def environment_line(name: str, value: str) -> str:
    return f'Environment="{_escape(f"{name}={value}", dollar=False)}"'


def service_unit(launcher: Launcher) -> str:
    lines = [
        HEADER.rstrip("\n"),
        "[Unit]",
        "Description=twg upkeep: refresh the twg session before it expires",
        "",
        "[Service]",
        "Type=oneshot",
        "ExecStart=" + " ".join(exec_word(w) for w in launcher.command("upkeep", "run")),
    ]
    lines += [environment_line(k, v) for k, v in sorted(launcher.environment.items())]
    return "\n".join(lines) + "\n"


def timer_unit(interval: int = INTERVAL) -> str:
    minutes = interval // 60
    return (
        HEADER
        + "[Unit]\n"
        + f"Description=Run twg upkeep every {minutes} minutes\n"
        + "\n[Timer]\n"
        + "OnActiveSec=1min\n"
        + f"OnUnitActiveSec={minutes}min\n"
        # The 15-minute lead absorbs up to 3 minutes of lateness; 30 s is well inside.
        + "AccuracySec=30s\n"
        + "\n[Install]\n"
        + "WantedBy=timers.target\n"
    )


class SystemdScheduler:
    name = "systemd"
    label = "systemd user timer"

    def __init__(self, runner: CommandRunner, config_home: Path) -> None:
        self.runner = runner
        self.unit_dir = config_home / "systemd" / "user"

    @property
    def paths(self) -> tuple[Path, Path]:
        return (self.unit_dir / SERVICE, self.unit_dir / TIMER)

    def files(self, launcher: Launcher) -> dict[Path, bytes]:
        service, timer = self.paths
        return {service: service_unit(launcher).encode(), timer: timer_unit().encode()}

    def enable_commands(self) -> list[list[str]]:
        return [
            ["systemctl", "--user", "daemon-reload"],
            ["systemctl", "--user", "enable", "--now", TIMER],
        ]

    def enable(self, launcher: Launcher) -> Installed:
        return write_and_enable(
            self.runner, self.files(launcher), self.enable_commands(), self.name, self.label, TIMER
        )

    def disable(self) -> list[str]:
        problems: list[str] = []
        if not any(p.exists() for p in self.paths):
            return problems  # nothing of ours is installed: nothing to stop
        stop = self.runner.run(["systemctl", "--user", "disable", "--now", TIMER])
        if not stop.ok:
            problems.append(f"systemctl --user disable --now {TIMER}: {stop.problem()}")
        problems += remove_files(list(self.paths))
        reload = self.runner.run(["systemctl", "--user", "daemon-reload"])
        if not reload.ok and stop.ok:
            problems.append(f"systemctl --user daemon-reload: {reload.problem()}")
        return problems

    def installed(self) -> bool:
        return all(p.exists() for p in self.paths)

    def repair_hint(self) -> str:
        return (
            "systemd user timers need a running user instance with its D-Bus (a normal "
            "desktop or SSH login; `loginctl enable-linger $USER` keeps it running after "
            "you log out). Then run `twg upkeep enable`. Where there is none, as in "
            f"containers, run `twg upkeep run --every {INTERVAL}` as a long-running process."
        )
