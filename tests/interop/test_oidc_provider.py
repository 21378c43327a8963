"""twg against an OAuth 2.1 server none of us wrote: panva's oidc-provider (Node.js).

The CLI discovers it through OpenID discovery (it publishes no RFC 8414 document), logs
in through its own sign-in pages (browser and device code), refreshes with rotation,
learns the account from userinfo, and revokes on logout. `.ci/run` installs the
provider with npm; without Node.js or the package the tests skip, except under CI.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_idp.pytest_plugin import running_in_ci
from tests.cli import stored

HERE = Path(__file__).parent
PROVIDER = HERE / "oidc_provider"
BIN = Path(sys.executable).parent
TWG = str(BIN / "twg")
ROBOT = f"{sys.executable} {HERE / 'dev_login_robot.py'}"


def _unavailable() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if not (PROVIDER / "node_modules" / "oidc-provider").is_dir():
        return "oidc-provider is not installed (npm ci in tests/interop/oidc_provider)"
    return None


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    why = _unavailable()
    if why:
        if running_in_ci():
            pytest.fail(f"interop tests cannot run under CI: {why}")
        pytest.skip(why)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        ["node", "server.mjs"],
        cwd=PROVIDER,
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/.well-known/openid-configuration", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("oidc-provider did not start")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout:
            proc.stdout.close()


@pytest.fixture
def twg(issuer, tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ["HOME"],
        "TWG_CONFIG_DIR": str(tmp_path / "twg"),
        "TWG_IDP_URL": issuer,
        "TWG_CREDENTIAL_STORE": "file",
        "TWG_LOGIN_TIMEOUT": "60",
        "BROWSER": f"{ROBOT} %s",
    }

    def run(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TWG, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )

    run.config_dir = tmp_path / "twg"  # type: ignore[attr-defined]
    return run


def _status(twg) -> dict:
    done = twg("auth", "status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_browser_login_refresh_and_logout_against_oidc_provider(twg):
    login = twg("login")
    assert login.returncode == 0, login.stderr
    status = _status(twg)
    assert status["account"]["id"] == "alice@example.com"  # from its userinfo endpoint
    assert "offline_access" in status["scopes"]
    assert status["refresh_token_present"] is True

    for _ in range(2):  # its refresh tokens rotate: each refresh must use the newest one
        refreshed = twg("auth", "refresh", "--force")
        assert refreshed.returncode == 0, refreshed.stderr

    old_refresh = stored.tokens(twg.config_dir)["refresh_token"]
    logout = twg("logout")
    assert logout.returncode == 0, logout.stderr
    assert "server revoked" in logout.stderr
    assert not (twg.config_dir / "credentials").exists()
    assert old_refresh not in logout.stdout + logout.stderr


def test_device_login_against_oidc_provider(twg, issuer):
    approved: list[int] = []

    def approve_when_asked(stderr) -> None:
        for line in stderr:
            if "user_code=" in line:
                url = line[line.index("http") :].strip()
                robot = subprocess.run(
                    [*ROBOT.split(), url], capture_output=True, text=True, timeout=60, check=False
                )
                approved.append(robot.returncode)

    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ["HOME"],
        "TWG_CONFIG_DIR": str(twg.config_dir),
        "TWG_IDP_URL": issuer,
        "TWG_CREDENTIAL_STORE": "file",
    }
    with subprocess.Popen(
        [TWG, "login", "--device"],
        env=env,
        text=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as proc:
        watcher = threading.Thread(target=approve_when_asked, args=(proc.stderr,), daemon=True)
        watcher.start()
        assert proc.wait(timeout=90) == 0
        watcher.join(10)
    assert approved == [0]
    assert _status(twg)["account"]["id"] == "alice@example.com"


def test_a_revoked_refresh_token_is_a_clear_auth_error(twg, issuer):
    assert twg("login").returncode == 0
    creds = stored.tokens(twg.config_dir)
    revoked = httpx.post(
        issuer + "/token/revocation",
        data={"token": creds["refresh_token"], "client_id": "twg-cli"},
    )
    assert revoked.status_code == 200
    refresh = twg("auth", "refresh", "--force")
    assert refresh.returncode == 77
    assert "twg login" in refresh.stderr
