"""`twg admin` commands against the mock: the save dialog's two choices, sessions,
allowlist and audit; bad values are usage errors (exit 2) that change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.admin_support import Person, admin_signed_in

READ_ONLY = ("admin", "permissions", "set", "--read", "all")
ALL_WRITE = ["write:jira-work", "manage:jira-project", "write:confluence-content"]


@pytest.fixture
def carol(mock_server, tmp_path: Path) -> Person:
    return admin_signed_in(Person("carol@example.com", tmp_path / "carol", mock_server.url))


@pytest.fixture
def alice(mock_server, tmp_path: Path) -> Person:
    alice = Person("alice@example.com", tmp_path / "alice", mock_server.url)
    assert alice.twg("login").code == 0
    return alice


def allowed(carol: Person) -> dict[str, list[str]]:
    return carol.twg("admin", "permissions", "show", "--json").json()["permissions"]


def test_without_a_terminal_the_save_needs_a_choice_and_saves_nothing(carol):
    result = carol.twg(*READ_ONLY)
    assert result.code == 2
    assert "Choose --revoke-sessions or --keep-sessions" in result.err
    assert allowed(carol)["write"] == ALL_WRITE


def test_on_a_terminal_the_two_choices_of_the_dialog_are_asked(carol, alice):
    result = carol.twg(*READ_ONLY, tty=True, stdin="maybe\n2\n")
    assert result.code == 0, result.err
    assert "1) Save without revoking" in result.err
    assert "2) Save and revoke sessions" in result.err
    assert "Please answer 1 or 2." in result.err
    assert "Saved and revoked 1 CLI session(s)" in result.err
    assert allowed(carol)["write"] == []


def test_on_a_terminal_three_bad_answers_or_end_of_input_save_nothing(carol):
    for stdin in ("\x1b[2J\nx\n\x00\n", ""):
        result = carol.twg(*READ_ONLY, tty=True, stdin=stdin)
        assert result.code == 2
        assert "Nothing was saved" in result.err
        assert "\x1b" not in result.err
    assert allowed(carol)["write"] == ALL_WRITE


@pytest.mark.parametrize(
    "args",
    [
        ("--read", "write:jira-work", "--keep-sessions"),
        ("--delete", "bogus", "--keep-sessions"),
        ("--allow-all", "--read", "all", "--keep-sessions"),
        ("--keep-sessions",),
        ("--allow-all", "--keep-sessions", "--revoke-sessions"),
    ],
)
def test_bad_permission_flags_are_usage_errors(carol, args):
    result = carol.twg("admin", "permissions", "set", *args)
    assert result.code == 2
    assert "Traceback" not in result.err
    assert allowed(carol)["write"] == ALL_WRITE


def test_permissions_one_by_one_and_a_category_left_out_allows_none(carol):
    result = carol.twg(
        "admin",
        "permissions",
        "set",
        "--read",
        "read:jira-work,read:jira-user",
        "--write",
        "write:jira-work",
        "--keep-sessions",
    )
    assert result.code == 0, result.err
    assert allowed(carol) == {
        "read": ["read:jira-work", "read:jira-user"],
        "write": ["write:jira-work"],
        "delete": [],
    }
    assert "  Delete: (none)" in carol.twg("admin", "permissions", "show").out
    assert carol.twg("admin", "permissions", "set", "--allow-all", "--keep-sessions").code == 0
    assert carol.twg("admin", "permissions", "show", "--json").json()["allow_all"] is True


def test_sessions_list_by_user_and_revoke(carol, alice):
    listed = carol.twg("admin", "sessions", "--user", alice.email, "--json").json()["sessions"]
    assert [s["email"] for s in listed] == [alice.email]
    bobs = carol.twg("admin", "sessions", "--user", "bob@example.com", "--json")
    assert bobs.json()["sessions"] == []
    assert carol.twg("admin", "sessions", "revoke").code == 2
    revoked = carol.twg("admin", "sessions", "revoke", "--user", alice.email)
    assert revoked.code == 0
    assert "Revoked 1 CLI session(s)" in revoked.err
    assert carol.twg("admin", "sessions", "--json").json()["sessions"] == []
    dead = alice.twg("api", "/me")
    assert dead.code == 77
    assert "revoked by an organization admin" in dead.err


def test_allowlist_set_show_clear_and_bad_ranges(carol):
    bad = carol.twg("admin", "allowlist", "set", "10.0.0.0/8", "not-a-range")
    assert bad.code == 2
    assert "is not an IP address or CIDR range" in bad.err
    assert carol.twg("admin", "allowlist", "show", "--json").json()["cidrs"] == []
    assert carol.twg("admin", "allowlist", "set", "10.1.2.3", "192.0.2.0/24").code == 0
    assert carol.twg("admin", "allowlist", "show").out.split() == ["10.1.2.3/32", "192.0.2.0/24"]
    assert carol.twg("admin", "allowlist", "clear").code == 0
    assert carol.twg("admin", "allowlist", "show", "--json").json()["cidrs"] == []


def test_audit_since_and_bad_since(carol):
    assert carol.twg("admin", "allowlist", "set", "10.0.0.0/8").code == 0
    events = carol.twg("admin", "audit", "--since", "1h", "--json").json()["events"]
    assert [e["attributes"]["action"] for e in events] == ["admin.allowlist_changed"]
    assert events[0]["attributes"]["actor"]["email"] == carol.email
    assert events[0]["attributes"]["context"]["key_fp"] is not None
    text = carol.twg("admin", "audit").out
    assert "carol@example.com  admin.allowlist_changed" in text
    future = carol.twg("admin", "audit", "--since", "2999-01-01T00:00Z", "--json")
    assert future.json()["events"] == []
    bad = carol.twg("admin", "audit", "--since", "yesterday-ish")
    assert bad.code == 2


def test_control_characters_from_the_server_never_reach_the_terminal(carol, mock_server):
    import httpx

    from mock_idp.seed import ACME_SITE_ID

    hostile = {
        "account_id": "712020:e7e00000-0000-4000-8000-000000000009",
        "email": "eve@example.com",
        "name": "Eve \x1b]0;pwned\x07\x1b[2J",
        "site_access": {ACME_SITE_ID: ["read"]},
    }
    httpx.post(f"{mock_server.url}/_mock/seed", json={"users": [hostile]}).raise_for_status()
    result = carol.twg("admin", "users")
    assert result.code == 0
    assert "eve@example.com  Eve \\x1b]0;pwned\\x07\\x1b[2J  [active]" in result.out
    assert "\x1b" not in result.out
    users = carol.twg("admin", "users", "--json").json()["users"]
    assert {u["email"]: u["name"] for u in users}["eve@example.com"] == hostile["name"]


def test_a_corrupt_admin_conf_is_moved_aside_and_named(carol):
    path = carol.config_dir / "admin.conf"
    path.write_text("{not json", encoding="utf-8")
    result = carol.twg("admin", "users")
    assert result.code == 74
    assert "was corrupt; it was moved aside" in result.err
    moved = [p.name for p in carol.config_dir.iterdir() if p.name.startswith("admin.conf.corrupt-")]
    assert len(moved) == 1
    assert (carol.config_dir / moved[0]).read_text(encoding="utf-8") == "{not json"
