"""What the e2e tests drive: the Compose stack, the mock's HTTP APIs, and the real CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_idp.control_client import MockIdPClient
from mock_idp.seed import ACME_ADMIN_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 90.0
# compose.yaml: the mock writes its control token here, on the mock-control volume.
CONTROL_TOKEN_FILE = "/run/twg-mock/control-token"


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
    control_token: str = ""  # filled by read_control_token

    def read_control_token(self) -> str:
        """The token the mock generated for its control API (read inside its container)."""
        cmd = [*self.compose.compose_command_property, "exec", "-T", "mock-idp"]
        done = subprocess.run(
            [*cmd, "cat", CONTROL_TOKEN_FILE],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        token = done.stdout.strip()
        if done.returncode != 0 or not token:
            pytest.fail(f"cannot read the mock's control token: {done.stderr.strip()}")
        return token

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


def admin(mock: MockIdPClient, method: str, path: str) -> httpx.Response:
    """An Admin API call as acme's org admin (the seeded key)."""
    headers = {"Authorization": f"Bearer {ACME_ADMIN_KEY}"}
    return mock.http.request(method, f"/admin/v1{path}", headers=headers)


def venv_script(name: str) -> str:
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
