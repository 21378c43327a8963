"""One line on stderr per request: method, path, status and duration.

Only the path is logged, never the query string (an /authorize URL carries ``state``
and PKCE values, a device URL a user code) nor any header or body: nothing secret can
reach the log. ``twg-mock-idp serve --quiet`` (or ``--log-level warning``) silences it.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("mock_idp.access")

MAX_PATH = 200  # a logged path is clipped: a 1 MB URL never floods the log


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            path: str = scope["path"]
            if len(path) > MAX_PATH:
                path = path[:MAX_PATH] + "..."
            # ascii(): a path holding control characters cannot forge log lines.
            log.info(
                "%s %s %s %.1fms",
                scope["method"],
                ascii(path)[1:-1],
                status or "-",
                elapsed_ms,
            )
