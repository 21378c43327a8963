"""Security headers on every answer, as a real identity provider sends them.

A page that sets its own Content-Security-Policy (``layout.page``) keeps it; everything
else gets one that allows nothing and no framing.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_CSP = b"default-src 'none'; base-uri 'none'; frame-ancestors 'none'"

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    # Nobody frames the pages: a framed consent page could be clickjacked into a code.
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # Page URLs carry the sign-in transaction id: never leak them in a Referer.
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", DEFAULT_CSP),
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
