"""The upkeep sidecar and a sandboxed agent in Compose: upkeep refreshes through the
read-write config volume; the agent, with the same volume read-only, keeps working and
never refreshes (it could not save the result)."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest

from mock_idp.control_client import MockIdPClient
from tests.e2e.harness import REPO_ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

HOUR = 3600
TOKEN_EVENTS = ("token.", "refresh.")


def _compose(stack: Stack, *args: str, timeout: float = 180.0) -> subprocess.CompletedProcess[str]:
    cmd = [*stack.compose.compose_command_property, "--profile", "upkeep", *args]
    return subprocess.run(
        cmd,
        cwd=REPO_ROOT,
        env={**stack.env, "TWG_UPKEEP_EVERY": "2"},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


def _token_events(mock: MockIdPClient, since: int) -> list[dict[str, Any]]:
    return [e for e in mock.audit(since=since) if e["event"].startswith(TOKEN_EVENTS)]


def _wait_for_rotation(mock: MockIdPClient, since: int, upkeep_logs: Any) -> None:
    # Waiting for another process to act (not a timing assertion): poll the audit log.
    for _ in range(120):
        if [e for e in _token_events(mock, since) if e["event"] == "token.rotated"]:
            return
        time.sleep(0.5)
    pytest.fail(f"upkeep never refreshed; its log:\n{upkeep_logs()}")


def test_upkeep_sidecar_keeps_a_read_only_agent_working(stack: Stack, mock: MockIdPClient) -> None:
    login = stack.compose_run("twg", "login", "--force")
    assert login.returncode == 0, login.stdout + login.stderr
    mock.clock.advance(8 * HOUR + 5 * 60)  # past the refresh threshold, and past expiry
    before = mock.last_audit_id()

    try:
        stale = _compose(stack, "run", "--rm", "-T", "agent")
        # Without upkeep the sandboxed agent is stuck, and says what to do; it sent nothing.
        assert stale.returncode == 74, stale.stdout + stale.stderr
        assert "Nothing was sent; your refresh token is unspent" in stale.stderr
        assert "Claude Code" in stale.stderr
        assert "Upkeep is off" in stale.stderr
        assert _token_events(mock, before) == []

        started = _compose(stack, "up", "-d", "upkeep")
        assert started.returncode == 0, started.stderr
        _wait_for_rotation(mock, before, lambda: _compose(stack, "logs", "upkeep").stdout[-3000:])
        refreshed = mock.last_audit_id()

        for _ in range(2):
            agent = _compose(stack, "run", "--rm", "-T", "agent")
            assert agent.returncode == 0, agent.stdout + agent.stderr
            assert json.loads(agent.stdout)["email"] == "alice@example.com"
        # Only upkeep refreshed: one rotation, and none from the agent's calls.
        rotations = [e for e in _token_events(mock, before) if e["event"] == "token.rotated"]
        assert len(rotations) == 1
        assert _token_events(mock, refreshed) == []

        status = stack.compose_run("twg", "upkeep", "status", "--json")
        assert status.returncode == 0, status.stderr
        doc = json.loads(status.stdout)
        assert doc["backend"] == "loop"
        assert doc["result"] == "fresh"  # the passes after the refresh had nothing to do
    finally:
        _compose(stack, "rm", "--stop", "--force", "upkeep", timeout=120)
        # The use-marker volume belongs to this profile only: remove it here.
        project = stack.env.get("COMPOSE_PROJECT_NAME", "twg")
        subprocess.run(
            ["docker", "volume", "rm", "-f", f"{project}_twg-use"],
            capture_output=True,
            timeout=60,
            check=False,
        )
