"""Fixtures shared by every test: isolation from the developer's machine, the mock IdP
(from the project's own pytest plugin, mock_idp/pytest_plugin.py: one way to start a
mock), and no silent skips under CI."""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest

from mock_idp.idp import MockIdP
from mock_idp.pytest_plugin import MockIdPClient, running_in_ci
from mock_idp.settings import Settings

# Read once at import: the autouse isolated_env fixture removes CI from each test's env.
IN_CI = running_in_ci()


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, absent with -p no:xdist
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than there are cores. About a third of the suite's
    time is spent waiting (on twg and mock processes, sockets, the keyring daemon); the
    extra worker runs tests meanwhile (2 cores: 45 s instead of 52 s)."""
    return (os.cpu_count() or 1) + 1


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "allowed_skip_in_ci(reason): this test may skip under CI (a platform it cannot run on)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under CI every skip is a failure, unless the test is marked allowed_skip_in_ci:
    CI must never pass by not running something."""
    report = yield
    if (
        IN_CI
        and report.skipped
        and not hasattr(report, "wasxfail")
        and item.get_closest_marker("allowed_skip_in_ci") is None
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI (CI={os.environ.get('CI', '')!r}): {reason}"
    return report


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real home, config, keyring, or TWG_* settings."""
    for name in list(os.environ):
        if name.startswith(("TWG_", "PYTHON_KEYRING")) or name in {"BROWSER", "CI"}:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("TWG_CONFIG_DIR", str(home / ".config" / "twg"))
    return home


# The plugin's fixtures under the names the project's tests use: parametrizing
# ``idp_settings`` starts the plugin's mock with those settings.


@pytest.fixture
def idp_settings() -> Settings:
    return Settings()


@pytest.fixture
def mock_idp_settings(idp_settings: Settings) -> Settings:
    return idp_settings


@pytest.fixture
def idp_app(mock_idp_app):  # type: ignore[no-untyped-def]
    return mock_idp_app


@pytest.fixture
def idp(idp_app) -> MockIdP:  # type: ignore[no-untyped-def]
    return idp_app.state.idp  # type: ignore[no-any-return]


@pytest.fixture
def mock_server(mock_idp: MockIdPClient) -> MockIdPClient:
    """The mock IdP over a real loopback socket (the plugin's ``mock_idp``)."""
    return mock_idp
