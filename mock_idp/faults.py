"""Placeholder: fault injection is being written."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mock_idp.idp import MockIdP


class FaultMiddleware:
    def __init__(self, app: ASGIApp, idp: MockIdP) -> None:
        self.app = app
        self.idp = idp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
