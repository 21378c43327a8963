"""The real ``twg`` as a user runs it: a subprocess of this Python, with a controlled
environment and a config directory of its own (file credential store)."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT = 90.0
# Passed through from the runner's environment: what a process needs to start at all.
PASSED_THROUGH = ("PATH", "PYTHONPATH", "SYSTEMROOT", "TMPDIR", "TZ", "LANG", "LC_ALL")
# twg with the machine's clock moved by argv[1] seconds. twg reads the machine's time only
# through time.time (its clocks take it as a default argument, bound at import), so
# replacing it before twg is imported moves all of it: the server-clock skew, the
# last-use marker, upkeep's inactivity window.
SHIFTED_CLOCK = (
    "import sys, time\n"
    "real, offset = time.time, float(sys.argv.pop(1))\n"
    "time.time = lambda: real() + offset\n"
    "sys.argv[0] = 'twg'\n"
    "from twg.main import main\n"
    "sys.exit(main())\n"
)


class ReadOnlyUnavailable(Exception):
    """The config directory cannot be made read-only here (root without chattr +i)."""


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
        # Seconds the machine's clock is moved for twg (advance_clock with machine: true).
        self.clock_offset = 0.0

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
        command = self._command
        if self.clock_offset:
            command = [sys.executable, "-c", SHIFTED_CLOCK, repr(self.clock_offset)]
        try:
            done = subprocess.run(  # noqa: S603 - our own CLI, arguments from the scenario
                [*command, *args],
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

    @contextlib.contextmanager
    def read_only_config(self) -> Iterator[None]:
        """The config directory as a sandbox mounts it for a coding agent: nothing in it
        can be created, changed or removed; afterwards it is as it was. Modes lose their
        write bits; root ignores modes, so as root every entry is also made immutable
        (``chattr +i``), and where that is refused the step cannot be run faithfully."""
        self.config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        entries = [self.config_dir]
        for top, dirs, files in os.walk(self.config_dir):
            entries += [Path(top) / name for name in [*dirs, *files]]
        entries = [e for e in entries if not e.is_symlink()]
        modes = {e: stat.S_IMODE(e.stat().st_mode) for e in entries}
        as_root = getattr(os, "geteuid", lambda: -1)() == 0
        try:
            for entry, mode in modes.items():
                entry.chmod(mode & ~0o222)
            if as_root:
                _chattr("+i", entries)
            yield
        finally:
            if as_root:
                with contextlib.suppress(ReadOnlyUnavailable):
                    _chattr("-i", entries)
            for entry, mode in modes.items():
                with contextlib.suppress(OSError):
                    entry.chmod(mode)

    def credentials(self) -> dict[str, Any]:
        """What the file credential store holds now for this mock's issuer, flat
        (``refresh_token``, ``access_token``, ``bitbucket_token``); {} when nothing."""
        try:
            data = json.loads((self.config_dir / "credentials").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        # The store keeps one token set per issuer (see twg.auth.credentials).
        sessions = data.get("sessions")
        mine = sessions.get(self.mock_url.rstrip("/")) if isinstance(sessions, dict) else None
        flat = {k: v for k, v in data.items() if k != "sessions"}
        return flat | (mine if isinstance(mine, dict) else {})


@functools.cache
def read_only_unavailable() -> str | None:
    """Why this machine cannot make a config directory read-only for twg, or None.

    As root only ``chattr +i`` stops writes, and a container without
    CAP_LINUX_IMMUTABLE refuses it: such scenarios are skipped with this reason."""
    if getattr(os, "geteuid", lambda: -1)() != 0:
        return None
    with tempfile.TemporaryDirectory(prefix="twg-ro-probe-") as probe:
        try:
            _chattr("+i", [Path(probe)])
        except ReadOnlyUnavailable as exc:
            return f"cannot make a directory read-only for root here ({exc})"
        _chattr("-i", [Path(probe)])
    return None


def _chattr(flag: str, paths: list[Path]) -> None:
    program = shutil.which("chattr")
    if program is None:
        raise ReadOnlyUnavailable("chattr is not installed")
    try:
        done = subprocess.run(  # noqa: S603 - fixed program, our own paths
            [program, flag, *map(str, paths)], capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise ReadOnlyUnavailable(f"chattr could not run: {exc.strerror or exc}") from None
    if done.returncode != 0:
        why = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "refused"
        raise ReadOnlyUnavailable(f"chattr {flag} failed: {why}")


def _text(raw: str | bytes | None) -> str:
    if raw is None:
        return ""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
