"""Fixtures for CLI tests: a fake IdP behind httpx.MockTransport and an in-process runner."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.cli.fake_idp import API, BB, ISSUER, FakeIdP
from twg.iostreams import IOStreams
from twg.main import main


@dataclass
class Result:
    code: int
    out: str
    err: str
    prompts: list[str]

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def fake() -> FakeIdP:
    return FakeIdP()


@pytest.fixture
def config_dir(isolated_env: Path) -> Path:
    return isolated_env / ".config" / "twg"


@pytest.fixture
def base_env(isolated_env: Path, config_dir: Path) -> dict[str, str]:
    return {
        "HOME": str(isolated_env),
        "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
        "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"],
        "TWG_CONFIG_DIR": str(config_dir),
        "TWG_IDP_URL": ISSUER,
        "TWG_API_URL": API,
        "TWG_BITBUCKET_URL": BB,
        "TWG_CREDENTIAL_STORE": "file",
    }


Runner = Callable[..., Result]


@pytest.fixture
def twg(fake: FakeIdP, base_env: dict[str, str]) -> Runner:
    def run(
        *args: str,
        env: dict[str, str | None] | None = None,
        tty: bool = False,
        hidden: list[str] | None = None,
        browser: Callable[[str], bool] | None = None,
        login_timeout: float = 5.0,
        stdin: str = "",
        keyring_backend: Any = None,
        local_shift: float = 0.0,
    ) -> Result:
        environ = dict(base_env)
        for key, value in (env or {}).items():
            if value is None:
                environ.pop(key, None)
            else:
                environ[key] = value
        io = IOStreams.for_test(stdin, tty=tty, hidden_answers=hidden)
        code = main(
            list(args),
            io=io,
            environ=environ,
            transport=fake.transport(),
            browser=browser or fake.browser(),
            login_timeout=login_timeout,
            keyring_backend=keyring_backend,
            local_now=lambda: time.time() + local_shift,
        )
        return Result(code, io.output(), io.errors(), io.hidden_prompts)  # type: ignore[attr-defined]

    return run


@pytest.fixture
def logged_in(twg: Runner) -> Result:
    result = twg("login")
    assert result.code == 0, result.err
    return result
