"""Errors of `twg admin` an admin can act on; exit codes are the documented ones."""

from __future__ import annotations

from twg.errors import ApiError, AuthInvalid, AuthRequired

LOGIN = "Run `twg admin auth login --email EMAIL --org ORG_ID`."


class AdminNotLoggedIn(AuthRequired):
    code = "ADMIN_AUTH_REQUIRED"


class AdminKeyRefused(AuthInvalid):
    """The Admin API refused the key: wrong, revoked, or for another org."""

    code = "ADMIN_KEY_REFUSED"


class OrgNotFound(ApiError):
    code = "ORG_NOT_FOUND"
