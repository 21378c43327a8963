"""The mock's runtime: settings, state, clock, audit log and sessions, shared by every route."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Scope

from mock_idp.audit import AuditLog
from mock_idp.clock import MockClock
from mock_idp.faults import FaultQueue
from mock_idp.interactions import Interactions
from mock_idp.seed import DEFAULT_SEED, apply_seed
from mock_idp.sessions import Sessions
from mock_idp.settings import Settings
from mock_idp.store import MemoryStore

if TYPE_CHECKING:
    from joserfc.jwk import RSAKey

CLOCK_META = "clock"
SETTINGS_META = "settings"
# Settings that PATCH /_mock/settings may change (control.py validates them); kept with
# the state, and restored to their start-up values by reset.
RUNTIME_SETTINGS = (
    "issuer",
    "access_token_ttl",
    "refresh_idle_ttl",
    "refresh_absolute_ttl",
    "refresh_reuse_grace",
    "auth_code_ttl",
    "device_code_ttl",
    "device_poll_interval",
    "invalid_grant_status",
    "client_address_override",
)


@dataclass
class MockIdP:
    settings: Settings
    store: MemoryStore
    clock: MockClock = field(default_factory=MockClock)
    # Sign-in/consent flows in progress, by unguessable id (not persisted: a restart
    # simply asks the person to start again). Bounded, expiring on the mock clock.
    interactions: Interactions = field(init=False)
    # Faults queued through /_mock/faults for the next matching calls (memory only).
    faults: FaultQueue = field(default_factory=FaultQueue)
    # The OpenID Connect signing key, made on first use (see oidc.signing_key).
    signing_key: RSAKey | None = None
    audit: AuditLog = field(init=False)
    sessions: Sessions = field(init=False)
    # The runtime settings as started (config file and environment), for reset.
    started_settings: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.interactions = Interactions(self.clock)
        self.audit = AuditLog(self.store, self.clock)
        self.sessions = Sessions(self.store, self.clock, self.settings, self.audit)
        self.started_settings = {name: getattr(self.settings, name) for name in RUNTIME_SETTINGS}
        saved_clock = self.store.get_meta(CLOCK_META)
        if saved_clock is not None:
            self.clock.load_state(saved_clock)
        saved_settings = self.store.get_meta(SETTINGS_META)
        if saved_settings is not None:
            # Written by save_settings from validated values: only known names are read.
            for name in RUNTIME_SETTINGS:
                if name in saved_settings:
                    setattr(self.settings, name, saved_settings[name])
        if not self.store.has_world():
            self.seed_defaults()

    def seed_defaults(self) -> None:
        apply_seed(self.store, self.settings.seed or DEFAULT_SEED, self.clock.now())

    def reset(self) -> None:
        """Back to a fresh start: seed world, no sessions or sign-ins in progress, empty
        audit log, wall clock, the settings the mock started with."""
        self.store.clear()
        self.interactions.clear()
        for name, value in self.started_settings.items():
            setattr(self.settings, name, value)
        self.clock.reset()
        self.save_clock()
        self.seed_defaults()
        self.audit.record("mock.reset")

    def save_clock(self) -> None:
        self.store.set_meta(CLOCK_META, self.clock.to_state())

    def save_settings(self) -> None:
        """Keep the runtime settings with the state (``--state sqlite:``)."""
        self.store.set_meta(
            SETTINGS_META, {name: getattr(self.settings, name) for name in RUNTIME_SETTINGS}
        )

    def issuer(self, request: Request) -> str:
        """The issuer URL: configured, or this request's base URL (RFC 8414 section 2)."""
        return self.issuer_of_scope(request.scope)

    def issuer_of_scope(self, scope: Scope, host: str | None = None) -> str:
        """``issuer`` from the bare ASGI scope: the token endpoint's fast path has no
        Request, and Starlette's ``base_url`` costs several times the rest of this."""
        if self.settings.issuer:
            return self.settings.issuer.rstrip("/")
        scheme = scope.get("scheme", "http")
        if host is None:
            host = Headers(scope=scope).get("host")
        if not host:
            name, port = scope.get("server") or ("localhost", 80)
            default = (scheme, port) in (("http", 80), ("https", 443))
            host = name if default else f"{name}:{port}"
        return f"{scheme}://{host}{scope.get('root_path', '')}".rstrip("/")


def get_idp(request: Request) -> MockIdP:
    """FastAPI dependency: the MockIdP of the app serving this request."""
    idp: MockIdP = request.app.state.idp
    return idp
