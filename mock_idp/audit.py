"""The audit log: one entry per protocol event, stamped with the mock's clock.

Entries carry fingerprints (``fp``: the first 12 hex digits of a secret's SHA-256) and
ids, never a raw token, code or key.
"""

from __future__ import annotations

from mock_idp.clock import MockClock
from mock_idp.models import AuditEvent
from mock_idp.store import MemoryStore


class AuditLog:
    def __init__(self, store: MemoryStore, clock: MockClock) -> None:
        self._store = store
        self._clock = clock

    def record(self, event: str, **details: object) -> AuditEvent:
        return self._store.add_audit(self._clock.now(), event, details)

    def events(self, since_id: int = 0, event_prefix: str | None = None) -> list[AuditEvent]:
        events = self._store.audit(since_id)
        if event_prefix:
            events = [e for e in events if e.event.startswith(event_prefix)]
        return events
