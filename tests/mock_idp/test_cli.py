"""``twg-mock-idp serve``: a real process on a loopback port, settings from a file, and
SQLite state that keeps sessions across a restart."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from mock_idp.cli import main
from tests.mock_idp.oauth_flow import browser_login, refresh

SCRIPT = str(Path(sys.executable).with_name("twg-mock-idp"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(*args: str) -> Iterator[tuple[str, str]]:
    """Run ``twg-mock-idp serve`` until the block ends; yields (base URL, first line)."""
    port = free_port()
    proc = subprocess.Popen(
        [SCRIPT, "serve", "--port", str(port), "--log-level", "warning", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/.well-known/oauth-authorization-server", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"serve did not start: {proc.stderr.read() if proc.stderr else ''}")
                time.sleep(0.05)
        yield url, line
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


def test_serve_prints_the_url_and_answers_on_loopback() -> None:
    with serving() as (url, line):
        assert url in line
        answer = httpx.get(url + "/.well-known/oauth-authorization-server")
        assert answer.json()["issuer"] == url
        assert "date" in answer.headers
        assert "server" not in answer.headers


def test_serve_reads_settings_from_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text("access_token_ttl = 60\ninvalid_grant_status = 403\n")
    with serving("--config", str(config)) as (url, _), httpx.Client(base_url=url) as client:
        tokens = browser_login(client)
        assert tokens["expires_in"] == 60
        assert refresh(client, "nope").status_code == 403


def test_sqlite_state_keeps_sessions_across_a_restart(tmp_path: Path) -> None:
    state = f"sqlite:{tmp_path / 'mock.db'}"
    with serving("--state", state) as (url, _), httpx.Client(base_url=url) as client:
        tokens = browser_login(client)
    with serving("--state", state) as (url, _), httpx.Client(base_url=url) as client:
        answer = refresh(client, tokens["refresh_token"])
        assert answer.status_code == 200, answer.text
        # Rotation and reuse detection survive too.
        assert refresh(client, tokens["refresh_token"]).status_code == 400


def test_memory_state_forgets_sessions_on_restart() -> None:
    with serving() as (url, _), httpx.Client(base_url=url) as client:
        tokens = browser_login(client)
    with serving() as (url, _), httpx.Client(base_url=url) as client:
        assert refresh(client, tokens["refresh_token"]).status_code == 400


def test_a_bad_config_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    config = tmp_path / "mock.toml"
    config.write_text("no_such_setting = 1\n")
    assert main(["serve", "--config", str(config)]) == 2
    assert "unknown setting(s): no_such_setting" in capsys.readouterr().err


def test_a_missing_config_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["serve", "--config", str(tmp_path / "absent.toml")]) == 2
    assert "cannot read config file" in capsys.readouterr().err


def test_a_bad_state_spec_is_a_clear_error(capsys) -> None:
    assert main(["serve", "--state", "redis:x"]) == 2
    assert "unknown state store" in capsys.readouterr().err


def test_unknown_subcommand_exits_with_usage(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["fly"])
    assert exited.value.code == 2
    assert "usage: twg-mock-idp" in capsys.readouterr().err


def test_help_lists_serve_and_browser() -> None:
    done = subprocess.run([SCRIPT, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "serve" in done.stdout
    assert "browser" in done.stdout
