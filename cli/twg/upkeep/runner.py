"""Running scheduler commands (systemctl, launchctl, schtasks) through one injected object,
so tests see exactly what would run and nothing runs by accident."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

COMMAND_TIMEOUT = 30.0


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def problem(self) -> str:
        """The command's own words for what went wrong (its last non-empty line)."""
        for text in (self.stderr, self.stdout):
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            if lines:
                return lines[-1]
        return f"exit status {self.returncode}"


class CommandRunner(Protocol):
    def run(self, argv: Sequence[str]) -> CommandResult: ...


class SubprocessRunner:
    """The real runner: no shell, a timeout, and a missing program is a result, not a crash."""

    def __init__(self, timeout: float = COMMAND_TIMEOUT) -> None:
        self.timeout = timeout

    def run(self, argv: Sequence[str]) -> CommandResult:
        try:
            done = subprocess.run(  # noqa: S603 - fixed argv, never a shell
                list(argv),
                capture_output=True,
                text=True,
                timeout=self.timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except FileNotFoundError:
            return CommandResult(127, stderr=f"{argv[0]}: command not found")
        except subprocess.TimeoutExpired:
            return CommandResult(124, stderr=f"{argv[0]} did not answer in {self.timeout:.0f} s")
        except OSError as exc:
            return CommandResult(126, stderr=f"{argv[0]}: {exc.strerror or exc}")
        return CommandResult(done.returncode, done.stdout or "", done.stderr or "")
