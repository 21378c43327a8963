"""The pytest plugin as another project uses it: the example in docs/pytest-plugin.md runs,
in a directory of its own with no conftest, through the installed entry point."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mock_idp.pytest_plugin import running_mock_idp
from mock_idp.settings import Settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "pytest-plugin.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    [entry] = [
        e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "twg_mock_idp"
    ]
    assert entry.value == "mock_idp.pytest_plugin"


def test_the_documented_example_passes_in_a_project_of_its_own(tmp_path: Path):
    second, example, override, container = python_blocks()
    (tmp_path / "test_second_issuer.py").write_text(second)
    (tmp_path / "test_report_job.py").write_text(example)
    (tmp_path / "test_settings_override.py").write_text(
        override
        + "\n\ndef test_the_override_applies(mock_idp):\n"
        + "    assert mock_idp.settings()['access_token_ttl'] == 300\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWG_", "PYTEST_"))}
    env.pop("CI", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout
    assert "mock_idp_container" in container


def test_running_mock_idp_starts_another_mock_with_its_own_clock_and_world(mock_idp):
    before = mock_idp.clock.freeze()
    with running_mock_idp() as other:
        assert other.url != mock_idp.url
        other.clock.freeze()
        assert other.clock.set(before) == before
        assert other.clock.advance(3600) == before + 3600
        assert mock_idp.clock.now() == before
        other.settings(access_token_ttl=60)
        assert other.settings()["access_token_ttl"] == 60
        assert mock_idp.settings()["access_token_ttl"] == Settings().access_token_ttl
        other.reset()  # a bare control POST: the client sends it as JSON
        assert other.settings()["access_token_ttl"] == Settings().access_token_ttl
        assert other.server is not None
        server = other.server
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/.well-known/oauth-authorization-server", timeout=5)


def test_twg_run_on_a_colour_terminal_colours_the_error(twg):
    coloured = twg.run("auth", "status", tty=True, color=True)
    plain = twg.run("auth", "status", tty=True)

    assert coloured.code == plain.code == 77
    assert coloured.err == plain.err.replace("error:", "\x1b[31merror:\x1b[0m", 1)
    assert plain.err.startswith("error: You are not logged in")


def test_twg_popen_hands_its_keyword_arguments_to_popen(twg):
    piped = twg.popen("--version")
    quiet = twg.popen("--version", stdout=subprocess.DEVNULL)

    out, _ = piped.communicate(timeout=60)
    nothing, _ = quiet.communicate(timeout=60)

    assert (piped.returncode, quiet.returncode) == (0, 0)
    assert out.startswith("twg ")  # piped as text unless told otherwise
    assert nothing is None
