"""Where secrets live: the OS keyring (every call under a timeout) or a 0600 file.

Secrets are each issuer's token set (access and refresh token, saved together as ONE
entry so a crash can never leave half a set) and the Bitbucket token. The file store
is used when there is no usable keyring (keyring's ``fail`` backend, headless Linux,
containers) or when TWG_CREDENTIAL_STORE=file; commands name it plainly. A keyring that
TIMES OUT is an error, never a silent switch to the file store.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

from twg.auth.atomic import atomic_write, move_aside, probe_writable
from twg.auth.auth_conf import CorruptFile
from twg.errors import KeyringLocked, KeyringTimeout, StorageError

SERVICE = "twg"
SECRET_KEYS = ("access_token", "refresh_token", "bitbucket_token")
# Version 1 kept one session's tokens under these flat names; migration moves them.
LEGACY_TOKEN_KEYS = ("access_token", "refresh_token")
TOKEN_ENTRY_PREFIX = "tokens:"  # noqa: S105 - an entry name, not a secret
FILE_NAME = "credentials"
DEFAULT_KEYRING_TIMEOUT = 5.0

T = TypeVar("T")


class CredentialStore(Protocol):
    name: str  # "keyring" or "file"

    def describe(self) -> str: ...
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str) -> None: ...
    def delete(self, key: str) -> None: ...
    def get_tokens(self, issuer: str) -> dict[str, str] | None: ...
    def set_tokens(self, issuer: str, tokens: dict[str, str] | None) -> None: ...
    def unwritable_reason(self) -> str | None: ...


def _token_set(value: object) -> dict[str, str] | None:
    """A stored token set, or None if ``value`` is not one (never raises)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict):
        return None
    tokens = {str(k): v for k, v in value.items() if isinstance(v, str) and v}
    return tokens or None


def run_with_timeout(func: Callable[[], T], timeout: float, what: str) -> T:
    """Run ``func`` in a daemon thread: a hung keyring (a D-Bus prompt no one sees)
    must not hang the CLI, and a daemon thread does not block exit either."""
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(func())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target, name="twg-keyring", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise KeyringTimeout(
            f"The system keyring did not answer within {timeout:g}s ({what}).",
            "Unlock your keyring and try again, or set TWG_CREDENTIAL_STORE=file to "
            "keep credentials in a private file instead.",
        )
    if error:
        raise error[0]
    return result[0]


class KeyringStore:
    name = "keyring"
    service = SERVICE  # the keyring service name; admin keys use their own

    def __init__(self, backend: Any, timeout: float = DEFAULT_KEYRING_TIMEOUT) -> None:
        self.backend = backend
        self.timeout = timeout

    def describe(self) -> str:
        cls = type(self.backend)
        return f"system keyring ({cls.__module__}.{cls.__name__})"

    def _call(self, func: Callable[[], T], what: str) -> T:
        try:
            return run_with_timeout(func, self.timeout, what)
        except KeyringTimeout:
            raise
        except Exception as exc:
            if type(exc).__name__ == "KeyringLocked":  # keyring.errors, imported lazily
                raise KeyringLocked(
                    f"The system keyring is locked, so twg could not finish {what}; "
                    "nothing was changed.",
                    "Unlock it (log in to your desktop session or run your keyring's "
                    "unlock command) and try again, or set TWG_CREDENTIAL_STORE=file.",
                ) from None
            raise StorageError(
                f"The system keyring failed while {what} ({type(exc).__name__}).",
                "Set TWG_CREDENTIAL_STORE=file to use a private file instead.",
            ) from None

    def get(self, key: str) -> str | None:
        value = self._call(lambda: self.backend.get_password(self.service, key), f"reading {key}")
        return value if isinstance(value, str) and value else None

    def set(self, key: str, value: str) -> None:
        self._call(lambda: self.backend.set_password(self.service, key, value), f"saving {key}")

    def delete(self, key: str) -> None:
        def remove() -> None:
            from keyring.errors import PasswordDeleteError

            with contextlib.suppress(PasswordDeleteError):  # already absent
                self.backend.delete_password(self.service, key)

        self._call(remove, f"removing {key}")

    # One keyring entry per issuer holds the whole token set: a single set_password is
    # all or nothing, so a crash can never leave a new access token next to an old
    # refresh token (auth.conf's fingerprints then tell old from new).
    def get_tokens(self, issuer: str) -> dict[str, str] | None:
        return _token_set(self.get(TOKEN_ENTRY_PREFIX + issuer))

    def set_tokens(self, issuer: str, tokens: dict[str, str] | None) -> None:
        if tokens:
            self.set(TOKEN_ENTRY_PREFIX + issuer, json.dumps(tokens))
        else:
            self.delete(TOKEN_ENTRY_PREFIX + issuer)

    def unwritable_reason(self) -> str | None:
        # Where the backend keeps a file (keyrings.alt), make sure it can be replaced.
        path = getattr(self.backend, "file_path", None)
        if isinstance(path, str):
            return probe_writable(Path(path).parent)
        return None


class FileStore:
    """``<config>/credentials``: JSON, mode 0600, replaced atomically on every change.

    ``{"sessions": {issuer: {"access_token": ..., "refresh_token": ...}},
    "bitbucket_token": ...}``: a token set is written in one atomic replace."""

    name = "file"

    def __init__(self, config_dir: Path) -> None:
        self.path = config_dir / FILE_NAME

    def describe(self) -> str:
        try:
            mode = f"mode {file_mode(self.path):04o}"
        except OSError:
            mode = "not created yet; it will be 0600"
        return f"file {self.path} ({mode})"

    def _load(self) -> dict[str, Any]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StorageError(f"Cannot read {self.path}: {exc.strerror}.") from None
        try:
            data = json.loads(raw.decode("utf-8"))  # UnicodeDecodeError is a ValueError
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError:
            try:
                moved = move_aside(self.path)
            except OSError as exc:
                raise StorageError(
                    f"{self.path} is corrupt and could not be moved aside ({exc.strerror}).",
                    f"Move it away yourself, then run `twg login`: mv {self.path} {self.path}.bad",
                ) from None
            raise CorruptFile(
                f"{self.path} was corrupt; it was moved aside to {moved.name}.",
                "Run `twg login` to sign in again.",
            ) from None
        return data

    def _save(self, data: dict[str, Any]) -> None:
        if not data.get("sessions"):
            data.pop("sessions", None)
        try:
            if data:
                atomic_write(self.path, json.dumps(data, indent=2).encode() + b"\n")
            elif self.path.exists():
                self.path.unlink()
        except OSError as exc:
            raise StorageError(f"Cannot save {self.path}: {exc.strerror or exc}.") from None

    def get(self, key: str) -> str | None:
        value = self._load().get(key)
        return value if isinstance(value, str) and value else None

    def set(self, key: str, value: str) -> None:
        data = self._load()
        data[key] = value
        self._save(data)

    def delete(self, key: str) -> None:
        data = self._load()
        if data.pop(key, None) is not None:
            self._save(data)

    def _sessions(self, data: dict[str, Any]) -> dict[str, Any]:
        sessions = data.get("sessions")
        if not isinstance(sessions, dict):
            sessions = data["sessions"] = {}
        return sessions

    def get_tokens(self, issuer: str) -> dict[str, str] | None:
        return _token_set(self._sessions(self._load()).get(issuer))

    def set_tokens(self, issuer: str, tokens: dict[str, str] | None) -> None:
        """Replace (or with None remove) ``issuer``'s whole token set in one write."""
        data = self._load()
        sessions = self._sessions(data)
        if tokens:
            sessions[issuer] = dict(tokens)
        elif sessions.pop(issuer, None) is None:
            return
        self._save(data)

    def unwritable_reason(self) -> str | None:
        return probe_writable(self.path.parent)


def _unusable_reason(backend: Any, explicit: bool = False) -> str | None:
    """Why an auto-selected backend is not one we should trust with secrets."""
    module = type(backend).__module__
    name = type(backend).__name__
    if module.startswith("keyring.backends.fail") or module.startswith("keyring.backends.null"):
        return "no system keyring is available"
    if module.startswith("keyring.backends.chainer") and not getattr(backend, "backends", None):
        return "no system keyring is available"
    if module.startswith("keyrings.alt") and not explicit:
        # keyrings.alt is picked silently when installed: base64 files or a backend that
        # prompts for a password. Only use it when asked for by name.
        return f"only the fallback backend {name} is available"
    if getattr(backend, "priority", 1) <= 0:
        return f"the keyring backend {name} is not usable"
    return None


def load_keyring_backend(environ: Mapping[str, str], timeout: float) -> tuple[Any, str | None]:
    """The keyring backend and, when it is not usable, why. An explicit choice
    (PYTHON_KEYRING_BACKEND or keyringrc.cfg) is honoured as is."""

    def load() -> tuple[Any, str | None]:
        import keyring
        import keyring.core

        explicit = environ.get("PYTHON_KEYRING_BACKEND")
        if explicit:
            backend = keyring.core.load_keyring(explicit)
            return backend, _unusable_reason(backend, explicit=True)
        configured = keyring.core.load_config()
        if configured is not None:
            return configured, _unusable_reason(configured, explicit=True)
        backend = keyring.get_keyring()
        return backend, _unusable_reason(backend)

    return run_with_timeout(load, timeout, "finding the keyring")


def choose_store(
    config_dir: Path,
    environ: Mapping[str, str],
    *,
    preferred: str | None = None,
    keyring_backend: Any = None,
    timeout: float = DEFAULT_KEYRING_TIMEOUT,
) -> tuple[CredentialStore, str | None]:
    """The store to use and, when the file store replaced a missing keyring, why.

    ``preferred`` is TWG_CREDENTIAL_STORE ("keyring" or "file"), else the store that
    auth.conf says holds the current secrets.
    """
    if preferred not in (None, "", "keyring", "file"):
        raise StorageError(f"TWG_CREDENTIAL_STORE must be 'keyring' or 'file', not {preferred!r}.")
    if preferred == "file":
        return FileStore(config_dir), None
    if keyring_backend is not None:
        return KeyringStore(keyring_backend, timeout), None
    backend, reason = load_keyring_backend(environ, timeout)
    if reason is None:
        return KeyringStore(backend, timeout), None
    if preferred == "keyring":
        raise StorageError(
            f"TWG_CREDENTIAL_STORE=keyring, but {reason}.",
            "Install and unlock a system keyring, or set TWG_CREDENTIAL_STORE=file.",
        )
    return FileStore(config_dir), reason


def file_mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777
