"""``upkeep.json`` in the config directory: what upkeep is set to do and what it last did.

Never a token: only flags, times, a backend name, a launcher path and short results.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from twg.auth.atomic import atomic_write, move_aside

FILENAME = "upkeep.json"


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return (
        datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def parse_iso(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass
class UpkeepState:
    enabled: bool = False
    backend: str | None = None  # "systemd", "launchd", "schtasks" or "loop"
    launcher: str | None = None  # the twg the scheduler runs
    interval_seconds: int | None = None
    enabled_at: str | None = None
    last_error: str | None = None  # why enable/disable failed, in the scheduler's words
    last_run: str | None = None
    result: str | None = None  # "refreshed", "fresh", "not_logged_in", "inactive", ...
    detail: str | None = None  # one line for a person
    next_due: str | None = None  # when the next pass will refresh (server time)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def path_in(config_dir: Path) -> Path:
    return config_dir / FILENAME


def load(config_dir: Path) -> UpkeepState:
    """The saved state; a missing file is "never enabled", a corrupt one is moved aside."""
    path = path_in(config_dir)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return UpkeepState()
    except OSError:
        return UpkeepState()
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        known = {f.name for f in fields(UpkeepState)}
        return UpkeepState(**{k: v for k, v in data.items() if k in known})
    except (ValueError, TypeError):
        with contextlib.suppress(OSError):
            move_aside(path)  # kept for a person to look at, never deleted
        return UpkeepState()


def save(config_dir: Path, state: UpkeepState) -> None:
    """Atomic like every other file twg writes; raises OSError when it cannot."""
    body = json.dumps(state.to_json(), indent=2) + "\n"
    atomic_write(path_in(config_dir), body.encode())
