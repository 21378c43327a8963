"""Assembles the mock IdP's ASGI application."""

from __future__ import annotations

import functools
from email.utils import formatdate

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_idp import (
    admin_api,
    bitbucket,
    control,
    oauth_routes,
    oidc,
    pages,
    registration,
    resources,
)
from mock_idp.access_log import AccessLogMiddleware
from mock_idp.allowlist import AllowlistMiddleware
from mock_idp.clock import MockClock
from mock_idp.errors import install_error_handlers
from mock_idp.faults import FaultMiddleware
from mock_idp.guard import RequestGuard
from mock_idp.idp import MockIdP
from mock_idp.oauth.fast_token import TokenEndpointFastPath
from mock_idp.oauth.server import MockAuthorizationServer
from mock_idp.pages.headers import SecurityHeadersMiddleware
from mock_idp.settings import Settings
from mock_idp.store import MemoryStore, open_store


class MockDateMiddleware:
    """Sets the HTTP ``Date`` header from the mock's clock, so clients that compute expiry
    from server time see the moved clock. (uvicorn's own Date header is switched off.)"""

    def __init__(self, app: ASGIApp, clock: MockClock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_date(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", formatdate(self.clock.now(), usegmt=True).encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_date)


def _bare_app() -> FastAPI:
    return FastAPI(
        title="twg mock Atlassian identity provider",
        version="0.1.0",
        # /_mock/docs is mock_idp.pages.api_docs: FastAPI's loads Swagger UI from a CDN.
        docs_url=None,
        redoc_url=None,
        openapi_url="/_mock/openapi.json",
        # FastAPI's built-in OpenTelemetry asks three providers on every request; the
        # mock exports nothing, and its token endpoint is benchmarked.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )


@functools.cache
def _shared_router() -> APIRouter:
    """Every route of the mock, assembled once per process and shared by its apps.

    FastAPI prepares an included router's routes (dependencies, body models) on its
    first request, about 15 ms a router; with routers of its own, every new mock (the
    plugin starts one per test) paid that again. Sharing is safe: routes find their
    mock through ``request.app.state``, and ``request.app`` is the app called.
    """
    app = _bare_app()
    for module in (
        oauth_routes,
        oidc,
        registration,
        pages,
        resources,
        admin_api,
        bitbucket,
        control,
    ):
        app.include_router(module.router)
    return app.router


def create_app(
    settings: Settings | None = None,
    store: MemoryStore | None = None,
    clock: MockClock | None = None,
) -> FastAPI:
    settings = settings or Settings()
    store = store if store is not None else open_store(None, settings.audit_limit)
    idp = MockIdP(settings=settings, store=store, clock=clock or MockClock())
    app = _bare_app()
    app.router = _shared_router()
    app.state.idp = idp
    app.state.oauth = MockAuthorizationServer(idp)
    install_error_handlers(app)
    # Inside the token fast path: its JSON answers skip this, every page gets it.
    app.add_middleware(SecurityHeadersMiddleware)
    # The token endpoint (the hot path) skips routing; inside faults and the Date header.
    app.add_middleware(TokenEndpointFastPath, server=app.state.oauth)
    # Org IP allowlists, in front of the token endpoint and every API route.
    app.add_middleware(AllowlistMiddleware, idp=idp)
    # Innermost first: faults apply only to requests the guard let through; the Date
    # header covers fault and guard answers too; the access log sees every answer.
    app.add_middleware(FaultMiddleware, idp=idp)
    app.add_middleware(RequestGuard, idp=idp)
    app.add_middleware(MockDateMiddleware, clock=idp.clock)
    app.add_middleware(AccessLogMiddleware)
    return app
