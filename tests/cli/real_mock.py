"""Running twg in-process against real mock IdPs on loopback sockets (no fakes):
a runner, an in-process robot browser, and the fault API."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from mock_idp.browser import Robot
from mock_idp.idp import MockIdP
from mock_idp.pytest_plugin import CliResult, running_mock_idp
from mock_idp.server import BackgroundServer
from mock_idp.settings import Settings
from twg.iostreams import IOStreams
from twg.main import main


@contextmanager
def second_mock(settings: Settings | None = None) -> Iterator[tuple[BackgroundServer, MockIdP]]:
    """Another mock IdP, its own world and audit log, on its own port: started as the
    plugin starts ``mock_idp`` (``running_mock_idp``)."""
    with running_mock_idp(settings) as mock:
        assert mock.server is not None
        assert mock.idp is not None
        yield mock.server, mock.idp


def robot_browser(user: str = "alice@example.com") -> Callable[[str], bool]:
    """A browser that signs in as ``user`` in a thread, as a person in another window."""

    def open_url(url: str) -> bool:
        def walk() -> None:
            with Robot(user=user) as robot:
                robot.run(url)

        threading.Thread(target=walk, daemon=True).start()
        return True

    return open_url


def mock_env(config_dir: Path, url: str, **extra: str) -> dict[str, str]:
    """twg's whole environment for an in-process run against the mock at ``url``: the
    test's isolated home (tests/conftest.py), ``config_dir``, credentials in a file;
    ``extra`` adds or overrides variables (``BROWSER``, ``TWG_LOGIN_TIMEOUT``)."""
    return {
        "HOME": os.environ["HOME"],
        "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
        "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"],
        "TWG_CONFIG_DIR": str(config_dir),
        "TWG_IDP_URL": url,
        "TWG_BITBUCKET_URL": url,
        "TWG_CREDENTIAL_STORE": "file",
        "TWG_LOGIN_TIMEOUT": "30",
        **extra,
    }


def logged_in_env(config_dir: Path, url: str) -> dict[str, str]:
    """``mock_env`` after ``twg login`` succeeded with it (the robot signs in as alice)."""
    env = mock_env(config_dir, url)
    result = twg(env, "login")
    assert result.code == 0, result.err
    return env


class Sleeps(list[float]):
    """An injected sleep: records the backoff instead of waiting it out."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def twg(env: dict[str, str], *args: str, **factory: Any) -> CliResult:
    streams = IOStreams.for_test(tty=False)
    factory.setdefault("browser", robot_browser())
    factory.setdefault("sleep", Sleeps())
    code = main(list(args), io=streams, environ=env, **factory)
    return CliResult(code, streams.stdout.getvalue(), streams.stderr.getvalue(), [])


def fault(url: str, **spec: object) -> None:
    """Queue a fault through the mock's /_mock/faults API."""
    response = httpx.post(f"{url}/_mock/faults", json=spec, timeout=10)
    assert response.status_code == 201, response.text


def events(idp: MockIdP, prefix: str) -> list[dict[str, Any]]:
    return [{"event": e.event, **e.details} for e in idp.audit.events(event_prefix=prefix)]


def stored_file(config_dir: Path, name: str) -> dict[str, Any]:
    return dict(json.loads((config_dir / name).read_text(encoding="utf-8")))
