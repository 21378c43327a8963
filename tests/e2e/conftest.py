"""The e2e suite: the mock IdP in Docker Compose, driven by the real `twg` CLI.

One Compose project serves the whole session (building and starting it is the slow
part); every test starts from `POST /_mock/reset`. Without a Docker engine and the
Compose v2 plugin the suite is skipped locally, but fails when CI is set (to anything but
empty, 0 or false): CI must never pass by silently skipping it.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_idp.control_client import MockIdPClient
from mock_idp.pytest_plugin import running_in_ci
from tests.e2e.harness import REPO_ROOT, Cli, Stack, docker_problem, venv_script

# Read once at import: the autouse isolated_env fixture removes CI from each test's env.
IN_CI = running_in_ci()

# testcontainers here: no Ryuk (its image cannot be pulled), and the published port is
# on the docker host's loopback, never a bridge address (see pitfalls.md).
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")
os.environ.setdefault("TC_HOST", "127.0.0.1")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    problem = docker_problem()
    if problem is not None:
        message = f"e2e suite needs Docker with Compose v2: {problem}"
        if IN_CI:
            pytest.fail(f"{message} (CI is set: refusing to skip; run .ci/run to provision)")
        pytest.skip(message)
    from testcontainers.compose import DockerCompose

    # A project of its own, so it never touches a `docker compose up` a human left running.
    os.environ["COMPOSE_PROJECT_NAME"] = f"twg-e2e-{uuid.uuid4().hex[:8]}"
    compose = DockerCompose(REPO_ROOT, build=True, wait=True)
    try:
        try:
            compose.start()
        except subprocess.CalledProcessError as exc:
            # BuildKit reports a failing RUN step's own output on stdout.
            out = (exc.stdout or b"").decode(errors="replace")[-2500:]
            detail = out + "\n" + (exc.stderr or b"").decode(errors="replace")[-1500:]
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
        running = Stack(compose=compose, url=f"http://127.0.0.1:{port}", env=dict(os.environ))
        running.control_token = running.read_control_token()
        yield running
    finally:
        # `down --volumes` with the cli and scenarios profiles too: otherwise volumes only
        # those services use outlive the project.
        profiles = ["--profile", "cli", "--profile", "scenarios"]
        subprocess.run(
            [*compose.compose_command_property, *profiles, "down", "--volumes"],
            cwd=REPO_ROOT,
            capture_output=True,
            timeout=120,
            check=False,
        )
        compose.stop(down=True)


@pytest.fixture
def mock(stack: Stack) -> Iterator[MockIdPClient]:
    """The Compose mock's control API (with the stack's control token), reset per test."""
    with MockIdPClient(stack.url, control_token=stack.control_token) as control:
        control.reset()
        yield control


@pytest.fixture
def cli(mock: MockIdPClient, tmp_path: Path) -> Cli:
    """A fresh CLI config pointed at the container; the robot browser signs in as alice."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWG_")}
    config_dir = tmp_path / "twg-config"
    browser = venv_script("twg-mock-idp")
    env.update(
        TWG_CONFIG_DIR=str(config_dir),
        TWG_IDP_URL=mock.url,
        TWG_API_URL=mock.url,
        TWG_BITBUCKET_URL=mock.url,
        TWG_CREDENTIAL_STORE="file",
        BROWSER=f"{browser} browser --user alice@example.com %s",
    )
    env.pop("CI", None)
    return Cli(env=env, config_dir=config_dir, twg=venv_script("twg"))
