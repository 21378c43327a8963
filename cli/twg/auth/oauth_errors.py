"""The typed OAuth error answer, kept free of httpx so callers can catch it cheaply."""

from __future__ import annotations


class OAuthErrorResponse(Exception):
    """An RFC 6749 section 5.2 error answer (``error`` and ``error_description``)."""

    def __init__(self, error: str, description: str, status: int) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status
