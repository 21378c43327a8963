"""The scenario catalogue in Compose: `docker compose run --rm scenarios` runs every
scenario with the real CLI inside the network against mock-idp, and the suite fails on
any failed scenario. The catalogue is the one source of truth for what must work."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.e2e.harness import REPO_ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

CATALOGUE = REPO_ROOT / "scenarios"
# Scenarios that need the runner's own in-process mock (they restart it): skipped in
# Compose with the reason, run by tests/scenarios/test_catalogue.py.
# Restarting needs the runner's own mock; a read-only config dir needs chattr +i as root,
# which a container without CAP_LINUX_IMMUTABLE refuses (tests/e2e/test_upkeep_compose.py
# runs that agent on a real read-only volume instead).
IN_PROCESS_ONLY = {"idp-restart-sqlite", "upkeep-keeps-agent-fresh"}


def test_the_whole_catalogue_passes_in_compose_with_reports_on_the_host(
    stack: Stack, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    env = {**stack.env, "TWG_REPORTS_DIR": str(reports)}
    done = subprocess.run(
        [
            *stack.compose.compose_command_property,
            "--profile",
            "scenarios",
            "run",
            "--rm",
            "-T",
            "scenarios",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=540,
        check=False,
    )

    output = f"{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, output
    names = sorted(p.stem for p in CATALOGUE.glob("*.yaml"))
    passed = len(names) - len(IN_PROCESS_ONLY)
    assert f"{passed} passed, 0 failed, {len(IN_PROCESS_ONLY)} skipped" in done.stdout, output
    assert "against the mock at http://mock-idp:8080" in done.stdout
    suite = ET.fromstring((reports / "junit.xml").read_text(encoding="utf-8"))  # noqa: S314
    assert sorted(case.get("name") or "" for case in suite.iter("testcase")) == names
    assert suite.get("failures") == "0"
    for name in ("report.md", "junit.xml", "report.json"):
        path = reports / name
        assert path.stat().st_mode & 0o777 == 0o644, name
        # The files belong to whoever owns the catalogue, not to the container's root.
        assert path.stat().st_uid == CATALOGUE.stat().st_uid, name
