"""Making a config directory read-only for real, as a coding agent's sandbox does.

Root ignores file modes (and CI runs as root), so as root a mode change alone proves
nothing: ``read_only`` wraps a ``twg`` subprocess in a private mount namespace with a
read-only bind mount; ``make_read_only`` (for ``twg`` run in-process) adds
``chattr +i``. Where neither is possible the test is skipped with the reason, which
the no-silent-skips hook turns into a failure under CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Mount the directory read-only over itself, visible to this command only.
RO_MOUNT = 'mount --bind -o ro "$1" "$1" && shift && exec "$@"'


@contextmanager
def read_only(path: Path) -> Iterator[list[str]]:
    """The wrapper that runs a command with ``path`` read-only."""
    if os.geteuid() != 0:
        os.chmod(path, 0o500)
        try:
            yield []
        finally:
            os.chmod(path, 0o700)
        return
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("running as root without util-linux unshare: cannot make a dir read-only")
    probe = subprocess.run(
        [unshare, "-m", "sh", "-c", RO_MOUNT, "sh", str(path), "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"running as root without mount namespaces: {probe.stderr.strip()}")
    yield [unshare, "-m", "sh", "-c", RO_MOUNT, "sh", str(path)]


def make_read_only(path: Path) -> None:
    """``path`` read-only for this process too (undo with ``make_writable``)."""
    os.chmod(path, 0o500)
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if done.returncode != 0:
            os.chmod(path, 0o700)
            pytest.skip("running as root on a file system without chattr +i")


def make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True, check=False)
    os.chmod(path, 0o700)
