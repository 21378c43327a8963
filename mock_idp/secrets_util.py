"""Making and fingerprinting secrets. The mock stores only digests of what it hands out."""

from __future__ import annotations

import hashlib
import secrets


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    """The storage key of a secret (tokens, codes, API keys)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def fingerprint_of_digest(secret_digest: str) -> str:
    """A short, log-safe name for a secret, derived from its digest."""
    return secret_digest[:12]


def fingerprint(secret: str) -> str:
    return fingerprint_of_digest(digest(secret))
