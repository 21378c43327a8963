"""The control token file (``serve --control-token-file``): read it, or make one.

Compose mounts one volume in the mock and in its clients; the mock writes a fresh random
token there (0600, atomically) the first time, and every later start and every client
reads the same file. So a Compose mock is never left without a control token.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mock_idp.secrets_util import new_secret

ENV_VAR = "TWG_MOCK_CONTROL_TOKEN_FILE"
MAX_TOKEN_LENGTH = 4096


class ControlTokenError(ValueError):
    """The token file cannot be read or written; the message says which and why."""


def load_or_create(path: Path) -> str:
    """The token in ``path``; when the file is absent, a new one written there 0600."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _create(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ControlTokenError(f"cannot read control token file {path}: {exc}") from None
    token = text.strip()
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isprintable() or " " in token:
        raise ControlTokenError(
            f"control token file {path} must hold one token (printable, no spaces); "
            "delete it to have a new one made"
        )
    return token


def _create(path: Path) -> str:
    token = new_secret(32)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".control-token.", dir=path.parent)
    except OSError as exc:
        raise ControlTokenError(f"cannot create control token file {path}: {exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
            handle.write(token + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise ControlTokenError(f"cannot write control token file {path}: {exc}") from None
    return token
