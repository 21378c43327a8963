"""Server time: the local clock corrected by the skew seen in HTTP ``Date`` headers.

Expiry is decided in the server's time, so a wrong local clock (or the mock's moved
clock) does not make the CLI refresh too early or too late.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime


class ServerClock:
    def __init__(self, local_now: Callable[[], float] = time.time, skew: float = 0.0) -> None:
        self.local_now = local_now
        self.skew = skew
        self.observed = False

    def now(self) -> float:
        return self.local_now() + self.skew

    def observe_date_header(self, value: str | None) -> None:
        """Record the skew from an HTTP ``Date`` header (RFC 9110 section 6.6.1)."""
        if not value:
            return
        try:
            server = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError):
            return
        # Date has one-second resolution: ignore sub-second noise around zero skew.
        skew = server - self.local_now()
        self.skew = 0.0 if abs(skew) < 2 else skew
        self.observed = True
