"""Errors a user can act on: a code for --json, a message, a remedy and an exit code.

Anything else that escapes a command is a bug and gets a short "internal error" line,
never a traceback holding request data (see twg.main).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_AUTH = 77


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


class StorageError(TwgError):
    """The config directory or secret store cannot be read or written."""

    code = "STORAGE"


class KeyringTimeout(StorageError):
    code = "KEYRING_TIMEOUT"


class ApiError(TwgError):
    code = "API_ERROR"


class PermissionDenied(TwgError):
    code = "FORBIDDEN"


class LoginError(TwgError):
    code = "LOGIN_FAILED"


class LoginTimeout(LoginError):
    code = "LOGIN_TIMEOUT"
