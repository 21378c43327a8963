"""Refresh-grant throughput of the mock IdP's token endpoint.

Starts ``twg-mock-idp serve`` as a separate process (as a user would), logs in N sessions
through the real authorization-code + PKCE flow (the robot browser drives the pages),
then has each session do sequential refresh grants with rotation for a fixed time.
Reports refreshes/s, p50/p99 latency and the server's peak memory.

    python benchmarks/token_refresh.py [--sessions 16] [--seconds 10] [--json]

Target on a 2-core machine: >= 3,000 refreshes/s with p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from http_raw import RawConnection

CLIENT_ID = "twg-cli"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("twg-mock-idp")
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/.well-known/oauth-authorization-server").status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the mock IdP did not start: " + proc.stderr.read().decode()[-2000:])


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def login_sessions(base_url: str, count: int) -> list[str]:
    """Log in ``count`` sessions through /authorize (robot person) and the code grant."""
    import base64
    import hashlib
    import secrets
    from urllib.parse import parse_qs, urlencode, urlsplit

    from mock_idp.browser import Robot

    redirect_uri = "http://127.0.0.1:1/callback"  # never reached: the code is read off
    tokens = []
    with httpx.Client(base_url=base_url) as client:
        for _ in range(count):
            verifier = secrets.token_urlsafe(48)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            query = {
                "response_type": "code",
                "client_id": CLIENT_ID,
                "redirect_uri": redirect_uri,
                "scope": "read:me read:jira-work offline_access",
                "state": secrets.token_hex(8),
                "code_challenge": challenge.rstrip(b"=").decode(),
                "code_challenge_method": "S256",
            }
            callback = Robot(client=client).final_redirect(
                f"{base_url}/authorize?{urlencode(query)}"
            )
            code = parse_qs(urlsplit(callback).query)["code"][0]
            answer = client.post(
                "/oauth/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "client_id": CLIENT_ID,
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                },
            )
            answer.raise_for_status()
            tokens.append(answer.json()["refresh_token"])
    return tokens


async def refresh_loop(
    base_url: str, refresh_token: str, until: float, latencies: list[float]
) -> tuple[int, int]:
    conn = await RawConnection.open(base_url)
    ok = errors = 0
    try:
        while time.perf_counter() < until:
            body = urlencode(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": refresh_token,
                    "client_id": CLIENT_ID,
                }
            ).encode()
            started = time.perf_counter()
            status, payload = await conn.post_form("/oauth/token", body)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors += 1
                raise RuntimeError(f"refresh failed with {status}: {payload[:200]!r}")
            refresh_token = json.loads(payload)["refresh_token"]
            ok += 1
    finally:
        conn.close()
    return ok, errors


async def hammer(base_url: str, tokens: list[str], seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    started = time.perf_counter()
    until = started + seconds
    results = await asyncio.gather(*(refresh_loop(base_url, t, until, latencies) for t in tokens))
    elapsed = time.perf_counter() - started
    done = sum(ok for ok, _ in results)
    latencies.sort()
    return {
        "refreshes": done,
        "seconds": round(elapsed, 3),
        "refreshes_per_s": round(done / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()

    port = free_port()
    proc = start_server(port)
    base_url = f"http://127.0.0.1:{port}"
    try:
        tokens = login_sessions(base_url, args.sessions)
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        if args.warmup > 0:
            # Warm up on separate sessions so the measured ones start fresh.
            asyncio.run(hammer(base_url, login_sessions(base_url, args.sessions), args.warmup))
        result = asyncio.run(hammer(base_url, tokens, args.seconds))
        result["sessions"] = args.sessions
        result["server_peak_rss_mib"] = round(peak_rss_mib(proc.pid), 1)
        result["cpus"] = os.cpu_count() or 0
    finally:
        proc.terminate()
        proc.wait(10)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
        verdict = result["refreshes_per_s"] >= 3000 and result["p99_ms"] < 20
        print(f"{'target (>=3000/s, p99<20ms)':>22}: {'met' if verdict else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
