"""The real ``twg`` as a user runs it: a subprocess of this Python, with a controlled
environment and a config directory of its own (file credential store)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT = 90.0
# Passed through from the runner's environment: what a process needs to start at all.
PASSED_THROUGH = ("PATH", "PYTHONPATH", "SYSTEMROOT", "TMPDIR", "TZ", "LANG", "LC_ALL")


@dataclass
class CommandResult:
    argv: list[str]  # as the scenario wrote it: "twg", then the arguments
    exit: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    def json(self) -> Any:
        return json.loads(self.stdout)

    def to_json(self) -> dict[str, Any]:
        return {
            "argv": self.argv,
            "exit": self.exit,
            "stdout": self.stdout,
            "stderr": self.stderr,
            "seconds": round(self.seconds, 3),
            "timed_out": self.timed_out,
        }


def twg_command() -> list[str]:
    """``twg`` from this Python's environment: the console script beside the interpreter
    (a venv), else the same entry point through ``-c`` (the package has no ``__main__``)."""
    script = Path(sys.executable).parent / ("twg.exe" if os.name == "nt" else "twg")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from twg.main import main; sys.exit(main())"]


def robot_browser(user: str, site: str | None = None, deny: bool = False) -> str:
    """A BROWSER value: the mock's robot signs in as ``user`` (webbrowser splits it like a
    shell, so every part is quoted)."""
    parts = [sys.executable, "-m", "mock_idp.cli", "browser", "--user", user]
    if site:
        parts += ["--site", site]
    if deny:
        parts.append("--deny")
    return " ".join(shlex.quote(p) for p in parts) + " %s"


class TwgCli:
    def __init__(self, workdir: Path, mock_url: str) -> None:
        self.config_dir = workdir / "twg-config"
        self.home = workdir / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.mock_url = mock_url
        self._command = twg_command()

    def environment(self, user: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: os.environ[k] for k in PASSED_THROUGH if k in os.environ}
        env.setdefault("LANG", "C.UTF-8")
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            TWG_CONFIG_DIR=str(self.config_dir),
            TWG_IDP_URL=self.mock_url,
            TWG_API_URL=self.mock_url,
            TWG_BITBUCKET_URL=self.mock_url,
            TWG_CREDENTIAL_STORE="file",
            # A mock in Compose is plain http on a host name that is not loopback.
            AUTHLIB_INSECURE_TRANSPORT="1",
            PYTHONIOENCODING="utf-8",
            BROWSER=robot_browser(user),
        )
        env.update(extra or {})
        return env

    def run(
        self,
        args: list[str],
        *,
        user: str = "alice@example.com",
        env: dict[str, str] | None = None,
        stdin: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> CommandResult:
        started = time.monotonic()
        try:
            done = subprocess.run(  # noqa: S603 - our own CLI, arguments from the scenario
                [*self._command, *args],
                env=self.environment(user, env),
                input=stdin if stdin is not None else "",
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            return CommandResult(
                ["twg", *args],
                -1,
                _text(exc.stdout),
                _text(exc.stderr) + f"\n[scenario runner: killed after {timeout:g} s]",
                time.monotonic() - started,
                timed_out=True,
            )
        return CommandResult(
            ["twg", *args], done.returncode, done.stdout, done.stderr, time.monotonic() - started
        )

    def credentials(self) -> dict[str, Any]:
        """What the file credential store holds now ({} when nothing or unreadable)."""
        try:
            data = json.loads((self.config_dir / "credentials").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


def _text(raw: str | bytes | None) -> str:
    if raw is None:
        return ""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
