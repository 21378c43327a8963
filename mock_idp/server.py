"""Running the mock over real HTTP: in the foreground (``serve``) or in a thread (tests)."""

from __future__ import annotations

import asyncio
import socket
import threading
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp


def uvicorn_config(
    app: ASGIApp, host: str, port: int, log_level: str = "warning"
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        # The Date header comes from the mock's clock (MockDateMiddleware), not uvicorn's.
        date_header=False,
        server_header=False,
        lifespan="off",
        # X-Forwarded-For would let any client pick the address IP allowlists check.
        proxy_headers=False,
    )


class BackgroundServer:
    """The app on a real loopback socket in a daemon thread, for tests and benchmarks."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        self._server = uvicorn.Server(uvicorn_config(app, self.host, self.port))
        self._thread = threading.Thread(target=self._run, name="mock-idp", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> BackgroundServer:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the mock IdP server thread died while starting")
            self._thread.join(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
