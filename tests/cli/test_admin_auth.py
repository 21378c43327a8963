"""`twg admin auth`: the key is checked live before it is saved, kept apart from the
user's session (byte for byte, both ways), and every refusal is one line and an exit code."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import httpx
import pytest

from mock_idp.secrets_util import fingerprint
from mock_idp.seed import ACME_ADMIN_KEY, ACME_ORG_ID, GLOBEX_ADMIN_KEY, GLOBEX_ORG_ID
from tests.cli.admin_support import Person, Result, snapshot

USER_FILES = ("auth.conf", "credentials")
ADMIN_FILES = ("admin.conf", "admin-keys")
PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"


@pytest.fixture
def carol(mock_server, tmp_path: Path) -> Person:
    return Person("carol@example.com", tmp_path / "carol", mock_server.url)


def admin_login(person: Person, key: str = ACME_ADMIN_KEY, org: str = ACME_ORG_ID, **kw) -> Result:
    kw.setdefault("stdin", key + "\n")
    return person.twg("admin", "auth", "login", "--email", person.email, "--org", org, **kw)


def one_line(result: Result) -> str:
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    return lines[0]


def test_login_checks_the_key_then_saves_it_apart_with_private_modes(carol):
    result = admin_login(carol)
    assert result.code == 0, result.err
    assert "Logged in as an admin of Acme" in result.err
    conf = json.loads((carol.config_dir / "admin.conf").read_text())
    assert conf["current"] == ACME_ORG_ID
    assert conf["orgs"][ACME_ORG_ID]["key_fp"] == fingerprint(ACME_ADMIN_KEY)
    assert ACME_ADMIN_KEY not in (carol.config_dir / "admin.conf").read_text()
    for name in ADMIN_FILES:
        assert stat.S_IMODE(os.stat(carol.config_dir / name).st_mode) == 0o600
    assert not (carol.config_dir / "auth.conf").exists()
    status = carol.twg("admin", "auth", "status", "--json")
    assert status.json()["orgs"][0]["email"] == carol.email
    assert ACME_ADMIN_KEY not in status.out + result.out + result.err


def test_the_key_from_the_environment_and_from_a_hidden_prompt(carol):
    from_env = admin_login(carol, stdin="", env={"TWG_ADMIN_API_KEY": ACME_ADMIN_KEY})
    assert from_env.code == 0, from_env.err
    prompted = admin_login(carol, stdin="", tty=True, hidden=[ACME_ADMIN_KEY])
    assert prompted.code == 0, prompted.err
    assert prompted.prompts == [f"Admin API key for organization {ACME_ORG_ID}: "]


@pytest.mark.parametrize(
    ("key", "org", "message"),
    [
        ("not-a-key", ACME_ORG_ID, "it is not a valid Admin API key"),
        (GLOBEX_ADMIN_KEY, ACME_ORG_ID, "belongs to another organization"),
        (ACME_ADMIN_KEY, "no-such-org", "Organization no-such-org was not found"),
    ],
)
def test_a_refused_key_saves_nothing(carol, key, org, message):
    result = admin_login(carol, key=key, org=org)
    line = one_line(result)
    assert message in line
    assert key not in line
    assert result.code == (1 if "not found" in message else 77)
    assert snapshot(carol.config_dir, ADMIN_FILES) == {n: None for n in ADMIN_FILES}


def test_a_revoked_key_is_named_as_revoked(carol, mock_server):
    assert admin_login(carol).code == 0
    httpx.delete(
        f"{mock_server.url}/admin/v1/orgs/{ACME_ORG_ID}/api-keys/{fingerprint(ACME_ADMIN_KEY)}",
        headers={"Authorization": f"Bearer {ACME_ADMIN_KEY}"},
    ).raise_for_status()
    result = carol.twg("admin", "users")
    assert result.code == 77
    assert "The Admin API key for organization" in one_line(result)
    assert "was revoked" in result.err


def test_not_logged_in_and_network_down_are_one_line_each(carol):
    result = carol.twg("admin", "users")
    assert result.code == 77
    assert "You are not logged in as an organization admin" in one_line(result)
    assert admin_login(carol).code == 0
    down = carol.twg("admin", "users", env={"TWG_API_URL": "http://127.0.0.1:9"})
    assert down.code == 69
    assert (
        "Could not reach http://127.0.0.1:9/admin/v1 (set by TWG_API_URL): the connection "
        "was refused" in one_line(down)
    )


def test_several_orgs_one_current_and_logout_of_one(carol):
    assert admin_login(carol).code == 0
    assert admin_login(carol, key=GLOBEX_ADMIN_KEY, org=GLOBEX_ORG_ID).code == 0
    orgs = carol.twg("admin", "orgs", "--json").json()["orgs"]
    assert [(o["org_id"], o["current"]) for o in orgs] == [
        (ACME_ORG_ID, False),
        (GLOBEX_ORG_ID, True),
    ]
    assert carol.twg("admin", "orgs", "use", ACME_ORG_ID).code == 0
    users = carol.twg("admin", "users", "--json").json()
    assert users["org_id"] == ACME_ORG_ID
    other = carol.twg("admin", "users", "--org", GLOBEX_ORG_ID, "--json").json()
    assert [u["email"] for u in other["users"]] == ["dave@example.com"]
    assert carol.twg("admin", "auth", "logout", "--org", GLOBEX_ORG_ID).code == 0
    keys = json.loads((carol.config_dir / "admin-keys").read_text())
    assert list(keys) == [f"admin-api-key:{ACME_ORG_ID}"]
    assert carol.twg("admin", "auth", "logout").code == 0
    assert snapshot(carol.config_dir, ADMIN_FILES) == {n: None for n in ADMIN_FILES}


def test_admin_login_status_logout_leave_the_users_session_byte_for_byte(carol):
    assert carol.twg("login").code == 0
    before = snapshot(carol.config_dir, USER_FILES)
    assert before["auth.conf"] is not None
    assert before["credentials"] is not None
    others = sorted(p.name for p in carol.config_dir.iterdir())
    assert admin_login(carol).code == 0
    assert carol.twg("admin", "auth", "status").code == 0
    assert carol.twg("admin", "users").code == 0
    assert carol.twg("admin", "auth", "logout").code == 0
    assert snapshot(carol.config_dir, USER_FILES) == before
    assert sorted(p.name for p in carol.config_dir.iterdir()) == others


def test_user_login_refresh_logout_leave_the_admin_files_byte_for_byte(carol):
    assert admin_login(carol).code == 0
    before = snapshot(carol.config_dir, ADMIN_FILES)
    assert carol.twg("login").code == 0
    assert carol.twg("auth", "refresh", "--force").code == 0
    assert carol.twg("logout").code == 0
    assert snapshot(carol.config_dir, ADMIN_FILES) == before
    assert carol.twg("admin", "users").code == 0


def test_in_a_keyring_the_admin_key_has_its_own_service(carol):
    import keyring.core

    from twg.auth.auth_conf import issuer_key
    from twg.auth.credentials import TOKEN_ENTRY_PREFIX

    env = {"TWG_CREDENTIAL_STORE": "", "PYTHON_KEYRING_BACKEND": PLAINTEXT}
    assert carol.twg("login", env=env).code == 0
    backend = keyring.core.load_keyring(PLAINTEXT)
    entry = backend.get_password("twg", TOKEN_ENTRY_PREFIX + issuer_key(carol.url))
    assert json.loads(entry)["refresh_token"]
    result = admin_login(carol, env=env)
    assert result.code == 0, result.err
    assert "service twg-admin" in result.err
    assert backend.get_password("twg-admin", f"admin-api-key:{ACME_ORG_ID}") == ACME_ADMIN_KEY
    assert not (carol.config_dir / "admin-keys").exists()
    assert carol.twg("admin", "auth", "logout", env=env).code == 0
    assert backend.get_password("twg-admin", f"admin-api-key:{ACME_ORG_ID}") is None
    assert backend.get_password("twg", TOKEN_ENTRY_PREFIX + issuer_key(carol.url)) == entry


# hostile input at every prompt ---------------------------------------------------------


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("", "No Admin API key was given (stdin was empty)"),
        ("\n\n", "No Admin API key was given (stdin was empty)"),
        ("k" * 100_000, "too long"),
        ("mock-admin\x1b[31m-key-acme\n", "spaces, control or non-ASCII characters"),
        ("mock admin key\n", "spaces, control or non-ASCII characters"),
        ("clé-ünïcode\n", "spaces, control or non-ASCII characters"),
        ("\x00\x07\n", "spaces, control or non-ASCII characters"),
    ],
)
def test_hostile_keys_on_stdin_are_refused_without_echo(carol, stdin, message):
    result = admin_login(carol, stdin=stdin)
    assert result.code == 2
    line = one_line(result)
    assert message in line
    assert "\x1b" not in result.err
    assert "\x00" not in result.err
    assert not (carol.config_dir / "admin.conf").exists()


def test_non_utf8_on_stdin_is_refused(carol):
    stream = io.TextIOWrapper(io.BytesIO(b"\xff\xfe\xfdkey\n"), encoding="utf-8")
    result = admin_login(carol, stdin_stream=stream)
    assert result.code == 2
    assert "not valid UTF-8" in one_line(result)


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ([""], "No Admin API key was given (the prompt was empty)"),
        ([], "No Admin API key was given (end of input)"),
        (["\x1b[2J" + ACME_ADMIN_KEY], "spaces, control or non-ASCII characters"),
    ],
)
def test_hostile_answers_at_the_hidden_prompt(carol, answers, message):
    result = admin_login(carol, stdin="", tty=True, hidden=answers)
    assert result.code == 2
    assert message in one_line(result)


def test_a_key_in_the_environment_with_a_newline_inside_is_refused(carol):
    result = admin_login(carol, stdin="", env={"TWG_ADMIN_API_KEY": "mock-admin\nkey-acme"})
    assert result.code == 2
    assert "TWG_ADMIN_API_KEY" in one_line(result)


@pytest.mark.parametrize(
    ("email", "org"),
    [("carol\x1b[0m@example.com", ACME_ORG_ID), ("not-an-email", ACME_ORG_ID), ("c@x.y", "../x")],
)
def test_hostile_email_or_org_is_a_usage_error_before_any_key_is_read(carol, email, org):
    result = carol.twg(
        "admin", "auth", "login", "--email", email, "--org", org, stdin=ACME_ADMIN_KEY
    )
    assert result.code == 2
    assert "\x1b" not in result.err
    one_line(result)
