"""The last-use marker: every command that uses the session says "someone used twg now".

It has to be writable where a coding agent's sandbox runs, which usually cannot write
the config directory (~/.config/twg) but can write a state or temporary directory. So
the marker goes to the first of these that accepts it, and the reader takes the newest
of all of them:

1. ``$XDG_STATE_HOME/twg/last-use`` (``~/.local/state/twg/last-use``);
2. ``$XDG_RUNTIME_DIR/twg/last-use`` (per-user, tmpfs, 0700 by the login manager);
3. ``$TMPDIR/twg-<uid>/last-use`` (``/tmp`` when TMPDIR is unset): only a directory
   this user owns and nobody else can write is used, so another user of a shared
   /tmp can neither plant use nor read it.

It holds one time and nothing secret. Recording is best effort and silent: a command
never fails because use could not be recorded (then upkeep sees no use and, after the
inactivity window, lets the session expire, which is the safe side).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from twg.auth.atomic import atomic_write

MARKER = "last-use"
# Inactivity is counted in days: rewriting the marker more often than this is wasted I/O.
REWRITE_AFTER = 300.0


def _uid() -> int | None:
    getuid = getattr(os, "getuid", None)
    return int(getuid()) if getuid is not None else None


def marker_dirs(environ: Mapping[str, str]) -> list[Path]:
    """Where the marker may live, most durable first."""
    home = Path(environ.get("HOME") or os.path.expanduser("~"))
    dirs: list[Path] = []
    if sys.platform == "win32":
        base = environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        dirs.append(Path(base) / "twg" / "state")
    else:
        dirs.append(Path(environ.get("XDG_STATE_HOME") or home / ".local" / "state") / "twg")
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime:
        dirs.append(Path(runtime) / "twg")
    uid = _uid()
    tmp = environ.get("TMPDIR") or tempfile.gettempdir()
    dirs.append(Path(tmp) / (f"twg-{uid}" if uid is not None else "twg"))
    return dirs


def _private(path: Path) -> bool:
    """A real directory or file of ours that nobody else can write (shared /tmp)."""
    uid = _uid()
    if uid is None:
        return True
    try:
        info = path.lstat()
    except OSError:
        return False
    return (
        not stat.S_ISLNK(info.st_mode)
        and info.st_uid == uid
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _read(path: Path) -> float | None:
    if not _private(path.parent) or not _private(path):
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return float(data["last_use"])
    except (OSError, ValueError, TypeError, KeyError):
        return None


def last_use(environ: Mapping[str, str]) -> tuple[float, Path] | None:
    """The newest recorded use and where it was found."""
    found: tuple[float, Path] | None = None
    for directory in marker_dirs(environ):
        path = directory / MARKER
        at = _read(path)
        if at is not None and (found is None or at > found[0]):
            found = (at, path)
    return found


def record_use(environ: Mapping[str, str], now: float) -> Path | None:
    """Note a use of the session at ``now`` (machine time); None when nowhere accepted it."""
    seen = last_use(environ)
    if seen is not None and 0 <= now - seen[0] < REWRITE_AFTER:
        return seen[1]
    body = json.dumps({"last_use": now}).encode()
    for directory in marker_dirs(environ):
        with contextlib.suppress(OSError):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not _private(directory):
                continue
            path = directory / MARKER
            atomic_write(path, body)
            return path
    return None
