"""The org-admin flow of issue 10 with the real CLI against the mock in Compose: alice
works, carol (`twg admin`, key from TWG_ADMIN_API_KEY) narrows permissions keeping then
revoking sessions, sets and clears an allowlist, suspends and restores bob."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mock_idp.control_client import MockIdPClient
from mock_idp.seed import ACME_ADMIN_KEY, ACME_ORG_ID, ACME_SITE_ID
from tests.e2e.harness import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

JIRA = f"/ex/jira/{ACME_SITE_ID}/rest/api/3"
WRITE = ("api", "-X", "POST", f"{JIRA}/issue", "--data", '{"fields": {"summary": "e2e"}}')


def person(cli: Cli, tmp_path: Path, name: str, **env: str) -> Cli:
    robot = cli.env["BROWSER"].split(" browser ")[0]
    config_dir = tmp_path / f"{name}-config"
    return dataclasses.replace(
        cli,
        config_dir=config_dir,
        env={
            **cli.env,
            "TWG_CONFIG_DIR": str(config_dir),
            "BROWSER": f"{robot} browser --user {name}@example.com --site {ACME_SITE_ID} %s",
            **env,
        },
    )


def test_the_admin_flow_end_to_end(cli: Cli, mock: MockIdPClient, tmp_path: Path) -> None:
    alice = person(cli, tmp_path, "alice")
    bob = person(cli, tmp_path, "bob")
    carol = person(cli, tmp_path, "carol", TWG_ADMIN_API_KEY=ACME_ADMIN_KEY)
    login = carol("admin", "auth", "login", "--email", "carol@example.com", "--org", ACME_ORG_ID)
    assert login.returncode == 0, login.stderr

    alice.login()
    assert alice("api", f"{JIRA}/issue/ACME-1").returncode == 0
    assert alice(*WRITE).returncode == 0

    keep = ("admin", "permissions", "set", "--read", "all", "--delete", "all")
    assert carol(*keep, "--keep-sessions").returncode == 0
    assert alice(*WRITE).returncode == 0  # old rights until the tokens are re-issued
    assert carol(*keep, "--revoke-sessions").returncode == 0
    dead = alice("api", f"{JIRA}/issue/ACME-1")
    assert dead.returncode == 77
    assert "revoked the session after a permission change" in dead.stderr

    alice.login()
    assert alice("api", f"{JIRA}/issue/ACME-1").returncode == 0
    denied = alice(*WRITE)
    assert denied.returncode == 1
    assert "write:jira-work" in denied.stderr
    actions = [
        e["attributes"]["action"]
        for e in carol.json("admin", "audit")["events"]
        if e["attributes"]["action"].startswith("admin.")
    ]
    assert actions == [
        "admin.permissions_changed",
        "admin.permissions_changed",
        "admin.sessions_revoked",
    ]

    mock.settings(client_address_override="203.0.113.9")
    assert carol("admin", "allowlist", "set", "198.51.100.0/24").returncode == 0
    blocked = alice("api", f"{JIRA}/issue/ACME-1")
    assert blocked.returncode == 1
    assert "Blocked by your organization's IP allowlist" in blocked.stderr
    assert carol("admin", "allowlist", "clear").returncode == 0
    assert alice("api", f"{JIRA}/issue/ACME-1").returncode == 0

    bob.login()
    assert carol("admin", "users", "suspend", "bob@example.com").returncode == 0
    gone = bob("api", f"{JIRA}/issue/ACME-1")
    assert gone.returncode == 77
    assert "suspended" in gone.stderr
    assert carol("admin", "users", "restore", "bob@example.com").returncode == 0
    bob.login()
    assert bob("api", f"{JIRA}/issue/ACME-1").returncode == 0
