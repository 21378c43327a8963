"""RFC 7636 PKCE with S256 only (OAuth 2.1 section 4.1.1 forbids ``plain``)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str
    method: str = "S256"

    @classmethod
    def new(cls) -> Pkce:
        # RFC 7636 section 4.1: 43-128 characters of unreserved URL characters;
        # 32 random bytes give 43 base64url characters (256 bits of entropy).
        verifier = _b64url(secrets.token_bytes(32))
        return cls(verifier=verifier, challenge=challenge_for(verifier))


def challenge_for(verifier: str) -> str:
    # RFC 7636 section 4.2: BASE64URL(SHA256(ASCII(code_verifier))).
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def new_state() -> str:
    return secrets.token_urlsafe(24)
