"""When an upkeep pass refreshes, and when it stops because nobody uses twg any more.

Pure functions of times: token times are the server's clock, use times the machine's.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from twg.auth.tokens import INACTIVITY_DAYS, TokenSet
from twg.errors import ConfigError

DAY = 86400
# The public TWG CLI docs: every 12 minutes, refresh once the threshold is within 15.
# 15 > 12, so some pass always lands before the threshold: foreground commands never
# find a token that is due while upkeep runs.
INTERVAL = 12 * 60
REFRESH_LEAD = 15 * 60
INACTIVITY_ENV = "TWG_UPKEEP_INACTIVITY_DAYS"


class Action(enum.Enum):
    NOT_LOGGED_IN = "not_logged_in"  # after `twg logout`: no auth work at all
    NO_SESSION = "no_session"  # a delegated token or a session already ended
    INACTIVE = "inactive"  # nobody used twg for the window: end the session
    REFRESH = "refresh"
    WAIT = "wait"  # not due yet


@dataclass(frozen=True)
class Policy:
    interval: float = INTERVAL
    lead: float = REFRESH_LEAD
    inactivity: float = INACTIVITY_DAYS * DAY

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Policy:
        raw = environ.get(INACTIVITY_ENV, "").strip()
        if not raw:
            return cls()
        try:
            days = float(raw)
        except ValueError:
            days = -1.0
        if not 0 < days <= 3650:
            raise ConfigError(
                f"{INACTIVITY_ENV}={raw!r} is not a number of days above 0 and at most 3650.",
                f"Unset {INACTIVITY_ENV} for the default of {INACTIVITY_DAYS} days.",
            )
        return cls(inactivity=days * DAY)

    @property
    def inactivity_days(self) -> float:
        return self.inactivity / DAY

    def stops_at(self, last_use: float) -> float:
        """When upkeep stops keeping the session alive if nobody uses twg before then."""
        return last_use + self.inactivity

    def refresh_at(self, tokens: TokenSet) -> float | None:
        """Server time from which a pass refreshes: the threshold minus the lead."""
        after = tokens.refresh_after
        return None if after is None else after - self.lead

    def decide(
        self,
        tokens: TokenSet | None,
        server_now: float,
        last_use: float | None,
        local_now: float,
    ) -> Action:
        if tokens is None:
            return Action.NOT_LOGGED_IN
        if not tokens.refresh_token:
            return Action.NO_SESSION
        if last_use is not None and local_now >= self.stops_at(last_use):
            return Action.INACTIVE
        due = self.refresh_at(tokens)
        if due is not None and server_now >= due:
            return Action.REFRESH
        return Action.WAIT
