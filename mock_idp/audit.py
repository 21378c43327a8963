"""The audit log: one entry per protocol event, stamped with the mock's clock.

Entries carry fingerprints (``fp``: the first 12 hex digits of a secret's SHA-256) and
ids, never a raw token, code or key.
"""

from __future__ import annotations

from mock_idp.clock import MockClock
from mock_idp.models import AuditEvent
from mock_idp.store import MemoryStore

# Strings from requests (a User-Agent, a client name) are clipped: a 1 MB header must not
# become a 1 MB audit entry, in memory and in SQLite.
MAX_DETAIL_TEXT = 256


def clip(value: object) -> object:
    """``value`` with every string in it (one level of list or dict) at most
    MAX_DETAIL_TEXT characters."""
    if isinstance(value, str):
        return value if len(value) <= MAX_DETAIL_TEXT else value[:MAX_DETAIL_TEXT] + "..."
    if isinstance(value, list | tuple):
        return [clip(item) if isinstance(item, str) else item for item in value]
    if isinstance(value, dict):
        return {str(clip(k)): clip(v) if isinstance(v, str) else v for k, v in value.items()}
    return value


class AuditLog:
    def __init__(self, store: MemoryStore, clock: MockClock) -> None:
        self._store = store
        self._clock = clock

    def record(self, event: str, **details: object) -> AuditEvent:
        clipped = {name: clip(value) for name, value in details.items()}
        return self._store.add_audit(self._clock.now(), event, clipped)

    def events(self, since_id: int = 0, event_prefix: str | None = None) -> list[AuditEvent]:
        events = self._store.audit(since_id)
        if event_prefix:
            events = [e for e in events if e.event.startswith(event_prefix)]
        return events
