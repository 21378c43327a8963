"""Atomic, private file writes and moving corrupt files aside."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path

from twg.auth.configdir import ensure_config_dir


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` so readers see the old file or the new one, never a mix:
    a temp file in the same directory (same file system), fsync, then os.replace."""
    ensure_config_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # O_EXCL + mode: the secret is never readable by others, not even for a moment.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def move_aside(path: Path) -> Path:
    """Rename a corrupt file to ``<name>.corrupt-<timestamp>`` and return the new path."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, target)
    return target


def probe_writable(directory: Path) -> str | None:
    """None if an atomic save into ``directory`` would work, else the reason it would not."""
    try:
        ensure_config_dir(directory)
        probe = directory / f".twg-write-probe-{secrets.token_hex(4)}"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def stale_temps(directory: Path, names: tuple[str, ...]) -> list[Path]:
    """Temp files ``atomic_write`` left behind for ``names`` (a writer killed mid-save).
    They may hold secrets; only call ``remove_stale_temps`` under the refresh lock, when
    no writer can still be using one."""
    found: list[Path] = []
    for name in names:
        with contextlib.suppress(OSError):
            found.extend(directory.glob(f".{name}.*.tmp"))
    return found


def remove_stale_temps(directory: Path, names: tuple[str, ...]) -> int:
    removed = 0
    for path in stale_temps(directory, names):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed
