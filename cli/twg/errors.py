"""Errors a user can act on: a code for --json, a message, a remedy and an exit code.

Anything else that escapes a command is a bug and gets a short "internal error" line,
never a traceback holding request data (see twg.main).
"""

from __future__ import annotations

# Exit codes: the table in docs/exit-codes.md is the contract; sysexits(3) where one fits.
EXIT_OK = 0
EXIT_ERROR = 1  # the server refused the request (API 4xx, permission, allowlist)
EXIT_USAGE = 2  # bad flags or arguments
EXIT_UNAVAILABLE = 69  # EX_UNAVAILABLE: IdP or API unreachable, 5xx, 429, timeout, bad answer
EXIT_IOERR = 74  # EX_IOERR: the config directory or secret store cannot be read or written
EXIT_TEMPFAIL = 75  # EX_TEMPFAIL: busy (refresh lock, keyring timeout): try again
EXIT_AUTH = 77  # EX_NOPERM: the session is missing or dead; `twg login`
EXIT_CONFIG = 78  # EX_CONFIG: bad settings (environment, unsafe config directory)
EXIT_INTERRUPTED = 130  # Ctrl-C


class TwgError(Exception):
    """A failure with text for a person and a stable code for scripts."""

    code = "ERROR"
    exit_code = EXIT_ERROR

    def __init__(self, message: str, remedy: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy
        if code is not None:
            self.code = code

    def text(self) -> str:
        return f"{self.message} {self.remedy}" if self.remedy else self.message

    def to_json(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.text()}}


class UsageError(TwgError):
    code = "USAGE"
    exit_code = EXIT_USAGE


class AuthRequired(TwgError):
    """No credentials at all: the user has to log in."""

    code = "AUTH_REQUIRED"
    exit_code = EXIT_AUTH


class AuthInvalid(TwgError):
    """Credentials exist but are dead (expired, revoked) or not enough."""

    code = "AUTH_INVALID"
    exit_code = EXIT_AUTH


class NetworkError(TwgError):
    code = "NETWORK"
    exit_code = EXIT_UNAVAILABLE


class Unavailable(TwgError):
    """The identity provider or API answered, but not usefully (5xx, 429, HTML)."""

    code = "UNAVAILABLE"
    exit_code = EXIT_UNAVAILABLE


class ConfigError(TwgError):
    """A setting or the config directory itself is wrong or unsafe."""

    code = "CONFIG"
    exit_code = EXIT_CONFIG


class StorageError(TwgError):
    """The config directory or secret store cannot be read or written."""

    code = "STORAGE"
    exit_code = EXIT_IOERR


class KeyringTimeout(StorageError):
    code = "KEYRING_TIMEOUT"
    exit_code = EXIT_TEMPFAIL


class KeyringLocked(StorageError):
    """The keyring is there but locked (no one is logged in to the desktop to unlock it)."""

    code = "KEYRING_LOCKED"
    exit_code = EXIT_TEMPFAIL


class ApiError(TwgError):
    code = "API_ERROR"


class PermissionDenied(TwgError):
    code = "FORBIDDEN"


class IpNotAllowed(PermissionDenied):
    """The org's IP allowlist refused this machine's address."""

    code = "IP_NOT_ALLOWED"

    def __init__(self, detail: str = "") -> None:
        said = f' (server: "{detail[:200]}")' if detail else ""
        super().__init__(
            f"Blocked by your organization's IP allowlist: this network's address is not "
            f"allowed{said}.",
            "Connect from an allowed network, or ask your organization admin to add it.",
        )


class Interrupted(TwgError):
    code = "INTERRUPTED"
    exit_code = EXIT_INTERRUPTED


class LoginError(TwgError):
    code = "LOGIN_FAILED"


class LoginTimeout(LoginError):
    code = "LOGIN_TIMEOUT"
