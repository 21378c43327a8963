"""One protocol for the OS schedulers that run ``twg upkeep run`` every 12 minutes.

Each backend writes its definition files from the current ``twg`` launcher, then enables
them with the OS's own tool through an injected ``CommandRunner``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from twg.errors import Unavailable
from twg.upkeep.runner import CommandRunner

# Non-secret settings a scheduled run needs to act on the same session as the user's
# shell. Secrets (TWG_OAUTH_ACCESS_TOKEN, TWG_BBC_TOKEN, keys) are never copied into a
# unit file or plist: they are not in this list.
PASSED_SETTINGS = (
    "TWG_CONFIG_DIR",
    "TWG_IDP_URL",
    "TWG_API_URL",
    "TWG_BITBUCKET_URL",
    "TWG_CLIENT_ID",
    "TWG_SCOPES",
    "TWG_CREDENTIAL_STORE",
    "TWG_KEYRING_TIMEOUT",
    "TWG_UPKEEP_INACTIVITY_DAYS",
    "PYTHON_KEYRING_BACKEND",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "AUTHLIB_INSECURE_TRANSPORT",
)


class SchedulerUnavailable(Unavailable):
    """The OS scheduler could not be used (no systemd user instance, no D-Bus, ...)."""

    code = "SCHEDULER_UNAVAILABLE"


@dataclass(frozen=True)
class Launcher:
    """How the scheduler starts twg: the program, its leading arguments, its settings."""

    argv: tuple[str, ...]
    environment: dict[str, str] = field(default_factory=dict)

    def command(self, *args: str) -> list[str]:
        return [*self.argv, *args]


def find_launcher(
    environ: Mapping[str, str], argv0: str | None = None, which: str | None = None
) -> Launcher:
    """The twg this process was started as (so the schedule runs the same install),
    else ``twg`` on PATH, else this Python with ``-m twg``."""
    env = {name: environ[name] for name in PASSED_SETTINGS if environ.get(name)}
    candidate = argv0 if argv0 is not None else sys.argv[0]
    if candidate and Path(candidate).name.lower() in {"twg", "twg.exe"}:
        path = Path(candidate)
        if not path.is_absolute():
            located = shutil.which(candidate)
            path = Path(located) if located else path.resolve()
        if path.is_file():
            return Launcher((str(path.resolve()),), env)
    found = which if which is not None else shutil.which("twg")
    if found:
        return Launcher((str(Path(found).resolve()),), env)
    return Launcher((sys.executable, "-m", "twg"), env)


@dataclass(frozen=True)
class Installed:
    """What enabling did, for the summary and upkeep.json."""

    backend: str
    description: str
    files: tuple[Path, ...]
    commands: tuple[tuple[str, ...], ...]


class Scheduler(Protocol):
    name: str
    label: str  # "systemd user timer", ... (for people)

    def files(self, launcher: Launcher) -> dict[Path, bytes]:
        """The definition files enabling writes, by path."""
        ...

    def enable(self, launcher: Launcher) -> Installed:
        """Write the files and enable them; raises SchedulerUnavailable (files removed)."""
        ...

    def disable(self) -> list[str]:
        """Stop and remove; returns problems met on the way (files are removed anyway)."""
        ...

    def installed(self) -> bool:
        """Whether the definition files are present."""
        ...

    def repair_hint(self) -> str:
        """What a person can do when enabling failed here."""
        ...


def run_all(
    runner: CommandRunner, commands: Sequence[Sequence[str]], what: str
) -> list[tuple[str, ...]]:
    """Run commands in order; the first failure raises with the tool's own words."""
    done: list[tuple[str, ...]] = []
    for argv in commands:
        result = runner.run(argv)
        done.append(tuple(argv))
        if not result.ok:
            raise SchedulerUnavailable(
                f"Could not enable {what}: `{' '.join(argv)}` failed: {result.problem()}."
            )
    return done


def remove_files(paths: Sequence[Path]) -> list[str]:
    problems: list[str] = []
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            problems.append(f"could not remove {path}: {exc.strerror or exc}")
    return problems


def write_files(files: Mapping[Path, bytes]) -> None:
    """Definition files are not secret (no token), but only ours: 0600 in 0700 dirs is
    not needed by any scheduler, so they are written 0644 like any unit file."""
    from twg.auth.atomic import atomic_write

    for path, body in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, body, mode=0o644)


def write_and_enable(
    runner: CommandRunner,
    files: Mapping[Path, bytes],
    commands: Sequence[Sequence[str]],
    name: str,
    label: str,
    unit: str,
) -> Installed:
    """Write the definition files, then run the commands that enable them. When the
    scheduler refuses, the files are removed again: nothing half-installed stays."""
    write_files(files)
    try:
        done = run_all(runner, commands, f"the {label}")
    except SchedulerUnavailable:
        remove_files(list(files))
        raise
    return Installed(name, f"{label} {unit}", tuple(files), tuple(done))
