"""A loopback HTTP listener standing in for the CLI's redirect_uri (RFC 8252 section 7.3),
and helpers to run ``twg-mock-idp`` as a real subprocess."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

MOCK_IDP = str(Path(sys.executable).with_name("twg-mock-idp"))


class CallbackCatcher:
    """Serves GET /callback on 127.0.0.1 and remembers each query it receives."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.answered = threading.Event()
        catcher = self

        class Handler(http.server.BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                catcher.received.append({k: v[0] for k, v in query.items()})
                body = b"Signed in. You can close this window."
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # Before the body: the client cannot finish reading before this is set.
                catcher.answered.set()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        # serve_forever looks at its shutdown flag every poll_interval (0.5 s by default):
        # a short one makes every test's close quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/callback"

    def __enter__(self) -> CallbackCatcher:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_robot(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MOCK_IDP, "browser", *args], capture_output=True, text=True, timeout=timeout
    )


class ServeProcess:
    """``twg-mock-idp serve`` on a free loopback port, stopped on exit."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["serve", "--port", str(self.port), "--log-level", "warning", *args]
        self.proc: subprocess.Popen[str] | None = None
        self.first_line = ""

    def __enter__(self) -> ServeProcess:
        self.proc = subprocess.Popen(
            [MOCK_IDP, *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            self._wait_until_serving()
        except BaseException:
            self.stop()  # never leave a server behind when it did not come up
            raise
        return self

    def _wait_until_serving(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        self.first_line = self.proc.stdout.readline().strip()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited early with {self.proc.returncode}")
            try:
                httpx.get(self.url + "/.well-known/oauth-authorization-server", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("serve did not answer within 20 s")

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        return int(self.proc.returncode)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
