"""Upkeep against the real mock IdP over a loopback socket, its clock moved over HTTP.

Simulated time: the mock's clock is frozen, and every step moves it through
``POST /_mock/clock/advance`` and moves the CLI's local clock by the same amount, as
real time moves both. The foreground loop's wait is that step, so 40 days of
12-minute passes take seconds and no real sleep.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_idp.pytest_plugin import CliResult, MockIdPClient, TwgCli
from tests.cli import stored
from tests.cli.read_only import make_read_only, make_writable
from tests.mock_idp.oauth_flow import refresh
from twg.lazy_tls import trust_store
from twg.upkeep.loop import StopLoop
from twg.upkeep.runner import CommandResult

MINUTE = 60
HOUR = 3600
DAY = 86400
TICK = 12 * MINUTE
TOKEN_EVENTS = ("token.", "refresh.")


class SimTime:
    """The simulated now, shared by the mock (moved over HTTP) and the CLI's local clock.

    Moves are sent to the mock's control API before anything next talks to the mock
    (the CLI's requests go through ``SyncingTransport``): the mock's clock is right
    whenever it is looked at, and 4,800 quiet 12-minute steps need no 4,800 requests.
    """

    def __init__(self, mock: MockIdPClient) -> None:
        self.mock = mock
        self.pending = 0.0
        self.now = mock.clock.freeze()

    def advance(self, seconds: float) -> None:
        self.pending += seconds
        self.now += seconds

    def sync(self) -> None:
        if self.pending:
            self.mock.clock.advance(self.pending)
            self.pending = 0.0

    def audit(self, since: int = 0) -> list[dict[str, Any]]:
        self.sync()
        return [e for e in self.mock.audit(since=since) if e["event"] != "clock.changed"]

    def mark(self) -> int:
        self.sync()
        return self.mock.last_audit_id()

    def token_requests(self, since: int) -> list[dict[str, Any]]:
        return [e for e in self.audit(since) if e["event"].startswith(TOKEN_EVENTS)]


class SyncingTransport(httpx.BaseTransport):
    """The CLI's real HTTP transport, after bringing the mock's clock up to date."""

    def __init__(self, sim: SimTime) -> None:
        self.sim = sim
        self.inner = httpx.HTTPTransport(verify=trust_store())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sim.sync()
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class RecordingRunner:
    """Scheduler commands are recorded, never run; ``answers`` maps a program to a result."""

    def __init__(self, answers: dict[str, CommandResult] | None = None) -> None:
        self.commands: list[list[str]] = []
        self.answers = answers or {}

    def run(self, argv: Any) -> CommandResult:
        self.commands.append(list(argv))
        return self.answers.get(argv[0], CommandResult(0))


NO_BUS = CommandResult(1, stderr="Failed to connect to bus: No medium found\n")


@pytest.fixture
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Weeks of simulated passes write upkeep.json thousands of times; each atomic write's
    two fsyncs were half these tests' wall time on a busy disk and only matter after a
    power cut, which no test simulates. The temp file and the rename stay as they are."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.fixture
def sim(mock_idp: MockIdPClient) -> SimTime:
    return SimTime(mock_idp)


@pytest.fixture
def runner() -> RecordingRunner:
    return RecordingRunner()


class SimTwg:
    """The plugin's ``twg`` on simulated time: each run gets the simulation's local clock
    and clock-syncing transport, is told it runs on Linux, and has its scheduler commands
    recorded by ``runner`` instead of run. ``env`` overrides variables, as in ``twg.run``."""

    def __init__(self, cli: TwgCli, sim: SimTime, runner: RecordingRunner) -> None:
        self.cli = cli
        self.sim = sim
        self.runner = runner

    @property
    def env(self) -> dict[str, str]:
        return self.cli.env

    @property
    def home(self) -> Path:
        return self.cli.home

    @property
    def config_dir(self) -> Path:
        return self.cli.config_dir

    def __call__(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        sleep: Callable[[float], None] | None = None,
        tty: bool = False,
        hidden: list[str] | None = None,
    ) -> CliResult:
        # Without a sleep of the test's, the plugin records waits in twg.sleeps.
        waits = {} if sleep is None else {"sleep": sleep}
        return self.cli.run(
            *args,
            env=env,
            tty=tty,
            hidden=hidden,
            local_now=lambda: self.sim.now,
            transport=SyncingTransport(self.sim),
            command_runner=self.runner,
            platform="linux",
            **waits,
        )


@pytest.fixture
def twg(twg: TwgCli, sim: SimTime, runner: RecordingRunner) -> SimTwg:
    """Overrides the plugin's ``twg`` in these modules (and uses it): upkeep as systemd
    would run it, temp files in the test's home."""
    twg.env["TWG_UPKEEP_BACKEND"] = "systemd"
    twg.env["TMPDIR"] = str(twg.home / "tmp")
    return SimTwg(twg, sim, runner)


def stored_refresh_token(config_dir: Path) -> str:
    return stored.tokens(config_dir)["refresh_token"]


def upkeep_loop(
    twg: SimTwg, sim: SimTime, days: float, each_tick: Callable[[int], None]
) -> CliResult:
    """`twg upkeep run --every 720` for ``days`` simulated days; ``each_tick(n)`` runs after
    the n-th wait (the user's own commands go there)."""
    ticks = int(days * DAY // TICK)
    count = 0

    def wait(seconds: float) -> None:
        nonlocal count
        if count == ticks:
            raise StopLoop
        sim.advance(seconds)
        count += 1
        each_tick(count)

    result = twg("upkeep", "run", "--every", str(TICK), sleep=wait)
    assert result.code == 0, result.err
    assert count == ticks
    return result


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.usefixtures("no_fsync")
def test_upkeep_every_12_minutes_keeps_an_active_users_session_for_40_days(twg, sim, config_dir):
    assert twg("login").code == 0
    foreground_token_requests: list[dict[str, Any]] = []
    days_used = 0

    def user_works_once_a_day(tick: int) -> None:
        nonlocal days_used
        if tick % (DAY // TICK) != 50:  # once a day, at a different hour than login
            return
        mark = sim.mark()
        me = twg("api", "/me")
        assert me.code == 0, me.err
        assert json.loads(me.out)["email"] == "alice@example.com"
        foreground_token_requests.extend(sim.token_requests(mark))
        days_used += 1

    mark = sim.mark()
    upkeep_loop(twg, sim, 40, user_works_once_a_day)

    assert days_used == 40
    assert foreground_token_requests == []
    # Every refresh was upkeep's: a pass refreshes at the first 12-minute tick after
    # 6 h - 15 min = 345 min (75 % of the 8 h token, minus the lead), i.e. at 348 min,
    # and 40 days hold 57600 // 348 = 165 of those.
    rotations = [e for e in sim.audit(mark) if e["event"] == "token.rotated"]
    assert len(rotations) == 165
    me = twg("api", "/me")
    assert me.code == 0, me.err
    state = json.loads((config_dir / "upkeep.json").read_text())
    assert state["backend"] == "loop"
    assert state["result"] in ("fresh", "refreshed")


def test_without_upkeep_the_session_dies_after_30_idle_days(twg, sim):
    assert twg("login").code == 0
    sim.advance(30 * DAY + MINUTE)

    result = twg("api", "/me", "--json")

    assert result.code == 77
    error = result.json()["error"]
    assert error["code"] == "AUTH_INVALID"
    assert "Your session expired after 30 days of inactivity" in error["message"]


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.usefixtures("no_fsync")
def test_with_upkeep_on_but_no_use_for_31_days_the_session_dies_too(twg, sim, config_dir):
    assert twg("login").code == 0
    login_at = sim.now
    last_refresh_token: list[str] = []

    def remember_the_token(tick: int) -> None:
        if (config_dir / "credentials").exists():
            token = stored_refresh_token(config_dir)
            if not last_refresh_token or last_refresh_token[-1] != token:
                last_refresh_token.append(token)

    upkeep_loop(twg, sim, 31, remember_the_token)

    # Upkeep refreshed while the login was recent, then ended the session at 30 days.
    events = sim.audit()
    rotations = [e for e in events if e["event"] == "token.rotated"]
    assert rotations, "upkeep never refreshed"
    assert max(e["at"] for e in rotations) < login_at + 30 * DAY
    revoked = [e for e in events if e["event"] == "token.revoked"]
    # The pass at exactly 30 days (tick 3,600) revoked the refresh and access tokens.
    assert [e["at"] for e in revoked] == [pytest.approx(login_at + 30 * DAY, abs=1)] * 2
    state = json.loads((config_dir / "upkeep.json").read_text())
    assert state["result"] == "no_session"
    assert "30 days of inactivity" in state["detail"]

    result = twg("api", "/me", "--json")

    assert result.code == 77
    assert "Your session expired after 30 days of inactivity" in result.json()["error"]["message"]
    # And at the server too: the last refresh token upkeep held is dead.
    sim.sync()
    answer = refresh(sim.mock.http, last_refresh_token[-1])
    assert answer.json()["error"] == "invalid_grant"


def test_a_read_only_config_dir_uses_the_valid_token_and_never_spends_the_refresh_token(
    twg, sim, config_dir
):
    assert twg("login").code == 0
    refresh_token = stored_refresh_token(config_dir)
    sim.advance(6 * HOUR + 30 * MINUTE)  # past the 75 % threshold, still valid
    mark = sim.mark()
    make_read_only(config_dir)
    try:
        valid = twg("api", "/me", env={"CLAUDECODE": "1"})
        sim.advance(2 * HOUR)  # now expired
        stale = twg("api", "/me", env={"CLAUDECODE": "1"})
        status = twg("upkeep", "status", "--json")
    finally:
        make_writable(config_dir)

    assert valid.code == 0, valid.err
    assert json.loads(valid.out)["email"] == "alice@example.com"
    assert stale.code == 74
    assert "Nothing was sent; your refresh token is unspent" in stale.err
    assert "Claude Code" in stale.err
    assert "Run `twg auth refresh` from a normal terminal" in stale.err
    assert "Upkeep is off: run `twg setup` (or `twg upkeep enable`)" in stale.err
    assert sim.token_requests(mark) == []
    assert stored_refresh_token(config_dir) == refresh_token
    # The sandbox could not write the config dir, but its use was recorded.
    assert status.json()["inactivity"]["last_use_recorded_in"] == str(
        Path(twg.env["XDG_STATE_HOME"]) / "twg" / "last-use"
    )
    # Outside the sandbox the unspent refresh token works.
    refreshed = twg("auth", "refresh")
    assert refreshed.code == 0, refreshed.err
    assert [e["event"] for e in sim.token_requests(mark)] == ["token.rotated"]


def test_a_sandbox_with_upkeep_on_is_told_upkeep_should_refresh(twg, sim, config_dir, runner):
    assert twg("login").code == 0
    assert twg("upkeep", "enable").code == 0
    sim.advance(8 * HOUR + MINUTE)
    make_read_only(config_dir)
    try:
        stale = twg("api", "/me", env={"CODEX_SANDBOX": "seatbelt"})
    finally:
        make_writable(config_dir)

    assert stale.code == 74
    assert "Codex CLI" in stale.err
    assert "Upkeep is on (systemd" in stale.err
    assert "`twg upkeep status`" in stale.err


def test_after_logout_upkeep_run_exits_0_and_does_no_auth_work(twg, sim, config_dir, runner):
    assert twg("login").code == 0
    assert twg("upkeep", "enable").code == 0
    assert twg("logout").code == 0
    sim.advance(6 * HOUR)
    mark = sim.mark()

    result = twg("upkeep", "run")

    assert result.code == 0, result.err
    assert "not_logged_in" in result.err
    assert sim.audit(mark) == []  # not a single request reached the mock
    state = json.loads((config_dir / "upkeep.json").read_text())
    assert state["enabled"] is True
    assert state["result"] == "not_logged_in"


def test_upkeep_run_refreshes_only_when_the_threshold_is_within_15_minutes(twg, sim, config_dir):
    assert twg("login").code == 0
    mark = sim.mark()
    sim.advance(5 * HOUR + 44 * MINUTE)  # the threshold (6 h) is 16 minutes away

    early = twg("upkeep", "run")

    assert early.code == 0, early.err
    assert "fresh" in early.err
    assert sim.token_requests(mark) == []
    sim.advance(2 * MINUTE)  # 14 minutes away

    due = twg("upkeep", "run")

    assert due.code == 0, due.err
    assert [e["event"] for e in sim.token_requests(mark)] == ["token.rotated"]
    state = json.loads((config_dir / "upkeep.json").read_text())
    assert state["result"] == "refreshed"
    text = (config_dir / "upkeep.json").read_text()
    assert stored_refresh_token(config_dir) not in text
    assert "access_token" not in text
