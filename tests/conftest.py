"""Fixtures shared by every test: isolation from the developer's machine, and the mock IdP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_idp.app import create_app
from mock_idp.idp import MockIdP
from mock_idp.server import BackgroundServer
from mock_idp.settings import Settings


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


@pytest.fixture
def idp_settings() -> Settings:
    return Settings()


@pytest.fixture
def idp_app(idp_settings: Settings):
    return create_app(idp_settings)


@pytest.fixture
def idp(idp_app) -> MockIdP:
    return idp_app.state.idp  # type: ignore[no-any-return]


@pytest.fixture
def mock_server(idp_app) -> Iterator[BackgroundServer]:
    """The mock IdP over a real loopback socket (uvicorn in a thread)."""
    with BackgroundServer(idp_app) as server:
        yield server
