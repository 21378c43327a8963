"""Limits every request body obeys, checked once for all routes (``guard.py``) and again
by the parsers that can be called without it (property tests call them directly).

A hostile body is refused with a 4xx before any route parses it: too large (413), or
JSON nested deeper than any real request needs (400), which would otherwise make
Python's JSON decoder, or code walking its result, raise ``RecursionError``.
"""

from __future__ import annotations

import json
import re
from typing import Any

# A token, revocation or form request is a few hundred bytes.
OAUTH_MAX_BODY = 64 * 1024
# Seed documents and work items may be larger; nothing the mock accepts comes near this.
MAX_BODY = 1024 * 1024
MAX_JSON_DEPTH = 32

# JSON strings, whose brackets do not nest anything.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class BodyTooDeep(ValueError):
    """JSON nested more than MAX_JSON_DEPTH levels."""


def max_body_for(path: str) -> int:
    """The body limit of a path: OAuth endpoints and the HTML forms are small."""
    if path.startswith(("/oauth/", "/authorize", "/device")):
        return OAUTH_MAX_BODY
    return MAX_BODY


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``body`` (JSON or not) opens more than ``limit`` brackets at once.

    Linear, and nearly free for ordinary bodies: only a body with more than ``limit``
    opening brackets in total is scanned.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        elif depth:
            depth -= 1
    return False


def loads(body: bytes | str) -> Any:
    """``json.loads`` that refuses deep nesting with ``BodyTooDeep`` (a ValueError)."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if json_depth_exceeds(raw):
        raise BodyTooDeep(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        return json.loads(raw)
    except RecursionError:  # unreachable after the depth check; never a 500 anyway
        raise BodyTooDeep(
            f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
        ) from None
