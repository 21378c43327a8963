"""Under CI nothing may pass by not running: every skip fails the run, except a test marked
``allowed_skip_in_ci`` (a platform it cannot run on). Checked by running pytest on a small
suite with this project's conftest."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mock_idp.pytest_plugin import running_in_ci

SUITE = """
import sys
import pytest

def test_skips_at_run_time():
    pytest.skip("no widget here")

@pytest.mark.skipif(True, reason="decided at collection")
def test_skipped_by_a_marker():
    pass

@pytest.mark.allowed_skip_in_ci("only on Windows")
@pytest.mark.skipif(sys.platform != "win32", reason="Windows only")
def test_windows_only():
    pass

@pytest.mark.xfail(strict=True, reason="a known bug")
def test_known_bug():
    assert False
"""


def run_suite(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_suite.py").write_text(SUITE)
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "PYTEST_ADDOPTS"}}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("ci", ["1"])
def test_under_ci_every_skip_fails_except_allowed_platform_skips(tmp_path: Path, ci: str) -> None:
    done = run_suite(tmp_path, ci)
    assert done.returncode == 1, done.stdout
    # A run-time skip becomes a failure; a marker's skip happens at set-up, so it becomes
    # an error. Either fails the run.
    assert "1 failed, 1 skipped, 1 xfailed, 1 error" in done.stdout
    assert "skipped under CI" in done.stdout
    assert "no widget here" in done.stdout
    assert "decided at collection" in done.stdout


@pytest.mark.parametrize("ci", ["false"])
def test_outside_ci_skips_are_skips(tmp_path: Path, ci: str | None) -> None:
    done = run_suite(tmp_path, ci)
    assert done.returncode == 0, done.stdout
    assert "3 skipped, 1 xfailed" in done.stdout


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("", False), ("0", False), ("false", False), ("No", False), ("off", False)],
        *[("1", True), ("true", True), ("True", True), ("yes", True), ("gitlab", True)],
    ],
)
def test_running_in_ci_reads_the_ci_variable(value: str, expected: bool) -> None:
    assert running_in_ci({"CI": value}) is expected
    assert running_in_ci({}) is False
