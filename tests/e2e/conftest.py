"""The e2e suite: the mock IdP in Docker Compose, driven by the real `twg` CLI.

One Compose project serves the whole session (building and starting it is the slow
part); every test starts from `POST /_mock/reset`. Without a Docker engine and the
Compose v2 plugin the suite is skipped locally, but fails under CI=true: CI must never
pass by silently skipping it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Read once at import: the autouse isolated_env fixture removes CI from each test's env.
IN_CI = os.environ.get("CI", "").strip().lower() == "true"

# testcontainers here: no Ryuk (its image cannot be pulled), and the published port is
# on the docker host's loopback, never a bridge address (see pitfalls.md).
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")
os.environ.setdefault("TC_HOST", "127.0.0.1")

ADMIN_KEY_ACME = "mock-admin-key-acme"
COMMAND_TIMEOUT = 90.0


def docker_problem() -> str | None:
    """Why Docker Compose cannot run here, or None when it can."""
    if shutil.which("docker") is None:
        return "the docker client is not installed"
    checks = (
        (["docker", "info"], "the Docker engine is not reachable (`docker info` failed)"),
        (["docker", "compose", "version"], "the Docker Compose v2 plugin is missing"),
    )
    for cmd, why in checks:
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return why
        if done.returncode != 0:
            return why
    return None


@dataclass
class Stack:
    """The running Compose project, and the environment its `docker compose` calls need."""

    compose: Any
    url: str
    env: dict[str, str] = field(default_factory=dict)

    def compose_run(self, *args: str, timeout: float = 180.0) -> subprocess.CompletedProcess[str]:
        """`docker compose run` in this project (the in-network CLI service)."""
        cmd = [*self.compose.compose_command_property, "--profile", "cli", "run", "--rm", "-T"]
        return subprocess.run(
            [*cmd, *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    problem = docker_problem()
    if problem is not None:
        message = f"e2e suite needs Docker with Compose v2: {problem}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: refusing to skip; run .ci/run to provision)")
        pytest.skip(message)
    from testcontainers.compose import DockerCompose

    # A project of its own, so it never touches a `docker compose up` a human left running.
    os.environ["COMPOSE_PROJECT_NAME"] = f"twg-e2e-{uuid.uuid4().hex[:8]}"
    compose = DockerCompose(REPO_ROOT, build=True, wait=True)
    try:
        try:
            compose.start()
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or b"").decode(errors="replace")[-3000:]
            hint = ""
            if not os.environ.get("TWG_DOCKER_BASE_IMAGE"):
                hint = (
                    "\nWithout registry/index access, build offline: set TWG_DOCKER_BASE_IMAGE"
                    " and TWG_DOCKER_WHEELHOUSE (README 'Offline Docker'; .ci/run does)."
                )
            pytest.fail(f"docker compose up failed:\n{detail}{hint}")
        host, port = compose.get_service_host_and_port("mock-idp", 8080)
        # Only loopback: the network rule for tests, and how compose.yaml publishes it.
        assert host in ("127.0.0.1", "localhost"), host
        yield Stack(compose=compose, url=f"http://127.0.0.1:{port}", env=dict(os.environ))
    finally:
        compose.stop(down=True)  # `down --volumes`


class MockControl:
    """The mock's control, audit and Admin APIs, over real HTTP to the container."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30.0)

    def reset(self) -> None:
        self.http.post("/_mock/reset").raise_for_status()

    def advance(self, seconds: int) -> None:
        self.http.post("/_mock/clock/advance", json={"seconds": seconds}).raise_for_status()

    def audit(self, since: int = 0, event: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, str | int] = {"since": since}
        if event:
            params["event"] = event
        response = self.http.get("/_mock/audit", params=params)
        response.raise_for_status()
        return list(response.json()["events"])

    def last_audit_id(self) -> int:
        events = self.audit()
        return int(events[-1]["id"]) if events else 0

    def admin(self, method: str, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {ADMIN_KEY_ACME}"}
        return self.http.request(method, f"/admin/v1{path}", headers=headers)

    def refresh_grant(self, refresh_token: str) -> httpx.Response:
        return self.http.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": "twg-cli",
            },
        )


@pytest.fixture
def mock(stack: Stack) -> Iterator[MockControl]:
    control = MockControl(stack.url)
    control.reset()
    try:
        yield control
    finally:
        control.http.close()


def _venv_script(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"console script {name!r} is not installed (pip install -e '.[dev]')")
    return found


@dataclass
class Cli:
    """The real `twg` CLI as a user runs it: a subprocess with its own config dir."""

    env: dict[str, str]
    config_dir: Path
    twg: str

    def __call__(
        self, *args: str, timeout: float = COMMAND_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.twg, *args],
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )

    def json(self, *args: str) -> Any:
        done = self(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def login(self, *extra: str) -> subprocess.CompletedProcess[str]:
        done = self("login", *extra)
        assert done.returncode == 0, f"login failed:\n{done.stdout}\n{done.stderr}"
        return done


@pytest.fixture
def cli(mock: MockControl, tmp_path: Path) -> Cli:
    """A fresh CLI config pointed at the container; the robot browser signs in as alice."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWG_")}
    config_dir = tmp_path / "twg-config"
    browser = _venv_script("twg-mock-idp")
    env.update(
        TWG_CONFIG_DIR=str(config_dir),
        TWG_IDP_URL=mock.url,
        TWG_API_URL=mock.url,
        TWG_BITBUCKET_URL=mock.url,
        TWG_CREDENTIAL_STORE="file",
        BROWSER=f"{browser} browser --user alice@example.com %s",
    )
    env.pop("CI", None)
    return Cli(env=env, config_dir=config_dir, twg=_venv_script("twg"))
