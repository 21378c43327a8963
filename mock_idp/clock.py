"""The mock's own clock: every expiry, the HTTP ``Date`` header and the audit log follow it.

Security reviewers move it (``POST /_mock/clock/advance``) so that 30 days of inactivity
pass in one call instead of 30 days.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class MockClock:
    """Wall time plus an offset, or a frozen instant."""

    offset: float = 0.0
    frozen_at: float | None = None
    wall: Callable[[], float] = field(default=time.time, repr=False)

    def now(self) -> float:
        if self.frozen_at is not None:
            return self.frozen_at
        return self.wall() + self.offset

    def advance(self, seconds: float) -> float:
        if self.frozen_at is not None:
            self.frozen_at += seconds
        else:
            self.offset += seconds
        return self.now()

    def set(self, timestamp: float) -> None:
        if self.frozen_at is not None:
            self.frozen_at = timestamp
        else:
            self.offset = timestamp - self.wall()

    def freeze(self) -> None:
        self.frozen_at = self.now()

    def unfreeze(self) -> None:
        if self.frozen_at is not None:
            self.offset = self.frozen_at - self.wall()
            self.frozen_at = None

    def reset(self) -> None:
        self.offset = 0.0
        self.frozen_at = None

    def to_state(self) -> dict[str, float | None]:
        return {"offset": self.offset, "frozen_at": self.frozen_at}

    def load_state(self, state: dict[str, float | None]) -> None:
        self.offset = float(state.get("offset") or 0.0)
        frozen = state.get("frozen_at")
        self.frozen_at = None if frozen is None else float(frozen)
