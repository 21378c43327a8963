"""RefreshLock: one process at a time refreshes (rotating refresh tokens are single-use).

An advisory lock on ``<config>/refresh.lock``: fcntl.flock on POSIX, msvcrt.locking on
Windows. The OS drops it if the holder dies, so a crash never leaves it stuck.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path
from types import TracebackType

from twg.auth.configdir import ensure_config_dir
from twg.errors import EXIT_TEMPFAIL, ConfigError, StorageError

LOCK_NAME = "refresh.lock"


class LockTimeout(StorageError):
    code = "LOCK_TIMEOUT"
    exit_code = EXIT_TEMPFAIL


class RefreshLock:
    def __init__(self, config_dir: Path, timeout: float = 30.0, poll: float = 0.02) -> None:
        self.path = config_dir / LOCK_NAME
        self.timeout = timeout
        self.poll = poll
        self._fd: int | None = None

    def acquire(self) -> None:
        ensure_config_dir(self.path.parent)
        # Never follow a symbolic link planted as the lock: it could point anywhere.
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ConfigError(
                    f"The refresh lock {self.path} is a symbolic link; twg will not follow it.",
                    f"Remove it (`rm {self.path}`) and run the command again.",
                ) from None
            raise StorageError(
                f"Cannot open the refresh lock {self.path}: {exc.strerror}."
            ) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ConfigError(
                f"The refresh lock {self.path} is not a regular file.",
                "Remove it and run the command again.",
            )
        deadline = time.monotonic() + self.timeout
        while True:
            if _try_lock(fd):
                self._fd = fd
                return
            if time.monotonic() >= deadline:
                os.close(fd)
                raise LockTimeout(
                    f"Another twg process has been refreshing for over {self.timeout:.0f}s.",
                    "Try again in a moment.",
                )
            time.sleep(self.poll)

    def release(self) -> None:
        if self._fd is None:
            return
        _unlock(self._fd)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RefreshLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
