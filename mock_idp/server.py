"""Running the mock over real HTTP: in the foreground (``serve``) or in a thread (tests)."""

from __future__ import annotations

import asyncio
import socket
import threading
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp


def uvicorn_config(
    app: ASGIApp,
    host: str,
    port: int,
    log_level: str = "warning",
    timeout_graceful_shutdown: int | None = None,
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
        timeout_graceful_shutdown=timeout_graceful_shutdown,
        # X-Forwarded-For would let any client pick the address IP allowlists check.
        proxy_headers=False,
    )


# How long a stopping test server lets in-flight responses finish before cancelling them.
STOP_GRACE_SECONDS = 0.25
# How often the stopping server looks whether its connections have closed.
_CLOSE_CHECK_SECONDS = 0.002


class _PromptServer(uvicorn.Server):
    """uvicorn's server, stopping at once instead of at its next 0.1 s tick.

    uvicorn looks at ``should_exit`` every 0.1 s and sleeps another 0.1 s in
    ``shutdown``: 0.16 s per stop on average, paid by every test that starts a mock.
    Here ``request_exit`` wakes the serving loop through an event, and ``shutdown`` waits
    only as long as open connections need to close (idle keep-alive ones close at once).
    """

    def __init__(self, config: uvicorn.Config, grace: float) -> None:
        super().__init__(config)
        self._grace = grace
        self._loop: asyncio.AbstractEventLoop | None = None
        self._exit: asyncio.Event | None = None

    async def main_loop(self) -> None:
        # Set before looking at should_exit: request_exit (another thread) sets the flag
        # first and then reads these, so one of the two always sees the other.
        self._exit = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        if not self.should_exit:
            await self._exit.wait()

    def request_exit(self) -> None:
        """Thread-safe: stop serving now."""
        self.should_exit = True
        loop, event = self._loop, self._exit
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        try:
            async with asyncio.timeout(self._grace):
                while self.server_state.connections or self.server_state.tasks:
                    await asyncio.sleep(_CLOSE_CHECK_SECONDS)
        except TimeoutError:
            for task in self.server_state.tasks:
                task.cancel(msg="the test server stopped")
        for server in self.servers:
            await server.wait_closed()


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket for uvicorn's ``sockets=``.

    The protocol is named on purpose: asyncio turns Nagle's algorithm off only on
    sockets whose ``proto`` is ``IPPROTO_TCP``, and ``socket.socket(family,
    SOCK_STREAM)`` leaves it 0. Without it every response waits for the client's
    delayed ACK, about 40 ms per request on Linux loopback.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class BackgroundServer:
    """The app on a real loopback socket in a daemon thread, for tests and benchmarks."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = listening_socket(host, port)
        self.host, self.port = self._sock.getsockname()[:2]
        self._server = _PromptServer(
            uvicorn_config(app, self.host, self.port), grace=STOP_GRACE_SECONDS
        )
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
        self._server.request_exit()
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
