"""Token sets and their lifetimes, always in server time."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

# Refresh once 75% of the access token's lifetime has passed.
REFRESH_AT_FRACTION = 0.75
INACTIVITY_DAYS = 30
# An access token "valid" longer than this is a server bug: trust a year at most.
MAX_LIFETIME = 366 * 86400.0


def lifetime(expires_in: object) -> float | None:
    """``expires_in`` as seconds, clamped to [0, MAX_LIFETIME]; None when it is not a
    number (then the token is used until the API refuses it, and refreshed on the 401).
    A server that already rotated the refresh token must never cost the session over
    a malformed field, so this never raises."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float | str):
        return None
    try:
        seconds = float(expires_in)
    except (ValueError, OverflowError):  # "soon"; an integer too big for a float
        return None
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_LIFETIME)


@dataclass
class TokenSet:
    access_token: str
    refresh_token: str | None
    issued_at: float  # server time
    expires_at: float | None  # server time; None when the server did not say
    scope: str = ""
    token_type: str = "Bearer"  # noqa: S105 - a scheme name, not a secret

    @classmethod
    def from_response(
        cls, data: dict[str, Any], server_now: float, previous_refresh: str | None = None
    ) -> TokenSet:
        seconds = lifetime(data.get("expires_in"))
        refresh = data.get("refresh_token")
        scope = data.get("scope")
        return cls(
            access_token=str(data["access_token"]),
            # OAuth 2.1 section 4.3.1: when no new refresh token is issued, keep the old one.
            refresh_token=refresh if isinstance(refresh, str) and refresh else previous_refresh,
            issued_at=server_now,
            expires_at=server_now + seconds if seconds is not None else None,
            scope=scope if isinstance(scope, str) else "",
            token_type=str(data.get("token_type", "Bearer")),
        )

    @property
    def refresh_after(self) -> float | None:
        if self.expires_at is None:
            return None
        return self.issued_at + (self.expires_at - self.issued_at) * REFRESH_AT_FRACTION

    def needs_refresh(self, server_now: float) -> bool:
        after = self.refresh_after
        return after is not None and server_now >= after

    def expired(self, server_now: float) -> bool:
        return self.expires_at is not None and server_now >= self.expires_at


def fingerprint(secret: str | None) -> str | None:
    """A short non-reversible tag to tell tokens apart without storing them."""
    if not secret:
        return None
    return hashlib.sha256(secret.encode()).hexdigest()[:12]
