"""End to end against the real mock IdP over a loopback socket, with its robot browser."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from mock_idp.seed import ACME_ORG_ID
from tests.cli.conftest import Result
from tests.cli.stored import tokens as stored_tokens
from tests.cli.test_refresh import _make_readonly, _make_writable
from twg.iostreams import IOStreams
from twg.main import main

BIN = Path(sys.executable).parent
TWG = str(BIN / "twg")
ROBOT = str(BIN / "twg-mock-idp")
DAY = 86400


def robot_browser(user: str = "alice@example.com") -> str:
    return f"{ROBOT} browser --user {user} %s"


@pytest.fixture
def mock_env(mock_server, config_dir, monkeypatch) -> dict[str, str]:
    env = {
        "HOME": os.environ["HOME"],
        "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
        "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"],
        "TWG_CONFIG_DIR": str(config_dir),
        "TWG_IDP_URL": mock_server.url,
        "TWG_API_URL": mock_server.url,
        "TWG_BITBUCKET_URL": mock_server.url,
        "TWG_CREDENTIAL_STORE": "file",
        "TWG_LOGIN_TIMEOUT": "30",
        "BROWSER": robot_browser(),
    }
    # webbrowser reads BROWSER from the process environment.
    monkeypatch.setenv("BROWSER", env["BROWSER"])
    return env


class WatchingStderr(io.StringIO):
    """stderr that calls ``on_line`` for each line written (to drive the device page)."""

    def __init__(self, on_line) -> None:
        super().__init__()
        self.on_line = on_line

    def write(self, text: str) -> int:
        for line in text.splitlines():
            self.on_line(line)
        return super().write(text)


@pytest.fixture
def twg_mock(mock_env, monkeypatch):
    def run(*args: str, env=None, streams: IOStreams | None = None, **kw) -> Result:
        environ = {**mock_env, **(env or {})}
        monkeypatch.setenv("BROWSER", environ["BROWSER"])
        # webbrowser reads BROWSER once per process and caches it: make it read again.
        import webbrowser

        monkeypatch.setattr(webbrowser, "_tryorder", None)
        monkeypatch.setattr(webbrowser, "_browsers", {})
        streams = streams or IOStreams.for_test(tty=False)
        code = main(list(args), io=streams, environ=environ, **kw)
        return Result(code, streams.stdout.getvalue(), streams.stderr.getvalue(), [])

    return run


def rotations(idp) -> int:
    return len(idp.audit.events(event_prefix="token.rotated"))


def refresh_attempts(idp) -> list:
    return [e for e in idp.audit.events() if "refresh" in e.event or e.event == "token.rotated"]


def stored(config_dir: Path) -> dict[str, str]:
    return stored_tokens(config_dir)


def test_login_with_the_robot_browser_then_status_and_api(twg_mock, idp, config_dir):
    result = twg_mock("login")

    assert result.code == 0, result.err
    assert "Logged in as Alice" in result.err
    assert f"Credentials saved to {config_dir}/auth.conf" in result.err
    status = twg_mock("auth", "status", "--json").json()
    assert status["account"]["email"] == "alice@example.com"
    assert status["site"]["name"] == "acme"
    me = twg_mock("api", "/me")
    assert me.code == 0, me.err
    assert json.loads(me.out)["email"] == "alice@example.com"
    assert len(idp.audit.events(event_prefix="token.issued")) == 1


def test_tampered_state_is_refused_by_the_cli(twg_mock, idp, tmp_path):
    script = tmp_path / "tamper.py"
    script.write_text(
        "import re, subprocess, sys\n"
        "url = re.sub(r'state=[^&]+', 'state=tampered', sys.argv[1])\n"
        f"sys.exit(subprocess.call([{ROBOT!r}, 'browser', '--user', 'alice@example.com', url]))\n"
    )
    result = twg_mock(
        "login", env={"BROWSER": f"{sys.executable} {script} %s", "TWG_LOGIN_TIMEOUT": "1"}
    )

    # The listener refused the tampered callback (400) and went on waiting for the
    # real one; no code was exchanged.
    assert result.code == 1
    assert "Login timed out" in result.err
    assert idp.audit.events(event_prefix="token.issued") == []


def test_wrong_iss_is_refused_by_the_cli(twg_mock, idp, tmp_path):
    script = tmp_path / "mixup.py"
    script.write_text(
        "import sys, httpx\n"
        "from urllib.parse import parse_qs, urlsplit, urlencode\n"
        "q = {k: v[0] for k, v in parse_qs(urlsplit(sys.argv[1]).query).items()}\n"
        "p = {'code': 'x', 'state': q['state'], 'iss': 'https://other-issuer.example'}\n"
        "httpx.get(q['redirect_uri'] + '?' + urlencode(p))\n"
    )
    result = twg_mock("login", env={"BROWSER": f"{sys.executable} {script} %s"})

    assert result.code == 1
    assert "other-issuer.example" in result.err
    assert idp.audit.events(event_prefix="token.issued") == []


def test_device_login_through_the_mock_device_page(twg_mock, idp):
    threads: list[threading.Thread] = []

    def on_line(line: str) -> None:
        prefix = "Or open this URL, which carries the code: "
        if line.startswith(prefix) and not threads:
            url = line.removeprefix(prefix).strip()
            cmd = [ROBOT, "browser", "--user", "alice@example.com", url]
            thread = threading.Thread(target=subprocess.run, args=(cmd,), kwargs={"timeout": 60})
            threads.append(thread)
            thread.start()

    streams = IOStreams.for_test()
    streams.stderr = WatchingStderr(on_line)
    result = twg_mock("login", "--device", "--no-browser", streams=streams)
    for thread in threads:
        thread.join()

    assert result.code == 0, result.err
    assert "enter the code" in result.err
    assert "Logged in as Alice" in result.err


def test_already_logged_in_and_force(twg_mock, idp):
    assert twg_mock("login").code == 0
    again = twg_mock("login")
    assert "Already logged in" in again.err
    assert len(idp.audit.events(event_prefix="token.issued")) == 1
    forced = twg_mock("login", "--force")
    assert forced.code == 0, forced.err
    assert len(idp.audit.events(event_prefix="token.issued")) == 2


def test_expired_access_token_is_refreshed_after_nine_hours(twg_mock, idp):
    assert twg_mock("login").code == 0
    idp.clock.advance(9 * 3600)
    result = twg_mock("api", "/me")

    assert result.code == 0, result.err
    assert rotations(idp) == 1


def test_thirty_one_days_idle_says_inactivity(twg_mock, idp):
    assert twg_mock("login").code == 0
    idp.clock.advance(31 * DAY)
    result = twg_mock("api", "/me", "--json")

    assert result.code == 77
    assert result.json()["error"]["code"] == "AUTH_INVALID"
    assert "30 days of inactivity" in result.json()["error"]["message"]


def test_admin_revocation_says_organization_admin(twg_mock, idp):
    assert twg_mock("login").code == 0
    idp.sessions.revoke_sessions(org_id=ACME_ORG_ID, reason="org_admin")
    result = twg_mock("api", "/me")

    assert result.code == 77
    assert "revoked by an organization admin" in result.err
    assert "twg login" in result.err


def test_reuse_elsewhere_is_reported(twg_mock, idp, mock_server, config_dir):
    assert twg_mock("login").code == 0
    copied = stored(config_dir)["refresh_token"]
    answer = httpx.post(
        f"{mock_server.url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": copied, "client_id": "twg-cli"},
    )
    assert answer.status_code == 200
    idp.clock.advance(9 * 3600)
    result = twg_mock("api", "/me")

    assert result.code == 77
    assert "used twice" in result.err


def test_logout_revokes_at_the_mock_and_removes_local_files(twg_mock, idp, mock_server, config_dir):
    assert twg_mock("login").code == 0
    old = stored(config_dir)["refresh_token"]
    result = twg_mock("logout")

    assert result.code == 0
    assert "server revoked your tokens" in result.err
    assert not (config_dir / "auth.conf").exists()
    assert not (config_dir / "credentials").exists()
    answer = httpx.post(
        f"{mock_server.url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": old, "client_id": "twg-cli"},
    )
    assert answer.json()["error"] == "invalid_grant"


def test_offline_logout_removes_locally(twg_mock, mock_server, config_dir):
    assert twg_mock("login").code == 0
    mock_server.stop()
    result = twg_mock("logout")

    assert result.code == 0
    assert "server could not be told" in result.err
    assert not (config_dir / "auth.conf").exists()
    assert not (config_dir / "credentials").exists()


def test_read_only_config_dir_sends_no_refresh(twg_mock, idp, config_dir):
    assert twg_mock("login").code == 0
    idp.clock.advance(9 * 3600)
    before = len(idp.audit.events())
    _make_readonly(config_dir)
    try:
        result = twg_mock("api", "/me", env={"CODEX_SANDBOX": "seatbelt"})
    finally:
        _make_writable(config_dir)

    assert result.code == 74  # EX_IOERR: the config dir cannot be written
    assert "Nothing was sent" in result.err
    assert "Codex CLI" in result.err
    new_events = idp.audit.events()[before:]
    assert not [e for e in new_events if e.event.startswith(("token.", "refresh."))]


def test_api_403_for_a_read_only_member(twg_mock, idp):
    assert twg_mock("login", env={"BROWSER": robot_browser("bob@example.com")}).code == 0
    status = twg_mock("auth", "status", "--json").json()
    cloud = status["site"]["id"]
    body = json.dumps({"fields": {"summary": "x", "project": {"key": "ACME"}}})
    result = twg_mock("api", "-X", "POST", f"/ex/jira/{cloud}/rest/api/3/issue", "--data", body)

    assert result.code == 1
    assert "your organization's CLI permissions do not allow this" in result.err
    assert "Traceback" not in result.err


def test_bitbucket_token_validated_live_against_the_mock(twg_mock, config_dir):
    streams = IOStreams.for_test(tty=True, hidden_answers=["mock-bitbucket-token-alice"])
    result = twg_mock("login", streams=streams)

    assert result.code == 0, result.err
    assert "Bitbucket token: saved" in result.err
    assert "mock-bitbucket-token-alice" not in result.err
    user = twg_mock("api", "--bitbucket", "/2.0/user")
    assert user.code == 0, user.err


@pytest.mark.slow
def test_32_concurrent_twg_processes_cause_exactly_one_rotation(twg_mock, idp, mock_env):
    env = {**os.environ, **mock_env, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
    env.pop("TWG_CREDENTIAL_STORE")
    login = subprocess.run([TWG, "login"], env=env, capture_output=True, text=True, timeout=60)
    assert login.returncode == 0, login.stderr
    assert "system keyring" in login.stderr
    idp.clock.advance(9 * 3600)

    def one(_: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TWG, "api", "/me"], env=env, capture_output=True, text=True, timeout=110
        )

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(one, range(32)))

    assert [(r.returncode, r.stderr) for r in results if r.returncode != 0] == []
    assert {json.loads(r.stdout)["email"] for r in results} == {"alice@example.com"}
    assert rotations(idp) == 1


def test_auth_refresh_judges_freshness_by_the_mock_clock(twg_mock, idp):
    assert twg_mock("login").code == 0
    fresh = twg_mock("auth", "refresh")
    assert "still fresh" in fresh.err
    assert rotations(idp) == 0
    idp.clock.advance(7 * 3600)  # past 75% of the 8 h lifetime, by the server's clock
    due = twg_mock("auth", "refresh", "--json")

    assert due.code == 0, due.err
    assert due.json()["refreshed"] is True
    assert rotations(idp) == 1


def test_server_time_learned_by_one_run_is_used_by_the_next(twg_mock, idp, config_dir):
    assert twg_mock("login").code == 0
    idp.clock.advance(7 * 3600)  # past 75%, but the access token is still valid
    assert twg_mock("api", "/me").code == 0
    assert rotations(idp) == 0  # it decided before seeing the server's clock

    status = twg_mock("auth", "status", "--json")  # no network at all
    assert "refresh due" in status.json()["access_token_state"]
    assert twg_mock("api", "/me").code == 0
    assert rotations(idp) == 1  # refreshed ahead of expiry, by the server's clock
    assert (config_dir / "server-time.json").stat().st_mode & 0o777 == 0o600


def test_invalid_grant_as_403_like_atlassian(twg_mock, idp):
    idp.settings.invalid_grant_status = 403
    assert twg_mock("login").code == 0
    idp.sessions.revoke_sessions(org_id=ACME_ORG_ID, reason="org_admin")
    result = twg_mock("auth", "refresh", "--force", "--json")

    assert result.code == 77
    assert result.json()["error"]["code"] == "AUTH_INVALID"
    assert "organization admin" in result.json()["error"]["message"]


def test_login_again_after_admin_revocation_is_not_already_logged_in(twg_mock, idp):
    assert twg_mock("login").code == 0
    idp.sessions.revoke_sessions(org_id=ACME_ORG_ID, reason="org_admin")
    result = twg_mock("login")

    assert result.code == 0, result.err
    assert "Already logged in" not in result.err
    assert len(idp.audit.events(event_prefix="token.issued")) == 2
    assert twg_mock("api", "/me").code == 0
