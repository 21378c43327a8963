"""``twg-mock-idp serve`` as a real subprocess on a free loopback port."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.mock_idp.loopback import MOCK_IDP, ServeProcess
from tests.mock_idp.oauth_flow import Pkce, authorize, authorize_params, redeem, refresh


def login(base: str) -> dict[str, str]:
    with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as client:
        pkce = Pkce.new()
        code = authorize(client, authorize_params(pkce))["code"]
        response = redeem(client, code, pkce)
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def test_serve_prints_its_url_and_answers_metadata() -> None:
    with ServeProcess() as server:
        assert server.first_line.startswith(f"twg mock IdP serving on {server.url}")
        meta = httpx.get(server.url + "/.well-known/oauth-authorization-server").json()
        assert meta["issuer"] == server.url
        assert meta["token_endpoint"] == server.url + "/oauth/token"
        # uvicorn's own Server and Date headers are off; the mock sets Date itself.
        headers = httpx.get(server.url + "/.well-known/openid-configuration").headers
        assert "server" not in headers
        assert len(headers.get_list("date")) == 1


def test_serve_shuts_down_gracefully_on_sigterm() -> None:
    with ServeProcess("--log-level", "info") as server:
        assert server.proc is not None
        server.proc.terminate()
        _, err = server.proc.communicate(timeout=10)
        # uvicorn shuts down (and says so), then re-raises the signal it caught, so the
        # process ends by SIGTERM as the Unix convention wants.
        assert "Shutting down" in err
        assert "Finished server process" in err
        assert server.proc.returncode == -signal.SIGTERM
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.url + "/.well-known/oauth-authorization-server", timeout=2)


def test_sqlite_state_keeps_sessions_across_a_restart(tmp_path: Path) -> None:
    state = f"sqlite:{tmp_path / 'mock.sqlite'}"
    with ServeProcess("--state", state) as first:
        tokens = login(first.url)
    with ServeProcess("--state", state) as second, httpx.Client(base_url=second.url) as client:
        response = refresh(client, tokens["refresh_token"])
        assert response.status_code == 200, response.text
        # Rotation state survived too: inside the reuse leeway the first token gets the
        # same successor again, derived from what the first server stored.
        reuse = refresh(client, tokens["refresh_token"])
        assert reuse.json()["refresh_token"] == response.json()["refresh_token"]
    assert "state: sqlite:" in second.first_line


def test_memory_state_forgets_sessions_on_restart() -> None:
    with ServeProcess() as first:
        tokens = login(first.url)
    with ServeProcess() as second, httpx.Client(base_url=second.url, timeout=10) as client:
        response = refresh(client, tokens["refresh_token"])
        assert response.status_code == 403  # as Atlassian answers a dead refresh token
        assert response.json()["error"] == "invalid_grant"


def test_config_file_settings_are_applied(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text("access_token_ttl = 77\ninvalid_grant_status = 403\n", encoding="utf-8")
    with ServeProcess("--config", str(config)) as server:
        tokens = login(server.url)
        assert tokens["expires_in"] == 77
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert refresh(client, "unknown").status_code == 403


def test_help_lists_both_commands() -> None:
    result = subprocess.run([MOCK_IDP, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "serve" in result.stdout
    assert "browser" in result.stdout


def test_port_0_serves_on_a_free_port_and_prints_it() -> None:
    proc = subprocess.Popen(
        [MOCK_IDP, "serve", "--port", "0", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split()[5]
        assert not url.endswith(":0")
        for _ in range(100):
            try:
                meta = httpx.get(url + "/.well-known/oauth-authorization-server").json()
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert meta["issuer"] == url
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()  # type: ignore[union-attr]


def test_sqlite_state_keeps_codes_and_replay_protection_across_a_restart(tmp_path: Path) -> None:
    state = f"sqlite:{tmp_path / 'mock.sqlite'}"
    pkce = Pkce.new()
    with ServeProcess("--state", state) as first, httpx.Client(base_url=first.url) as client:
        code = authorize(client, authorize_params(pkce))["code"]
    with ServeProcess("--state", state) as second, httpx.Client(base_url=second.url) as client:
        assert redeem(client, code, pkce).status_code == 200
    with ServeProcess("--state", state) as third, httpx.Client(base_url=third.url) as client:
        replay = redeem(client, code, pkce)
        assert replay.status_code == 403  # the default invalid_grant status
        assert replay.json()["error"] == "invalid_grant"
