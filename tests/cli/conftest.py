"""CLI tests run ``twg`` against the real mock IdP: the plugin's ``mock_idp`` and ``twg``
fixtures (mock_idp/pytest_plugin.py), plus helpers for what these tests look at."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mock_idp.pytest_plugin import CliResult, MockIdPClient, TwgCli

DAY = 86400
HOUR = 3600


def count(mock: MockIdPClient, event: str) -> int:
    """How many audit events of exactly this name the mock recorded."""
    return sum(1 for e in mock.audit(event) if e["event"] == event)


def api_statuses(mock: MockIdPClient, path: str) -> list[int]:
    """The HTTP status of each API call the mock served on ``path``, in order."""
    return [e["details"]["status"] for e in mock.audit("api.call") if e["details"]["path"] == path]


@pytest.fixture
def config_dir(twg: TwgCli) -> Path:
    return twg.config_dir


@pytest.fixture
def logged_in(twg: TwgCli) -> CliResult:
    result = twg.run("login")
    assert result.code == 0, result.err
    return result


class DeviceWait:
    """Stands in for the CLI's sleep between device-code polls.

    Instead of waiting, each sleep moves the mock's clock forward by the same amount (so
    the mock sees polls at the pace the CLI chose) and the robot person acts at the
    chosen sleep: the device login runs in milliseconds with the CLI's real poller.
    """

    def __init__(self, mock: MockIdPClient, twg: TwgCli, monkeypatch: pytest.MonkeyPatch) -> None:
        from twg.auth import device
        from twg.commands import login

        self.mock = mock
        self.twg = twg
        self.slept: list[float] = []
        self.now = 0.0
        self.actions: dict[int, Callable[[Any], None]] = {}
        self.hold_clock: set[int] = set()
        real = device.poll_device_token

        def poller(client: Any, grant: Any, timeout: float, tick: Any = None) -> Any:
            # No countdown tick: it would split each wait into 1 s sleeps, and these
            # tests count the CLI's poll intervals (the tick's browser check has its own).
            return real(
                client, grant, timeout, sleep=lambda s: self._sleep(s, grant), monotonic=self._now
            )

        monkeypatch.setattr(login, "poll_device_token", poller)

    def _now(self) -> float:
        return self.now

    def _sleep(self, seconds: float, grant: Any) -> None:
        self.slept.append(seconds)
        self.now += seconds
        number = len(self.slept)
        if number not in self.hold_clock:
            self.mock.clock.advance(seconds)
        action = self.actions.get(number)
        if action is not None:
            action(grant)

    def approve_at(self, sleep_number: int, *, deny: bool = False) -> None:
        """The person opens the verification URL during that sleep."""
        from mock_idp.browser import Robot

        def approve(grant: Any) -> None:
            with Robot(user=self.twg.user, deny=deny) as robot:
                robot.run(grant.verification_uri_complete)

        self.actions[sleep_number] = approve


@pytest.fixture
def device(mock_idp: MockIdPClient, twg: TwgCli, monkeypatch: pytest.MonkeyPatch) -> DeviceWait:
    return DeviceWait(mock_idp, twg, monkeypatch)
