"""The issue's flow end to end: real `twg` and `twg admin` against the real mock IdP.

alice works; carol (org admin, `twg admin`) narrows the TWG CLI permissions keeping
sessions, then revoking them; alice logs in again with less; the audit log shows it all;
an IP allowlist blocks alice until cleared; carol suspends and restores bob.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mock_idp.browser import RobotError
from mock_idp.seed import ACME_ADMIN_KEY, ACME_SITE_ID
from tests.cli.admin_support import Person, admin_signed_in

JIRA = f"/ex/jira/{ACME_SITE_ID}/rest/api/3"
NEW_ITEM = '{"fields": {"summary": "Written from the CLI"}}'


@pytest.fixture
def people(mock_server, tmp_path: Path) -> dict[str, Person]:
    return {
        name: Person(f"{name}@example.com", tmp_path / name, mock_server.url)
        for name in ("alice", "bob", "carol")
    }


@pytest.fixture
def carol(people: dict[str, Person]) -> Person:
    return admin_signed_in(people["carol"], ACME_ADMIN_KEY + "\n")


def write(person: Person):
    return person.twg("api", "-X", "POST", f"{JIRA}/issue", "--data", NEW_ITEM)


def test_permission_change_revocation_allowlist_and_suspension(people, carol, mock_server):
    alice, bob = people["alice"], people["bob"]

    # 1. alice logs in, reads a work item and writes one.
    assert alice.twg("login").code == 0
    read = alice.twg("api", f"{JIRA}/issue/ACME-1")
    assert read.code == 0, read.err
    assert read.json()["key"] == "ACME-1"
    assert write(alice).json()["key"] == "ACME-4"

    # 2. carol removes the Write permissions, keeping sessions: alice's session keeps the
    # rights it was issued with until its tokens are re-issued.
    kept = carol.twg(
        "admin", "permissions", "set", "--read", "all", "--delete", "all", "--keep-sessions"
    )
    assert kept.code == 0, kept.err
    assert "Write and manage: (none)" in kept.out
    assert write(alice).json()["key"] == "ACME-5"

    # 3. carol saves again, revoking sessions: alice's next command says why, exit 77.
    revoked = carol.twg(
        "admin", "permissions", "set", "--read", "all", "--delete", "all", "--revoke-sessions"
    )
    assert revoked.code == 0, revoked.err
    assert "revoked 1 CLI session" in revoked.err
    dead = alice.twg("api", f"{JIRA}/issue/ACME-1")
    assert dead.code == 77
    assert "Your organization admin revoked the session after a permission change" in dead.err
    assert "twg login" in dead.err
    assert "Traceback" not in dead.err

    # 4. alice logs in again: reading works, writing names the missing permission.
    assert alice.twg("login").code == 0
    assert alice.twg("api", f"{JIRA}/issue/ACME-1").code == 0
    denied = write(alice)
    assert denied.code == 1
    assert "the permission write:jira-work is turned off for the TWG CLI" in denied.err

    audit = carol.twg("admin", "audit", "--json")
    assert audit.code == 0, audit.err
    steps = [
        (e["attributes"]["action"], e["attributes"]["actor"]["email"])
        for e in audit.json()["events"]
        if e["attributes"]["action"].startswith(("admin.", "session.started"))
    ]
    assert steps == [
        ("session.started", alice.email),
        ("admin.permissions_changed", carol.email),
        ("admin.permissions_changed", carol.email),
        ("admin.sessions_revoked", carol.email),
        ("session.started", alice.email),
    ]
    assert ACME_ADMIN_KEY not in audit.out

    # 5. An allowlist that excludes alice's address blocks her; clearing it restores access.
    httpx.patch(
        f"{mock_server.url}/_mock/settings", json={"client_address_override": "203.0.113.9"}
    ).raise_for_status()
    assert carol.twg("admin", "allowlist", "set", "198.51.100.0/24").code == 0
    blocked = alice.twg("api", f"{JIRA}/issue/ACME-1")
    assert blocked.code == 1
    assert "Blocked by your organization's IP allowlist" in blocked.err
    assert carol.twg("admin", "allowlist", "clear").code == 0
    assert alice.twg("api", f"{JIRA}/issue/ACME-1").code == 0

    # 6. carol suspends bob: his session dies with its own message; restoring lets him in.
    assert bob.twg("login").code == 0
    suspended = carol.twg("admin", "users", "suspend", bob.email)
    assert suspended.code == 0, suspended.err
    assert "1 CLI session(s) ended" in suspended.err
    gone = bob.twg("api", f"{JIRA}/issue/ACME-1")
    assert gone.code == 77
    assert "Your account was suspended by your organization admin" in gone.err
    # The sign-in page refuses him and says why; twg gets no answer and stops at its
    # login timeout (docs/admin.md).
    pages: list[str] = []

    def refused_page(url: str) -> bool:
        try:
            bob.browser(url)
        except RobotError as refusal:
            pages.append(str(refusal))
        return True

    refused = bob.twg("login", browser=refused_page, login_timeout=0.5)
    assert refused.code == 1
    assert "Login timed out" in refused.err
    assert len(pages) == 1
    assert "bob@example.com is suspended by an organization admin and cannot sign in" in pages[0]
    users = carol.twg("admin", "users", "--json").json()["users"]
    assert {u["email"]: u["account_status"] for u in users}[bob.email] == "suspended"
    assert carol.twg("admin", "users", "restore", bob.email).code == 0
    assert bob.twg("login").code == 0
    assert bob.twg("api", f"{JIRA}/issue/ACME-1").code == 0


def test_an_allowlist_refusing_the_refresh_keeps_the_session(people, carol, mock_server):
    alice = people["alice"]
    assert alice.twg("login").code == 0
    control = httpx.Client(base_url=mock_server.url)
    control.post("/_mock/clock/advance", json={"seconds": 9 * 3600}).raise_for_status()
    control.patch("/_mock/settings", json={"client_address_override": "203.0.113.9"})
    assert carol.twg("admin", "allowlist", "set", "198.51.100.0/24").code == 0
    blocked = alice.twg("api", f"{JIRA}/issue/ACME-1")
    assert blocked.code == 1
    assert "Blocked by your organization's IP allowlist" in blocked.err
    assert carol.twg("admin", "allowlist", "clear").code == 0
    assert alice.twg("api", f"{JIRA}/issue/ACME-1").code == 0
    control.close()


def test_an_allowlist_refusing_the_sign_in_says_so_instead_of_log_in_again(
    people, carol, mock_server
):
    httpx.patch(
        f"{mock_server.url}/_mock/settings", json={"client_address_override": "203.0.113.9"}
    ).raise_for_status()
    assert carol.twg("admin", "allowlist", "set", "198.51.100.0/24").code == 0

    refused = people["alice"].twg("login")

    assert refused.code == 1
    assert "Blocked by your organization's IP allowlist" in refused.err
    assert "ask your organization admin to add it" in refused.err
    assert "Run `twg login` again" not in refused.err
