"""pytest fixtures for suites that test against the mock Atlassian identity provider.

Installed with the ``twg`` distribution and registered as the ``pytest11`` entry point
``twg_mock_idp``, so any project that installs ``twg`` gets these fixtures:

- ``mock_idp``: a fresh mock per test on a real loopback socket (port chosen by the OS,
  so pytest-xdist workers never collide), driven over HTTP through the control API
  (``/_mock/``): ``.url``, ``.clock``, ``.faults``, ``.seed()``, ``.settings()``,
  ``.audit()``, ``.reset()``. The same helpers work against a container.
- ``twg``: an isolated config directory and environment pointing ``twg`` at that mock,
  credentials in a file store, the mock's robot person as the browser; ``.run()`` runs
  the CLI in-process, ``.run_subprocess()`` runs the installed console script.
- ``mock_idp_container``: the mock's Docker image, built and started once per session
  (testcontainers). Skipped when Docker is missing, a failure when ``CI`` is set.

``mock_idp_settings`` (a ``mock_idp.settings.Settings``) may be overridden to start the
mock with other settings; ``running_mock_idp()`` starts another mock the same way (a
context manager, for tests that need two issuers). See docs/pytest-plugin.md.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import webbrowser
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mock_idp.app import create_app
from mock_idp.control_client import MockIdPClient, MockIdPError
from mock_idp.server import BackgroundServer
from mock_idp.settings import Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette

CONTROL_TOKEN_ENV = "TWG_MOCK_CONTROL_TOKEN"  # noqa: S105 (a variable name)
IMAGE_ENV = "TWG_MOCK_IDP_IMAGE"
ALICE = "alice@example.com"
_FALSE = frozenset({"", "0", "false", "no", "off"})


def running_in_ci(environ: Mapping[str, str] | None = None) -> bool:
    """``CI`` set to anything but an empty string, 0, false, no or off (any case)."""
    value = (os.environ if environ is None else environ).get("CI", "")
    return value.strip().lower() not in _FALSE


# in-process mock ---------------------------------------------------------------------------


@pytest.fixture
def mock_idp_settings() -> Settings:
    """Settings the ``mock_idp`` fixture starts with; override it for others."""
    return Settings()


@pytest.fixture
def mock_idp_app(mock_idp_settings: Settings) -> Starlette:
    return create_app(mock_idp_settings)


@contextmanager
def running_mock_idp(
    settings: Settings | None = None, *, app: Starlette | None = None
) -> Iterator[MockIdPClient]:
    """A mock IdP on its own loopback port until the ``with`` block ends: what the
    ``mock_idp`` fixture starts, for a test that needs a second one (another issuer,
    its own world and audit log). ``app`` is a ``create_app(settings)`` already made."""
    settings = settings or Settings()
    app = app or create_app(settings)
    with (
        BackgroundServer(app) as server,
        MockIdPClient(
            server.url, control_token=settings.control_token, idp=app.state.idp, server=server
        ) as client,
    ):
        yield client


@pytest.fixture
def mock_idp(mock_idp_app: Starlette, mock_idp_settings: Settings) -> Iterator[MockIdPClient]:
    """A fresh mock IdP on a real loopback socket, for this test only."""
    with running_mock_idp(mock_idp_settings, app=mock_idp_app) as client:
        yield client


# the CLI -----------------------------------------------------------------------------------


@dataclass
class CliResult:
    code: int
    out: str
    err: str
    prompts: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.out)


def robot_browser_command(user: str = ALICE, *extra: str) -> str:
    """A ``BROWSER`` value that runs the mock's robot person as ``user``."""
    robot = Path(sys.executable).parent / "twg-mock-idp"
    return shlex.join([str(robot), "browser", "--user", user, *extra]) + " %s"


@dataclass
class TwgCli:
    """``twg`` pointed at a mock: its own config dir, environment and robot browser."""

    mock: MockIdPClient
    home: Path
    env: dict[str, str]
    user: str = ALICE
    _monkeypatch: pytest.MonkeyPatch | None = None
    # The retry backoffs of in-process runs, recorded instead of slept: the mock answers
    # the retry just the same, and a suite need not wait seconds for each fault.
    sleeps: list[float] = field(default_factory=list)

    @property
    def config_dir(self) -> Path:
        return Path(self.env["TWG_CONFIG_DIR"])

    def _environ(self, env: Mapping[str, str | None] | None) -> dict[str, str]:
        environ = dict(self.env)
        for key, value in (env or {}).items():
            if value is None:
                environ.pop(key, None)
            else:
                environ[key] = value
        return environ

    def robot(self, url: str) -> bool:
        """The robot person, in this process: what ``BROWSER`` runs, minus a process."""
        from mock_idp.browser import Robot, RobotError

        try:
            with Robot(user=self.user) as robot:
                robot.run(url)
        except (RobotError, httpx.HTTPError) as exc:
            print(f"robot browser: {exc}", file=sys.stderr)
            return False
        return True

    def run(
        self,
        *args: str,
        env: Mapping[str, str | None] | None = None,
        stdin: str = "",
        tty: bool = False,
        hidden: list[str] | None = None,
        color: bool = False,
        **factory_kwargs: Any,
    ) -> CliResult:
        """Run ``twg *args`` in this process (``twg.main.main``): fast, and coverage sees
        it. ``tty`` and ``color`` make its output a (colour) terminal. ``factory_kwargs``
        go to twg's Factory (``transport``, ``keyring_backend``, ``local_now``,
        ``login_timeout``, ``browser``, ``sleep``)."""
        from twg.iostreams import IOStreams
        from twg.main import main

        environ = self._environ(env)
        if "browser" not in factory_kwargs:
            if environ.get("BROWSER") == self.env.get("BROWSER"):
                factory_kwargs["browser"] = self.robot
            else:
                self._use_browser_env(environ.get("BROWSER"))
        factory_kwargs.setdefault("sleep", self.sleeps.append)
        io = IOStreams.for_test(stdin, tty=tty, hidden_answers=hidden, color=color)
        code = main(list(args), io=io, environ=environ, **factory_kwargs)
        return CliResult(
            code,
            io.stdout.getvalue(),  # type: ignore[attr-defined]
            io.stderr.getvalue(),  # type: ignore[attr-defined]
            list(getattr(io, "hidden_prompts", [])),
        )

    def _use_browser_env(self, browser: str | None) -> None:
        # webbrowser reads BROWSER from the process environment once and caches it.
        mp = self._monkeypatch
        if mp is None:
            raise RuntimeError("a changed BROWSER needs the fixture's monkeypatch")
        if browser is None:
            mp.delenv("BROWSER", raising=False)
        else:
            mp.setenv("BROWSER", browser)
        mp.setattr(webbrowser, "_tryorder", None)
        mp.setattr(webbrowser, "_browsers", {})

    def run_subprocess(
        self,
        *args: str,
        env: Mapping[str, str | None] | None = None,
        stdin: str = "",
        timeout: float = 60.0,
        wrapper: Sequence[str] = (),
    ) -> CliResult:
        """Run the installed ``twg`` console script (next to this Python) as a process,
        under ``wrapper`` if given (``["unshare", "-m", ...]``)."""
        twg = Path(sys.executable).parent / "twg"
        done = subprocess.run(  # noqa: S603 (our own console script)
            [*wrapper, str(twg), *args],
            env=self._environ(env),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    def popen(
        self, *args: str, env: Mapping[str, str | None] | None = None, **kwargs: Any
    ) -> subprocess.Popen[str]:
        """Start ``twg *args`` without waiting (for concurrent runs). ``kwargs`` go to
        ``subprocess.Popen``: output is piped as text unless they say otherwise
        (``stdout=subprocess.DEVNULL`` for a process the test kills)."""
        twg = Path(sys.executable).parent / "twg"
        options: dict[str, Any] = {
            "stdout": subprocess.PIPE,
            "stderr": subprocess.PIPE,
            "text": True,
            **kwargs,
        }
        return subprocess.Popen(  # noqa: S603 (our own console script)
            [str(twg), *args], env=self._environ(env), **options
        )


def twg_environment(mock_url: str, home: Path, user: str = ALICE) -> dict[str, str]:
    """The environment of an isolated ``twg`` using ``mock_url`` for everything."""
    from twg.auth.agents import AGENT_MARKERS

    # Nothing of the caller's twg set-up, and no CI or coding-agent markers: they change
    # twg's behaviour (timeouts, messages), and a test says explicitly when it wants them.
    dropped = {"BROWSER", "HOME", "CI", *(name for name, _ in AGENT_MARKERS)}
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWG_", "PYTHON_KEYRING", "XDG_")) and k not in dropped
    }
    return {
        **keep,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "TWG_CONFIG_DIR": str(home / ".config" / "twg"),
        "TWG_IDP_URL": mock_url,
        "TWG_API_URL": mock_url,
        "TWG_BITBUCKET_URL": mock_url,
        "TWG_CREDENTIAL_STORE": "file",
        "TWG_LOGIN_TIMEOUT": "30",
        "BROWSER": robot_browser_command(user),
    }


@pytest.fixture
def twg(
    mock_idp: MockIdPClient,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> TwgCli:
    """``twg`` with its own config dir, pointed at this test's ``mock_idp``."""
    home = tmp_path_factory.mktemp("twg-home")
    return TwgCli(mock_idp, home, twg_environment(mock_idp.url, home), _monkeypatch=monkeypatch)


# the image ---------------------------------------------------------------------------------


def _docker_problem() -> str | None:
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        return "the docker Python package is not installed (pip install testcontainers)"
    try:
        docker.from_env().ping()
    except Exception as exc:  # any failure means: no usable engine here
        return f"no Docker engine is reachable ({type(exc).__name__})"
    return None


def _repo_root() -> Path | None:
    root = Path(__file__).resolve().parents[1]
    return root if (root / "Dockerfile").is_file() else None


@pytest.fixture(scope="session")
def mock_idp_container() -> Iterator[MockIdPClient]:
    """The mock's Docker image running once for the session (call ``.reset()`` per test).

    The image is ``$TWG_MOCK_IDP_IMAGE`` when set, else built from this source tree's
    Dockerfile (build args from ``TWG_DOCKER_BASE_IMAGE``/``TWG_DOCKER_WHEELHOUSE``).
    """
    problem = _docker_problem()
    if problem is not None:
        message = f"mock_idp_container needs Docker: {problem}"
        if running_in_ci():
            pytest.fail(f"{message} (CI is set: refusing to skip)")
        pytest.skip(message)
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.image import DockerImage

    image_name = os.environ.get(IMAGE_ENV)
    if not image_name:
        root = _repo_root()
        if root is None:
            pytest.fail(f"set {IMAGE_ENV} to the mock's image (no Dockerfile next to the package)")
        buildargs = {"BASE_IMAGE": os.environ.get("TWG_DOCKER_BASE_IMAGE", "python:3.12-slim")}
        buildargs["WHEELHOUSE"] = os.environ.get("TWG_DOCKER_WHEELHOUSE", "")
        # Kept afterwards (clean_up=False): the next session reuses its cached layers.
        image = DockerImage(
            path=str(root), tag="twg-mock-idp:pytest", clean_up=False, buildargs=buildargs
        )
        image.build()
        image_name = str(image)
    token = os.environ.get(CONTROL_TOKEN_ENV)
    container = (
        DockerContainer(image_name)
        .with_command("twg-mock-idp serve --host=0.0.0.0 --port=8080")
        .with_env("AUTHLIB_INSECURE_TRANSPORT", "1")
    )
    # Published on the host's loopback only, on a port Docker picks.
    container.ports["8080"] = ("127.0.0.1", None)  # type: ignore[assignment]
    if token:
        container = container.with_env(CONTROL_TOKEN_ENV, token)
    with container:
        port = container.get_exposed_port(8080)
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url)
        with MockIdPClient(url, control_token=token) as client:
            yield client


def _wait_until_up(url: str, attempts: int = 300) -> None:
    import time

    for _ in range(attempts):
        try:
            httpx.get(f"{url}/.well-known/oauth-authorization-server", timeout=2.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)  # a container starting: nothing to wait on but time
    pytest.fail(f"the mock container never answered at {url}")


# Suites import these from the plugin (docs/pytest-plugin.md).
__all__ = [
    "CliResult",
    "MockIdPClient",
    "MockIdPError",
    "TwgCli",
    "robot_browser_command",
    "running_in_ci",
    "running_mock_idp",
]
