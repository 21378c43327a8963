"""The loopback redirect listener for the browser flow (RFC 8252 section 7.3).

It binds 127.0.0.1 on an ephemeral port and serves ``/callback`` in a background thread
BEFORE the browser opens: with BROWSER set, ``webbrowser`` waits for the command, and a
headless browser waits for our answer, so serving later would deadlock.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

CALLBACK_PATH = "/callback"

_DONE_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>twg</title></head>"
    "<body><h1>{title}</h1><p>{text}</p></body></html>"
)


class _Handler(BaseHTTPRequestHandler):
    server: CallbackServer

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != CALLBACK_PATH:
            self.send_error(404)
            return
        params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        first = self.server.deliver(params)
        if "error" in params:
            title, text = "Sign-in was not completed", "Return to your terminal for details."
        else:
            title, text = "Signed in", "You can close this window and return to your terminal."
        if not first:
            title, text = "Already handled", "This sign-in was already completed."
        body = _DONE_PAGE.format(title=title, text=text).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        # The request line holds the authorization code: never log it.
        return


class CallbackServer(HTTPServer):
    def __init__(self) -> None:
        # RFC 8252 section 8.3: bind the loopback IP literal, never all interfaces.
        super().__init__(("127.0.0.1", 0), _Handler)
        self._event = threading.Event()
        self._params: dict[str, str] | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, name="twg-callback")
        self._thread.daemon = True

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{CALLBACK_PATH}"

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
