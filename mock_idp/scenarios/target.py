"""Where scenarios run: a mock this process starts on a loopback socket, or ``--against``
a running one (the Compose service). Both are driven through the same HTTP control API.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from mock_idp.control_client import MockIdPClient

if TYPE_CHECKING:
    from mock_idp.server import BackgroundServer
    from mock_idp.settings import Settings
    from mock_idp.store import MemoryStore


class TargetError(Exception):
    """The mock cannot be used (unreachable, refuses the control token, cannot restart)."""


def control_token_from_env(environ: dict[str, str] | None = None) -> str | None:
    """The control token the BRIEF's convention names: the variable, or the file."""
    env = os.environ if environ is None else environ
    token = env.get("TWG_MOCK_CONTROL_TOKEN")
    if token:
        return token
    path = env.get("TWG_MOCK_CONTROL_TOKEN_FILE")
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        # A mock without a token file has no token; a mock that wants one answers 401,
        # which names both variables.
        return None
    except OSError as exc:
        raise TargetError(
            f"cannot read the control token file {path} (TWG_MOCK_CONTROL_TOKEN_FILE): "
            f"{exc.strerror}"
        ) from None
    return text or None


class MockControl:
    """HTTP to one mock: the control API (with its token) and any other endpoint.

    The HTTP is the plugin's ``MockIdPClient``'s (the token goes only on ``/_mock/``
    requests); what this adds is the runner's errors: a ``TargetError`` that says what
    to do, never an exception from httpx."""

    def __init__(self, url: str, control_token: str | None) -> None:
        self._client = MockIdPClient(url, control_token=control_token)
        self.url = self._client.url

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Any request (``MockIdPClient.request``: control POSTs are JSON even without a
        body), with httpx's errors as TargetError."""
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TargetError(
                f"{method} {self.url}{path} failed: {exc or type(exc).__name__}"
            ) from None

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """A control call that must succeed; its JSON answer."""
        response = (
            self.request(method, path, json=body)
            if body is not None
            else self.request(method, path)  # JSON all the same: see request()
        )
        if response.status_code == 401:
            raise TargetError(
                f"the mock at {self.url} wants a control token: set TWG_MOCK_CONTROL_TOKEN or "
                "TWG_MOCK_CONTROL_TOKEN_FILE"
            )
        if response.status_code >= 400:
            raise TargetError(
                f"{method} {path} answered HTTP {response.status_code}: {_reason(response)}"
            )
        try:
            return response.json()
        except ValueError:
            raise TargetError(f"{method} {path} did not answer JSON") from None

    def reset(self) -> None:
        self.control("POST", "/_mock/reset")

    def settings(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.control("GET", "/_mock/settings")
        return answer

    def restore_settings(self, baseline: dict[str, Any]) -> None:
        """Put back every setting an earlier scenario changed: a reset restores the
        world, not the settings, and a scenario must not inherit another's."""
        current = self.settings()
        changed = {k: v for k, v in baseline.items() if current.get(k) != v}
        if changed:
            self.control("PATCH", "/_mock/settings", changed)

    def audit(self, since: int = 0) -> list[dict[str, Any]]:
        events = self.control("GET", f"/_mock/audit?since={since}")["events"]
        return list(events)

    def last_audit_id(self) -> int:
        events = self.audit()
        return int(events[-1]["id"]) if events else 0


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "error_description" in body:
        return str(body["error_description"])
    return response.text[:200]


class RemoteTarget:
    """A mock someone else runs; the runner can reset it but not restart it."""

    in_process = False

    def __init__(self, url: str, control_token: str | None) -> None:
        self.url = url.rstrip("/")
        self._token = control_token
        self.description = f"the mock at {self.url}"
        self._baseline: dict[str, Any] | None = None

    def open(self) -> MockControl:
        control = MockControl(self.url, self._token)
        try:
            control.reset()
            if self._baseline is None:
                self._baseline = control.settings()  # as the mock was before the run
            control.restore_settings(self._baseline)
        except TargetError:
            control.close()
            raise
        return control

    def start_scenario(self, own_mock: bool) -> MockControl:
        if own_mock:
            raise TargetError("this scenario restarts the mock, which needs the in-process mock")
        return self.open()

    def restart(self) -> None:
        raise TargetError(
            "restart_mock needs the in-process mock: the runner cannot restart a mock it did "
            "not start (--against); run this scenario without --against"
        )

    def end_scenario(self) -> None:
        pass

    def close(self) -> None:
        """Leave the mock as a fresh one with the settings it had before the run: the
        seeded world on the wall clock, not the last scenario's moved clock and sessions."""
        if self._baseline is None:
            return
        control = MockControl(self.url, self._token)
        try:
            control.reset()
            control.restore_settings(self._baseline)
        except TargetError:
            pass  # the run is over; the next run (or a reset by its owner) restores them
        finally:
            control.close()

    def __enter__(self) -> RemoteTarget:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class InProcessTarget:
    """The mock on a 127.0.0.1 socket in this process (``BackgroundServer``), with a
    random control token. A scenario that restarts the mock gets one of its own with
    SQLite state in a temporary directory, restarted on the same port (the CLI keeps
    the issuer URL, port included)."""

    in_process = True

    def __init__(self) -> None:
        self._token = secrets.token_urlsafe(24)
        self._shared = self._start(None)
        self._own: BackgroundServer | None = None
        self._own_dir: Path | None = None
        self._own_store: MemoryStore | None = None
        self._own_settings: Settings | None = None
        self._baseline: dict[str, Any] | None = None
        self.description = "the in-process mock"

    @property
    def url(self) -> str:
        return (self._own or self._shared).url

    def _settings(self) -> Settings:
        from mock_idp.settings import Settings

        return Settings(control_token=self._token)

    def _start(
        self, state: str | None, settings: Settings | None = None, port: int = 0
    ) -> BackgroundServer:
        from mock_idp.app import create_app
        from mock_idp.server import BackgroundServer
        from mock_idp.store import open_store

        settings = settings or self._settings()
        store = open_store(state, settings.audit_limit)
        if state is not None:
            self._own_store, self._own_settings = store, settings
        return BackgroundServer(create_app(settings, store), port=port).start()

    def start_scenario(self, own_mock: bool) -> MockControl:
        if own_mock:
            self._own_dir = Path(tempfile.mkdtemp(prefix="twg-scenario-mock-"))
            self._own = self._start(self._sqlite())
        control = MockControl(self.url, self._token)
        try:
            control.reset()
            if self._own is None:
                if self._baseline is None:
                    self._baseline = control.settings()
                control.restore_settings(self._baseline)
        except TargetError:
            control.close()
            raise
        return control

    def _sqlite(self) -> str:
        assert self._own_dir is not None
        return f"sqlite:{self._own_dir / 'mock-idp.sqlite3'}"

    def restart(self) -> None:
        if self._own is None:
            raise TargetError("restart_mock: this scenario's mock has no SQLite state")
        port = self._own.port
        self._own.stop()
        if self._own_store is not None:
            self._own_store.close()
        # Settings are the mock's start-up configuration: the same object comes back.
        self._own = self._start(self._sqlite(), self._own_settings, port=port)

    def end_scenario(self) -> None:
        if self._own is not None:
            self._own.stop()
            self._own = None
        if self._own_store is not None:
            self._own_store.close()
            self._own_store = None
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)
            self._own_dir = None

    def close(self) -> None:
        self.end_scenario()
        self._shared.stop()

    def __enter__(self) -> InProcessTarget:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
