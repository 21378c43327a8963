"""The config directory holds secrets and the metadata that says where tokens go, so
nobody but its owner may be able to change what is in it.

An existing directory is used only when it is a real directory (not a symbolic link)
owned by the current user. One that others can write to is tightened to 0700 when it
is ours, after checking that nothing in it was planted by someone else; anything else
is refused with a message that says how to fix it. Nothing is ever deleted here.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from twg.errors import ConfigError


class UnsafeConfigDir(ConfigError):
    code = "UNSAFE_CONFIG_DIR"


def ensure_config_dir(path: Path) -> None:
    """Create ``path`` (0700) if it is missing, then check it as ``check_config_dir``."""
    if os.name == "posix":
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700, parents=True)
    else:  # pragma: no cover - Windows: ACLs of %APPDATA% are per user already
        path.mkdir(parents=True, exist_ok=True)
    check_config_dir(path)


def check_config_dir(path: Path) -> None:
    """Refuse (or tighten, if it is ours) a directory others could tamper with.

    A missing directory passes: it is created 0700 on the first save."""
    if os.name != "posix":  # pragma: no cover
        return
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UnsafeConfigDir(
            f"Cannot inspect the config directory {path}: {exc.strerror or exc}."
        ) from None
    fix = "Set TWG_CONFIG_DIR to a directory of your own (e.g. one made by `mktemp -d`)."
    if stat.S_ISLNK(st.st_mode):
        raise UnsafeConfigDir(
            f"The config directory {path} is a symbolic link; twg keeps credentials only "
            "in a real directory.",
            fix,
        )
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeConfigDir(f"The config directory {path} is not a directory.", fix)
    uid = os.geteuid()
    if st.st_uid != uid:
        raise UnsafeConfigDir(
            f"The config directory {path} belongs to another user (uid {st.st_uid}); "
            "whoever owns it could read or replace your credentials.",
            fix,
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        # Others could have planted files while it was open: tighten only when every
        # entry is ours, so a swapped auth.conf or a planted symlink is never trusted.
        planted = _entries_not_ours(path, uid)
        if planted:
            names = ", ".join(sorted(planted)[:5])
            raise UnsafeConfigDir(
                f"The config directory {path} is writable by others (mode "
                f"{stat.S_IMODE(st.st_mode):04o}) and holds entries that are not yours or "
                f"are symbolic links: {names}.",
                f"Check and remove them, then run `chmod 700 {path}`; or {fix[0].lower()}{fix[1:]}",
            )
        try:
            os.chmod(path, 0o700)
        except OSError as exc:
            raise UnsafeConfigDir(
                f"The config directory {path} is writable by others (mode "
                f"{stat.S_IMODE(st.st_mode):04o}) and could not be tightened: "
                f"{exc.strerror or exc}.",
                f"Run `chmod 700 {path}`.",
            ) from None


def _entries_not_ours(path: Path, uid: int) -> list[str]:
    odd: list[str] = []
    try:
        names = os.listdir(path)
    except OSError:
        return ["(unreadable directory)"]
    for name in names:
        try:
            st = os.lstat(path / name)
        except FileNotFoundError:
            continue
        if st.st_uid != uid or stat.S_ISLNK(st.st_mode):
            odd.append(name)
    return odd
