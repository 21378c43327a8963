"""Fault injection: make the next N matching calls fail, stall or drop the connection.

A test queues a fault through ``POST /_mock/faults`` (``{"path": "/oauth/token",
"count": 1, "status": 503}``); ``FaultMiddleware`` applies it to the next matching
requests and records each one as ``fault.injected``. By default a faulted request never
reaches its route; with ``"after": true`` the route runs and its answer is lost. With
nothing queued the middleware costs one attribute read and a truthiness test: the token
endpoint is benchmarked.
``/_mock/`` itself is never faulted, so a test can always clear what it queued.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_idp import is_control_path
from mock_idp.errors import NO_STORE

if TYPE_CHECKING:
    from mock_idp.idp import MockIdP

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MAX_DELAY = 120.0
MAX_COUNT = 100_000
MAX_PENDING = 1_000  # faults queued at once: the queue is scanned on every request


class FaultSpecError(ValueError):
    """A fault request that cannot be queued; the message says what to fix."""


@dataclass(slots=True)
class Fault:
    id: int
    path: str  # exact path, or a prefix ending in "*"
    method: str | None  # None: any method
    remaining: int
    status: int | None = None
    delay: float = 0.0
    drop: bool = False
    body: Any = None  # JSON to answer instead of the RFC 6749 error body
    # Let the real request run first and lose its answer: the server has done the work
    # (say, rotated a refresh token) but the client never learns the result.
    after: bool = False
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path,
            "method": self.method,
            "remaining": self.remaining,
            "fired": self.fired,
            "status": self.status,
            "delay": self.delay,
            "drop": self.drop,
            "body": self.body,
            "after": self.after,
        }


class FaultQueue:
    """Faults waiting to fire, oldest first; the first match takes the request."""

    def __init__(self) -> None:
        self.pending: list[Fault] = []
        self._next_id = 1

    def add(self, spec: dict[str, Any]) -> Fault:
        if len(self.pending) >= MAX_PENDING:
            raise FaultSpecError(
                f"{MAX_PENDING} faults are already queued: DELETE /_mock/faults first."
            )
        fault = Fault(id=self._next_id, **spec)
        self._next_id += 1
        self.pending.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self.pending:
            if fault.matches(method, path):
                fault.remaining -= 1
                fault.fired += 1
                if fault.remaining <= 0:
                    self.pending.remove(fault)
                return fault
        return None

    def clear(self) -> int:
        count = len(self.pending)
        self.pending.clear()
        return count


def parse_fault(data: object) -> dict[str, Any]:
    """Validate a ``POST /_mock/faults`` body into ``Fault`` fields."""
    if not isinstance(data, dict):
        raise FaultSpecError("The body must be a JSON object.")
    known = {"path", "method", "count", "status", "delay", "drop", "body", "after"}
    unknown = set(data) - known
    if unknown:
        raise FaultSpecError(f"Unknown field(s): {', '.join(sorted(unknown))}.")
    path = data.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise FaultSpecError("'path' must be a request path starting with '/', e.g. /oauth/token.")
    if is_control_path(path.rstrip("*")):
        raise FaultSpecError("/_mock/ is never faulted, so a test can always undo a fault.")
    method = data.get("method")
    if method is not None:
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise FaultSpecError(f"'method' must be one of {', '.join(METHODS)}.")
        method = method.upper()
    count = data.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise FaultSpecError(f"'count' must be a whole number from 1 to {MAX_COUNT}.")
    status = data.get("status")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599
    ):
        raise FaultSpecError("'status' must be an HTTP error status from 400 to 599.")
    delay = data.get("delay", 0)
    if (
        isinstance(delay, bool)
        or not isinstance(delay, int | float)
        or not math.isfinite(delay)
        or not 0 <= delay <= MAX_DELAY
    ):
        raise FaultSpecError(f"'delay' must be a number of seconds from 0 to {MAX_DELAY:g}.")
    drop = data.get("drop", False)
    if not isinstance(drop, bool):
        raise FaultSpecError("'drop' must be true or false.")
    body = data.get("body")
    if body is not None and status is None:
        raise FaultSpecError("'body' needs a 'status' to answer it with.")
    if drop and status is not None:
        raise FaultSpecError("Choose 'drop' or 'status': a dropped connection has no status.")
    if status is None and not drop and not delay:
        raise FaultSpecError("A fault needs at least one of 'status', 'delay' or 'drop'.")
    after = data.get("after", False)
    if not isinstance(after, bool):
        raise FaultSpecError("'after' must be true or false.")
    if after and status is None and not drop:
        raise FaultSpecError("'after' loses the real answer: give a 'status' or 'drop' instead.")
    return {
        "path": path,
        "method": method,
        "remaining": count,
        "status": status,
        "delay": float(delay),
        "drop": drop,
        "body": body,
        "after": after,
    }


def error_body(fault: Fault) -> Any:
    """The body a status fault answers with: the given one, or an RFC 6749 error."""
    if fault.body is not None:
        return fault.body
    status = fault.status or 500
    # RFC 6749 section 5.2 / 4.1.2.1: temporarily_unavailable and server_error are the
    # codes a client sees when the server is overloaded or broken.
    if status in (429, 503):
        code = "temporarily_unavailable"
    elif status >= 500:
        code = "server_error"
    else:
        code = "invalid_request"
    return {"error": code, "error_description": f"Injected fault #{fault.id} (HTTP {status})."}


class FaultMiddleware:
    def __init__(self, app: ASGIApp, idp: MockIdP) -> None:
        self.app = app
        self.idp = idp
        self.queue = idp.faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The fast path: a plain list's truthiness, before anything else.
        if not self.queue.pending or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        fault = None if is_control_path(path) else self.queue.take(scope["method"], path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        self.idp.audit.record(
            "fault.injected",
            fault=fault.id,
            method=scope["method"],
            path=path,
            status=fault.status,
            delay=fault.delay,
            drop=fault.drop,
            remaining=fault.remaining,
            after=fault.after,
        )
        if fault.after:
            await self.app(scope, receive, _discard)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            await _drop(send)
        elif fault.status is not None:
            response = JSONResponse(error_body(fault), status_code=fault.status, headers=NO_STORE)
            await response(scope, receive, send)
        else:
            await self.app(scope, receive, send)


async def _discard(message: Message) -> None:
    """A ``send`` that loses the real response of an ``after`` fault."""


async def _drop(send: Send) -> None:
    """Cut the connection mid-response: ASGI has no "abort", but a server closes the
    connection when the app returns without finishing a started response (uvicorn does),
    so the client sees a truncated response (a transport error), never a usable one."""
    await send(
        {
            "type": "http.response.start",
            "status": 502,
            "headers": [(b"content-length", b"64"), (b"connection", b"close")],
        }
    )
