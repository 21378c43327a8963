"""Limits every request body obeys, checked once for all routes (``guard.py``) and again
by the parsers that can be called without it (property tests call them directly).

A hostile body is refused with a 4xx before any route parses it: too large (413), or
JSON nested deeper than any real request needs (400), which would otherwise make
Python's JSON decoder, or code walking its result, raise ``RecursionError``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive

# A token, revocation or form request is a few hundred bytes.
OAUTH_MAX_BODY = 64 * 1024
# Seed documents and work items may be larger; nothing the mock accepts comes near this.
MAX_BODY = 1024 * 1024
MAX_JSON_DEPTH = 32

# JSON strings, whose brackets do not nest anything.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


# A surrogate written as a JSON escape, or as its (invalid) UTF-8 bytes, which Python's
# json also decodes ("surrogatepass").
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
SURROGATE_MESSAGE = "The JSON body holds an unpaired surrogate (\\ud800-\\udfff): not text."


class UnusableBody(ValueError):
    """Valid-looking JSON the mock refuses; the message is the error_description."""


class BodyTooDeep(UnusableBody):
    """JSON nested more than MAX_JSON_DEPTH levels."""


class BodyNotText(UnusableBody):
    """JSON holding a string that is not Unicode text (a lone surrogate): it could never
    be stored as UTF-8 nor sent back in an answer."""


@dataclass(frozen=True)
class ReadBody:
    body: bytes
    more: bool  # the client said more was coming (stopped at ``limit`` or a disconnect)
    gone: bool  # the client disconnected before the end


async def read_body(receive: Receive, limit: int | None = None) -> ReadBody:
    """Read an ASGI request body to its end, or until the client goes away, or (with a
    ``limit``) until more than ``limit`` bytes have come: the caller decides what each
    means, so no size is trusted and no disconnect is mistaken for an empty body."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return ReadBody(b"".join(chunks), more, gone=True)
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        more = message.get("more_body", False)
        if limit is not None and size > limit:
            break
    return ReadBody(b"".join(chunks), more, gone=False)


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


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def json_not_text(body: bytes) -> bool:
    """Whether ``body`` is JSON with a lone surrogate in a string (cheap unless the body
    has a surrogate escape at all; a body that is not JSON is left to its route)."""
    if _MAYBE_SURROGATE.search(body) is None:
        return False
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return _has_lone_surrogate(document)


def loads(body: bytes | str) -> Any:
    """``json.loads`` that refuses deep nesting (``BodyTooDeep``) and strings that are
    not text (``BodyNotText``); both are ValueErrors."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    if json_depth_exceeds(raw):
        raise BodyTooDeep(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
    try:
        document = json.loads(raw)
    except RecursionError:  # unreachable after the depth check; never a 500 anyway
        raise BodyTooDeep(
            f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
        ) from None
    if _MAYBE_SURROGATE.search(raw) is not None and _has_lone_surrogate(document):
        raise BodyNotText(SURROGATE_MESSAGE)
    return document
