"""twg as real subprocesses: start-up imports, secrets never leaking, and concurrency."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.cli.fake_idp import FakeIdP, serve_over_socket

TWG = str(Path(sys.executable).with_name("twg"))
HEAVY = ("httpx", "keyring", "authlib")


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


@pytest.fixture
def socket_fake():
    fake = FakeIdP()
    server = serve_over_socket(fake)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def sub_env(socket_fake, base_env, tmp_path):
    env = dict(os.environ)
    env.update(base_env)
    env.update(
        TWG_IDP_URL=socket_fake.issuer,
        TWG_API_URL=socket_fake.issuer,
        TWG_BITBUCKET_URL=socket_fake.issuer,
    )
    # A browser that records its argv, then follows the redirect to the loopback.
    script = tmp_path / "browser.py"
    script.write_text(
        "import sys, json, httpx\n"
        f"open({str(tmp_path / 'browser-argv.json')!r}, 'w').write(json.dumps(sys.argv))\n"
        "httpx.get(sys.argv[1], follow_redirects=True, timeout=10)\n"
    )
    env["BROWSER"] = f"{sys.executable} {script} %s"
    env["TWG_LOGIN_TIMEOUT"] = "20"
    return env


def run(args, env, **kw):
    return subprocess.run([TWG, *args], env=env, capture_output=True, text=True, timeout=120, **kw)


def test_tokens_never_appear_in_argv_output_logs_or_non_secret_files(
    socket_fake, sub_env, config_dir, tmp_path
):
    env = {**sub_env, "TWG_DEBUG": "1"}
    outputs = [run(["login"], env)]
    assert outputs[0].returncode == 0, outputs[0].stderr
    socket_fake.now += 9 * 3600
    outputs.append(run(["api", "/me"], env))
    outputs.append(run(["auth", "status", "--json"], env))
    outputs.append(run(["doctor"], env))
    outputs.append(run(["logout"], env))
    assert outputs[1].returncode == 0, outputs[1].stderr
    secrets = list(socket_fake.issued)
    assert len(secrets) >= 4
    texts = [o.stdout + o.stderr for o in outputs]
    texts.append((tmp_path / "browser-argv.json").read_text())
    texts += [p.read_text() for p in config_dir.iterdir() if p.is_file()]
    for text in texts:
        for token in secrets:
            assert token not in text
    # The code sent to the loopback is a secret too: never logged.
    assert "code=" not in outputs[0].stderr.replace("code_challenge", "")


def test_32_concurrent_processes_refresh_exactly_once(socket_fake, sub_env):
    assert run(["login"], sub_env).returncode == 0
    socket_fake.now += 9 * 3600  # the access token has expired at the server

    def one(_: int) -> subprocess.CompletedProcess[str]:
        return run(["api", "/me"], sub_env)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(one, range(32)))
    assert time.monotonic() - started < 110
    failures = [(r.returncode, r.stderr) for r in results if r.returncode != 0]
    assert failures == []
    assert all(json.loads(r.stdout)["email"] == "alice@example.com" for r in results)
    assert socket_fake.refresh_count() == 1
