"""Sign-in and device flows in progress, bounded and expiring on the mock's clock.

Anyone can start a flow (``GET /authorize`` needs no credentials), so the table is
capped per kind of flow. A full table refuses new flows with 429 instead of evicting
live ones: a flood of anonymous ``/authorize`` calls can never throw away the sign-in a
person is in the middle of. Flows expire ``ttl`` seconds after they start, by the mock's
clock, and ``/_mock/reset`` drops them all.

It is a ``MutableMapping`` from the flow id (``tx``) to the flow's dict, so the pages
keep using it like the plain dict it replaces.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from mock_idp.clock import MockClock
from mock_idp.errors import OAuthError

INTERACTION_TTL = 600.0  # seconds a person has to finish signing in
MAX_PER_KIND = 2_000


class TooManyInteractions(OAuthError):
    def __init__(self) -> None:
        super().__init__(
            "temporarily_unavailable",
            "Too many sign-ins are in progress; try again in a few minutes.",
            429,
            headers={"Retry-After": "60"},
        )


class Interactions(MutableMapping[str, dict[str, Any]]):
    def __init__(
        self, clock: MockClock, ttl: float = INTERACTION_TTL, max_per_kind: int = MAX_PER_KIND
    ) -> None:
        self._clock = clock
        self.ttl = ttl
        self.max_per_kind = max_per_kind
        # tx -> (started on the mock clock, flow); insertion order = start order.
        self._flows: dict[str, tuple[float, dict[str, Any]]] = {}

    def _live(self, started: float) -> bool:
        age = self._clock.now() - started
        # A clock moved back before the start counts as live; forward past ttl, expired.
        return age <= self.ttl

    def purge(self) -> int:
        """Drop expired flows; returns how many."""
        stale = [tx for tx, (started, _) in self._flows.items() if not self._live(started)]
        for tx in stale:
            del self._flows[tx]
        return len(stale)

    def __getitem__(self, tx: str) -> dict[str, Any]:
        started, flow = self._flows[tx]
        if not self._live(started):
            raise KeyError(tx)  # purged on the next insert
        return flow

    def __setitem__(self, tx: str, flow: dict[str, Any]) -> None:
        if tx in self._flows:  # an update keeps its start time
            self._flows[tx] = (self._flows[tx][0], flow)
            return
        kind = flow.get("kind")
        if sum(1 for _, f in self._flows.values() if f.get("kind") == kind) >= self.max_per_kind:
            self.purge()
            if sum(1 for _, f in self._flows.values() if f.get("kind") == kind) >= (
                self.max_per_kind
            ):
                raise TooManyInteractions()
        self._flows[tx] = (self._clock.now(), flow)

    def __delitem__(self, tx: str) -> None:
        del self._flows[tx]

    def __iter__(self) -> Iterator[str]:
        """Live flows only (a snapshot: callers may delete while iterating)."""
        return iter([tx for tx, (started, _) in self._flows.items() if self._live(started)])

    def __len__(self) -> int:
        return sum(1 for started, _ in self._flows.values() if self._live(started))

    def clear(self) -> None:
        self._flows.clear()
