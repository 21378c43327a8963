"""Running the real `twg` (in-process) against the real mock on a loopback socket, as
people: each has their own config directory, alice/bob sign in through the mock's robot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mock_idp.browser import Robot
from mock_idp.pytest_plugin import CliResult as Result
from mock_idp.pytest_plugin import twg_environment
from mock_idp.seed import ACME_ADMIN_KEY, ACME_ORG_ID, ACME_SITE_ID
from twg.iostreams import IOStreams
from twg.main import main


@dataclass
class Person:
    """One person at their own machine (config dir), talking to the mock at ``url``."""

    email: str
    home: Path
    url: str

    @property
    def config_dir(self) -> Path:
        return Path(twg_environment(self.url, self.home)["TWG_CONFIG_DIR"])

    def env(self, **extra: str) -> dict[str, str]:
        """The plugin's isolated environment of ``twg`` (its ``twg`` fixture's), in
        ``home``, plus ``extra``."""
        return {**twg_environment(self.url, self.home, self.email), **extra}

    def browser(self, url: str) -> bool:
        with Robot(user=self.email, site=ACME_SITE_ID, client=httpx.Client(timeout=30)) as robot:
            robot.run(url)
        return True

    def twg(
        self,
        *args: str,
        stdin: str = "",
        tty: bool = False,
        hidden: list[str] | None = None,
        env: dict[str, str] | None = None,
        stdin_stream: Any = None,
        browser: Callable[[str], bool] | None = None,
        login_timeout: float = 30.0,
    ) -> Result:
        io = IOStreams.for_test(stdin, tty=tty, hidden_answers=hidden)
        if stdin_stream is not None:
            io.stdin = stdin_stream
        code = main(
            list(args),
            io=io,
            environ=self.env(**(env or {})),
            browser=browser or self.browser,
            login_timeout=login_timeout,
        )
        return Result(code, io.output(), io.errors(), io.hidden_prompts)  # type: ignore[attr-defined]


def snapshot(directory: Path, names: tuple[str, ...]) -> dict[str, bytes | None]:
    """The bytes of each named file (None when absent), to compare byte for byte."""
    return {n: (directory / n).read_bytes() if (directory / n).exists() else None for n in names}


def admin_signed_in(person: Person, key_input: str = ACME_ADMIN_KEY) -> Person:
    """``person`` after ``twg admin auth login`` for the seeded org, the Admin API key
    read from stdin as typed (``key_input``: with or without its newline)."""
    result = person.twg(
        "admin", "auth", "login", "--email", person.email, "--org", ACME_ORG_ID, stdin=key_input
    )
    assert result.code == 0, result.err
    return person
