"""Start-up cost of the twg CLI, as a ratio to a bare ``python -c pass``.

Targets: ``twg --help`` at most 8x, ``twg auth status --json`` (logged in, file store, no
network) at most 15x, ``twg api /me`` against a local ``http://`` mock (logged in through
the robot browser) at most 12x: httpx is imported only by commands that call out, and the
TLS trust store is loaded only when a TLS connection is made. Also reports
``python -c "import click"`` to show the command-line library's own share.
Run: .venv/bin/python benchmarks/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
TWG = str(Path(PY).with_name("twg"))


def median_wall(cmd: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs + 1):  # the first run only warms caches (bytecode, page cache)
        start = time.perf_counter()
        subprocess.run(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def user_environ() -> dict[str, str]:
    """The environment as a user's: bytecode is written (some shells here disable it,
    which would time compiling every twg module on each run)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def logged_in_config(root: Path) -> dict[str, str]:
    """A config dir that looks logged in (file store), so status needs no network."""
    config = root / "twg"
    config.mkdir(mode=0o700)
    now = time.time()
    (config / "credentials").write_text(
        json.dumps({"access_token": "bench-access", "refresh_token": "bench-refresh"})
    )
    import hashlib

    def fp(s: str) -> str:
        return hashlib.sha256(s.encode()).hexdigest()[:12]

    (config / "auth.conf").write_text(
        json.dumps(
            {
                "issuer": "http://127.0.0.1:9",
                "client_id": "twg-cli",
                "store": "file",
                "email": "bench@example.com",
                "scopes": ["read:me"],
                "access_issued_at": now,
                "access_expires_at": now + 8 * 3600,
                "access_fp": fp("bench-access"),
                "refresh_fp": fp("bench-refresh"),
            }
        )
    )
    env = user_environ()
    env.update(
        TWG_CONFIG_DIR=str(config),
        TWG_CREDENTIAL_STORE="file",
        TWG_IDP_URL="http://127.0.0.1:9",
        HOME=str(root),
    )
    return env


def start_mock() -> tuple[subprocess.Popen[str], str]:
    """The mock on a free loopback port; returns the process and its URL."""
    mock = subprocess.Popen(
        [str(Path(PY).with_name("twg-mock-idp")), "serve", "--port", "0", "--log-level", "error"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert mock.stdout is not None
    line = mock.stdout.readline()  # "twg mock IdP serving on http://127.0.0.1:PORT (...)"
    return mock, line.split(" on ", 1)[1].split()[0]


def api_env(root: Path, url: str) -> dict[str, str]:
    """Logged in to the mock at ``url`` as alice (robot browser), file store."""
    env = user_environ()
    env.update(
        TWG_CONFIG_DIR=str(root / "api"),
        TWG_CREDENTIAL_STORE="file",
        TWG_IDP_URL=url,
        HOME=str(root),
        BROWSER=f"{Path(PY).with_name('twg-mock-idp')} browser --user alice@example.com %s",
    )
    subprocess.run([TWG, "login"], env=env, check=True, capture_output=True)
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = logged_in_config(Path(tmp))
        base = median_wall([PY, "-c", "pass"], env, args.runs)
        click_only = median_wall([PY, "-c", "import click"], env, args.runs)
        helps = median_wall([TWG, "--help"], env, args.runs)
        status = median_wall([TWG, "auth", "status", "--json"], env, args.runs)
        mock, url = start_mock()
        try:
            api = median_wall([TWG, "api", "/me"], api_env(Path(tmp), url), args.runs)
        finally:
            mock.terminate()
            mock.wait(10)
    print(f"python -c pass            {base * 1000:7.1f} ms   1.0x")
    print(f"python -c 'import click'  {click_only * 1000:7.1f} ms  {click_only / base:4.1f}x")
    print(f"twg --help                {helps * 1000:7.1f} ms  {helps / base:4.1f}x  (target <= 8x)")
    print(
        f"twg auth status --json    {status * 1000:7.1f} ms  {status / base:4.1f}x  (target <= 15x)"
    )
    print(f"twg api /me (local mock)  {api * 1000:7.1f} ms  {api / base:4.1f}x  (target <= 12x)")


if __name__ == "__main__":
    main()
