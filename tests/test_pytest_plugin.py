"""The pytest plugin as another project uses it: the example in docs/pytest-plugin.md runs,
in a directory of its own with no conftest, through the installed entry point."""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "pytest-plugin.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    [entry] = [
        e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "twg_mock_idp"
    ]
    assert entry.value == "mock_idp.pytest_plugin"


def test_the_documented_example_passes_in_a_project_of_its_own(tmp_path: Path):
    example, override, container = python_blocks()
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
    assert "4 passed" in done.stdout
    assert "mock_idp_container" in container
