"""Text a server sends (names, emails, site names, error descriptions) cannot drive the
user's terminal: control characters are shown as escapes, never written raw."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mock_idp.seed import DEFAULT_SEED, apply_seed
from twg.iostreams import IOStreams
from twg.textsafe import printable

BIN = Path(sys.executable).parent
HOSTILE_NAME = "Alice\x1b]0;pwned\x07\x1b[2J\x1b[1;1HPassword:\u202e"
HOSTILE_SITE = "acme\x1b[8m\r\x9b31m"


def test_printable_shows_controls_as_escapes_and_keeps_text() -> None:
    assert printable("Alice\x1b[2J") == "Alice\\x1b[2J"
    assert printable("bell\x07 cr\r del\x7f csi\x9b") == "bell\\x07 cr\\x0d del\\x7f csi\\x9b"
    assert printable("rtl\u202eevil\u2066") == "rtl\\u202eevil\\u2066"
    assert printable("tab\tnew\nline é ü 日本") == "tab\tnew\nline é ü 日本"


def test_messages_and_text_are_escaped_and_a_piped_raw_body_is_not() -> None:
    io = IOStreams.for_test()
    io.err("name: \x1b[2J")
    io.out("Site: \x1b[8m")
    io.out_raw('{"raw": "\x1b"}')
    assert io.errors() == "name: \\x1b[2J\n"
    # A raw API body into a pipe is data, passed as it is (like curl).
    assert io.output() == 'Site: \\x1b[8m\n{"raw": "\x1b"}\n'


def test_a_raw_body_on_a_terminal_is_escaped_too() -> None:
    io = IOStreams.for_test(tty=True)
    io.out_raw("\x1b]0;title\x07")
    assert io.output() == "\\x1b]0;title\\x07\n"


def test_a_hostile_user_and_site_name_cannot_rewrite_the_terminal(
    mock_server, idp, tmp_path: Path
) -> None:
    seed = {
        "users": [
            {**user, "name": HOSTILE_NAME} if user["email"] == "alice@example.com" else user
            for user in DEFAULT_SEED["users"]
        ],
        "sites": [
            {**site, "name": HOSTILE_SITE} if site["name"] == "acme" else site
            for site in DEFAULT_SEED["sites"]
        ],
    }
    apply_seed(idp.store, seed, idp.clock.now())
    config = tmp_path / "twg"
    # The robot browser shares the terminal; only twg's own output is under test here.
    robot = tmp_path / "robot.sh"
    robot.write_text(
        f"#!/bin/sh\nexec {BIN / 'twg-mock-idp'} browser --user alice@example.com"
        ' "$1" 2>/dev/null\n'
    )
    robot.chmod(0o755)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "TWG_CONFIG_DIR": str(config),
        "TWG_IDP_URL": mock_server.url,
        "TWG_CREDENTIAL_STORE": "file",
        "TWG_LOGIN_TIMEOUT": "30",
        "BROWSER": f"{robot} %s",
    }

    login = subprocess.run(
        [str(BIN / "twg"), "login"], env=env, capture_output=True, text=True, timeout=60
    )
    status = subprocess.run(
        [str(BIN / "twg"), "auth", "status"], env=env, capture_output=True, text=True, timeout=30
    )

    assert login.returncode == 0, login.stderr
    assert status.returncode == 0, status.stderr
    for shown in (login.stderr, status.stdout + status.stderr):
        assert "\x1b" not in shown
        assert "\x07" not in shown
        assert "\x9b" not in shown
        assert "\u202e" not in shown
    assert "Alice\\x1b]0;pwned\\x07\\x1b[2J" in login.stderr
    assert "acme\\x1b[8m\\x0d\\x9b31m" in status.stdout + status.stderr
