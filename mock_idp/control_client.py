"""A client of a running mock IdP: its control API (``/_mock/``) and its base URL.

What the pytest plugin's ``mock_idp`` and ``mock_idp_container`` fixtures hand to a
test, and what the e2e suite drives the Compose mock with. It imports no pytest.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from mock_idp import CONTROL_PREFIX, is_control_path
from twg.lazy_tls import trust_store

if TYPE_CHECKING:
    from mock_idp.idp import MockIdP
    from mock_idp.server import BackgroundServer


class _ControlToken(httpx.Auth):
    """The control token on control requests only: the mock's other endpoints (the
    token endpoint reads ``Authorization`` as client authentication) never see it."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if is_control_path(request.url.path):
            request.headers.setdefault("Authorization", self._header)
        yield request


class MockIdPError(AssertionError):
    """A control request the mock refused: the message carries its answer."""


class MockIdPClient:
    """A mock IdP driven over HTTP: the control API, plus the mock's base URL.

    ``idp`` is the in-process ``MockIdP`` when the mock runs in this process (the
    ``mock_idp`` fixture) and None for a container; tests meant to run against both use
    only the HTTP helpers.
    """

    def __init__(
        self,
        url: str,
        *,
        control_token: str | None = None,
        idp: MockIdP | None = None,
        server: BackgroundServer | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.idp = idp
        self.server = server
        self.http = httpx.Client(
            base_url=self.url,
            auth=_ControlToken(control_token) if control_token else None,
            timeout=30.0,
            verify=trust_store(),
        )
        self.clock = _Clock(self)
        self.faults = _Faults(self)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Any request to the mock; a control POST, PUT or PATCH without a body sends an
        empty JSON object (the control API refuses anything else: 415)."""
        body_keys = {"json", "content", "data", "files"}
        if (
            is_control_path(path)
            and method.upper() in {"POST", "PUT", "PATCH"}
            and not body_keys & kwargs.keys()
        ):
            kwargs["json"] = {}
        return self.http.request(method, path, **kwargs)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call ``/_mock/<path>``; the decoded JSON answer, or MockIdPError."""
        body_args = {} if body is None else {"json": body}
        response = self.request(method, f"{CONTROL_PREFIX}/{path.lstrip('/')}", **body_args)
        if response.status_code >= 400:
            raise MockIdPError(
                f"{method} /_mock/{path} answered {response.status_code}: {response.text}"
            )
        return response.json()

    def reset(self) -> None:
        """Back to the seeded world: sessions, audit log, clock and faults."""
        self.control("POST", "reset")

    def seed(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """Add orgs, users, sites or clients (the seed format of docs/)."""
        return dict(self.control("POST", "seed", dict(document)))

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Change runtime settings (``device_poll_interval=0`` ...); all settings with
        no arguments."""
        if not changes:
            return dict(self.control("GET", "settings"))
        return dict(self.control("PATCH", "settings", changes))

    def audit(self, event: str | None = None, *, since: int = 0) -> list[dict[str, Any]]:
        """Audit events (oldest first) after the event numbered ``since``, only those
        whose name starts with ``event``."""
        query = f"audit?since={since}" + (f"&event={event}" if event else "")
        return list(self.control("GET", query)["events"])

    def last_audit_id(self) -> int:
        """The number of the newest audit event (0 for none): ``audit(since=...)`` of it
        later gives what happened in between."""
        events = self.audit()
        return int(events[-1]["id"]) if events else 0

    def stop(self) -> None:
        """Stop the in-process server (to test what clients do when the IdP is gone)."""
        if self.server is None:
            raise RuntimeError("only the in-process mock can be stopped from here")
        self.server.stop()

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> MockIdPClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class _Clock:
    mock: MockIdPClient

    def now(self) -> float:
        return float(self.mock.control("GET", "clock")["now"])

    def advance(self, seconds: float) -> float:
        return float(self.mock.control("POST", "clock/advance", {"seconds": seconds})["now"])

    def set(self, time: float | str) -> float:
        """Set the mock's time: a Unix timestamp or an ISO 8601 string."""
        return float(self.mock.control("POST", "clock/set", {"time": time})["now"])

    def freeze(self) -> float:
        return float(self.mock.control("POST", "clock/freeze")["now"])

    def unfreeze(self) -> float:
        return float(self.mock.control("POST", "clock/unfreeze")["now"])


@dataclass
class _Faults:
    mock: MockIdPClient

    def add(self, path: str, **spec: Any) -> dict[str, Any]:
        """Queue a fault: ``add("/oauth/token", status=503, count=2)``, ``drop=True``,
        ``delay=...``, ``after=True`` (the route runs, its answer is lost)."""
        return dict(self.mock.control("POST", "faults", {"path": path, **spec}))

    def pending(self) -> list[dict[str, Any]]:
        return list(self.mock.control("GET", "faults")["faults"])

    def clear(self) -> None:
        self.mock.control("DELETE", "faults")
