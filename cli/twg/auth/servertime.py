"""Server time: the local clock corrected by the skew seen in HTTP ``Date`` headers.

Expiry is decided in the server's time, so a wrong local clock (or the mock's moved
clock) does not make the CLI refresh too early or too late.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from pathlib import Path

from twg.auth.atomic import atomic_write

# The last skew seen, kept between runs so that a command with no network (status) or
# one that decides before its first request (api) still judges expiry in server time.
FILENAME = "server-time.json"
# Re-save only when the skew moved by more than this: Date has one-second resolution.
SAVE_THRESHOLD = 5.0
# A skew beyond this is a broken file or header, not a clock: ignore it.
MAX_SKEW = 10 * 366 * 86400.0


def usable_skew(value: object) -> float | None:
    """``value`` as a skew if it is a finite, plausible number of seconds, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        skew = float(value)
    except ValueError:
        return None
    if not math.isfinite(skew) or abs(skew) > MAX_SKEW:
        return None
    return skew


class ServerClock:
    def __init__(self, local_now: Callable[[], float] = time.time, skew: float = 0.0) -> None:
        self.local_now = local_now
        self.skew = skew
        self.observed = False
        # Skew read from server-time.json, if any: it outranks older values in auth.conf.
        self.persisted: float | None = None

    def load(self, config_dir: Path) -> None:
        """Start from the skew a previous run saved (unless one was observed already)."""
        try:
            data = json.loads((config_dir / FILENAME).read_bytes().decode("utf-8"))
        except (OSError, ValueError):
            return
        # NaN, Infinity or nonsense: a broken cache, not a clock. Start from zero.
        skew = usable_skew(data.get("skew")) if isinstance(data, dict) else None
        if skew is None:
            return
        self.persisted = skew
        if not self.observed:
            self.skew = skew

    def save(self, config_dir: Path) -> None:
        """Keep an observed skew for the next run; best effort (a read-only dir is fine)."""
        if not self.observed or not config_dir.is_dir():
            return
        if self.persisted is not None and abs(self.skew - self.persisted) < SAVE_THRESHOLD:
            return
        if self.persisted is None and abs(self.skew) < SAVE_THRESHOLD:
            return
        try:
            atomic_write(config_dir / FILENAME, json.dumps({"skew": self.skew}).encode())
        except OSError:
            return
        self.persisted = self.skew

    def set_skew(self, value: object) -> None:
        """Adopt a saved skew, ignoring one that is not a finite, plausible number."""
        skew = usable_skew(value)
        if skew is not None:
            self.skew = skew

    def now(self) -> float:
        return self.local_now() + self.skew

    def observe_date_header(self, value: str | None) -> None:
        """Record the skew from an HTTP ``Date`` header (RFC 9110 section 6.6.1)."""
        if not value:
            return
        try:
            server = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        # Date has one-second resolution: ignore sub-second noise around zero skew.
        skew = server - self.local_now()
        self.skew = 0.0 if abs(skew) < 2 else skew
        self.observed = True
