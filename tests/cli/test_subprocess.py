"""twg as real processes against the real mock: start-up imports, secrets never leaking,
and concurrent processes sharing one session in the keyring.

The 32-process refresh storm itself is the catalogue's ``concurrent-refresh`` scenario
(run by tests/scenarios in-process and by tests/e2e in Compose, file store); here the
same race goes through the keyring, which is read again after the refresh lock."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.cli import stored
from tests.cli.conftest import HOUR, count

TWG = str(Path(sys.executable).with_name("twg"))
HEAVY = ("httpx", "keyring", "authlib")
PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"


def test_help_does_not_import_httpx_keyring_or_authlib():
    code = (
        "import sys\n"
        "from twg.main import main\n"
        "rc = main(['--help'])\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "Usage:" in done.stdout
    assert "HEAVY=\n" in done.stderr


def test_console_script_help_exits_0():
    done = subprocess.run([TWG, "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "login" in done.stdout


def test_tokens_never_appear_in_argv_output_logs_or_non_secret_files(
    twg, mock_idp, config_dir, tmp_path
):
    # A browser that records its argv, then lets the robot person sign in.
    argv_file = tmp_path / "browser-argv.json"
    script = tmp_path / "browser.py"
    script.write_text(
        "import json, subprocess, sys\n"
        f"open({str(argv_file)!r}, 'w').write(json.dumps(sys.argv))\n"
        f"sys.exit(subprocess.call([*{twg.env['BROWSER'].split()[:-1]!r}, sys.argv[1]]))\n"
    )
    env = {"TWG_DEBUG": "1", "BROWSER": f"{sys.executable} {script} %s"}
    outputs = [twg.run_subprocess("login", env=env)]
    assert outputs[0].code == 0, outputs[0].err
    secrets = list(stored.tokens(config_dir).values())
    mock_idp.clock.advance(9 * HOUR)
    outputs.append(twg.run_subprocess("api", "/me", env=env))
    assert outputs[1].code == 0, outputs[1].err
    assert count(mock_idp, "token.rotated") == 1
    secrets += stored.tokens(config_dir).values()
    outputs.append(twg.run_subprocess("auth", "status", "--json", env=env))
    outputs.append(twg.run_subprocess("doctor", env=env))
    # Every file but the 0600 secrets file, read while they exist (logout removes them).
    assert stat.S_IMODE((config_dir / "credentials").stat().st_mode) == 0o600
    files = {p.name: p.read_text() for p in config_dir.iterdir() if p.name != "credentials"}
    assert "auth.conf" in files
    outputs.append(twg.run_subprocess("logout", env=env))
    assert outputs[-1].code == 0, outputs[-1].err

    assert len(set(secrets)) == 4  # two access and two refresh tokens
    texts = [o.out + o.err for o in outputs]
    texts.append(argv_file.read_text())
    texts += files.values()
    for text in texts:
        for token in secrets:
            assert token not in text
    # The code sent to the loopback is a secret too: never logged.
    assert "code=" not in outputs[0].err.replace("code_challenge", "")


def test_concurrent_processes_refresh_exactly_once_through_the_keyring(twg, mock_idp):
    env = {"TWG_CREDENTIAL_STORE": None, "PYTHON_KEYRING_BACKEND": PLAINTEXT}
    login = twg.run_subprocess("login", env=env)
    assert login.code == 0, login.err
    assert "system keyring" in login.err
    mock_idp.clock.advance(9 * HOUR)  # the access token has expired at the server

    procs = [twg.popen("api", "/me", env=env) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda p: (p.communicate(timeout=110), p.returncode), procs))

    assert [(code, err) for (_, err), code in results if code != 0] == []
    assert {json.loads(out)["email"] for (out, _), _ in results} == {"alice@example.com"}
    assert count(mock_idp, "token.rotated") == 1
    assert len(mock_idp.audit("refresh.")) == 0  # no refresh was refused or replayed
