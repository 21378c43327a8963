"""The loopback redirect listener for the browser flow (RFC 8252 section 7.3).

It binds 127.0.0.1 (an ephemeral port, or the one a fixed ``TWG_REDIRECT_URI`` names)
and serves the callback path in a background thread BEFORE the browser opens: with
BROWSER set, ``webbrowser`` waits for the command, and a headless browser waits for our
answer, so serving later would deadlock.

Any local process or web page can send a request to this port. Only a callback carrying
the ``state`` of the login in progress is handed to the login; anything else gets a 400
page and leaves the slot free for the real browser. Each request is served in its own
thread with a short socket timeout, so an idle connection cannot block the real one.
"""

from __future__ import annotations

import errno
import hmac
import html
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from twg.errors import EXIT_TEMPFAIL, ConfigError, LoginError

CALLBACK_PATH = "/callback"
# Seconds a client may take to send its request line and headers.
REQUEST_TIMEOUT = 5.0
# How often serve_forever looks at its shutdown flag: bounds the delay of close().
_POLL_INTERVAL = 0.05
_LOOPBACK_HOSTS = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "::1": "::1"}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - twg</title>
<style>
body {{ font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       background: #f4f5f7; color: #172b4d; }}
main {{ max-width: 32rem; margin: 12vh auto; padding: 2rem; background: #fff;
       border-radius: 8px; box-shadow: 0 1px 3px rgba(9, 30, 66, .25); }}
h1 {{ font-size: 1.5rem; margin: 0 0 .5rem; }}
.bad h1 {{ color: #ae2a19; }}
</style>
</head>
<body>
<main class="{kind}" role="{role}">
<h1>{title}</h1>
<p>{text}</p>
</main>
</body>
</html>
"""


class PortInUse(LoginError):
    """The fixed redirect port is taken by another program."""

    code = "PORT_IN_USE"
    exit_code = EXIT_TEMPFAIL


def _page(title: str, text: str, *, ok: bool) -> bytes:
    return _PAGE.format(
        title=html.escape(title),
        text=html.escape(text),
        kind="ok" if ok else "bad",
        role="status" if ok else "alert",
    ).encode()


def state_matches(received: str | None, expected: str) -> bool:
    """Constant-time comparison on bytes: a non-ASCII ``state`` is a mismatch, not a
    crash (``hmac.compare_digest`` refuses non-ASCII str)."""
    if received is None:
        return False
    return hmac.compare_digest(
        received.encode("utf-8", "surrogateescape"), expected.encode("utf-8")
    )


class _Handler(BaseHTTPRequestHandler):
    server: CallbackServer
    timeout = REQUEST_TIMEOUT
    # The page goes out in several small writes; with Nagle on, the last one waits for
    # the browser's delayed ACK (about 40 ms on Linux) before the tab can render.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != self.server.callback_path:
            self._answer(404, "Not found", "This address only receives twg's sign-in.", ok=False)
            return
        params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if not state_matches(params.get("state"), self.server.expected_state):
            # Not the login in progress (a stale tab, another process, a web page):
            # refuse it without using up the one slot the real browser needs.
            self._answer(
                400,
                "Not this sign-in",
                "This response does not belong to the twg login in progress, so it was "
                "ignored. Return to your terminal.",
                ok=False,
            )
            return
        if not self.server.deliver(params):
            self._answer(200, "Already handled", "This sign-in was already completed.", ok=True)
            return
        if "error" in params:
            self._answer(
                200,
                "Sign-in was not completed",
                "Return to your terminal for details.",
                ok=False,
            )
        else:
            self._answer(
                200, "Signed in", "You can close this window and return to your terminal.", ok=True
            )

    def _answer(self, status: int, title: str, text: str, *, ok: bool) -> None:
        body = _page(title, text, ok=ok)
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        # The request line holds the authorization code: never log it.
        return


def parse_redirect_uri(value: str) -> tuple[str, int, str]:
    """(bind address, port, path) of a fixed loopback redirect such as
    ``http://localhost:8765/callback``; ConfigError for anything else."""
    where = "TWG_REDIRECT_URI"
    try:
        url = urlsplit(value)
        port = url.port
    except ValueError:
        raise ConfigError(f"{where} is not a valid URL: {value!r}.") from None
    if url.scheme != "http" or url.hostname not in _LOOPBACK_HOSTS:
        raise ConfigError(
            f"{where} must be an http:// loopback address (127.0.0.1, localhost or [::1]) "
            f"with a port, e.g. http://localhost:8765/callback; got {value!r}.",
        )
    if port is None or port == 0:
        raise ConfigError(f"{where} needs an explicit port, e.g. http://localhost:8765/callback.")
    if url.query or url.fragment:
        raise ConfigError(f"{where} must not carry a query or fragment.")
    return _LOOPBACK_HOSTS[url.hostname], port, url.path or "/"


class CallbackServer(ThreadingHTTPServer):
    daemon_threads = True
    # A fixed port must be free: never share it with another listener.
    allow_reuse_address = False

    def __init__(self, expected_state: str, redirect_uri: str | None = None) -> None:
        self.expected_state = expected_state
        self._fixed = redirect_uri
        if redirect_uri:
            host, port, self.callback_path = parse_redirect_uri(redirect_uri)
        else:
            # RFC 8252 section 8.3: bind the loopback IP literal, never all interfaces.
            host, port, self.callback_path = "127.0.0.1", 0, CALLBACK_PATH
        if ":" in host:
            self.address_family = socket.AF_INET6
        try:
            super().__init__((host, port), _Handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"Port {port} of TWG_REDIRECT_URI ({redirect_uri}) is in use by another "
                    "program, so twg cannot receive the sign-in there.",
                    "Close that program (or another `twg login`) and try again.",
                ) from None
            raise LoginError(
                f"Cannot listen on {host}:{port} for the sign-in callback: {exc.strerror or exc}."
            ) from None
        self._event = threading.Event()
        self._params: dict[str, str] | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": _POLL_INTERVAL}, name="twg-callback"
        )
        self._thread.daemon = True

    @property
    def redirect_uri(self) -> str:
        if self._fixed:
            return self._fixed
        return f"http://127.0.0.1:{self.server_address[1]}{self.callback_path}"

    def deliver(self, params: dict[str, str]) -> bool:
        with self._lock:
            if self._params is not None:
                return False
            self._params = params
        self._event.set()
        return True

    def start(self) -> CallbackServer:
        self._thread.start()
        return self

    def wait(self, timeout: float) -> dict[str, str] | None:
        """The callback's query parameters, or None after ``timeout`` seconds."""
        if not self._event.wait(timeout):
            return None
        return self._params

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(5)

    def __enter__(self) -> CallbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
