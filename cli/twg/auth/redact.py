"""A logging filter that hides secrets: Authorization values, ``code=`` and token fields.

``TWG_DEBUG=1`` turns on debug logging to stderr; this filter sits on that handler so
even debug output never shows a token.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[REDACTED]"

_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|basic)\s+)[^\s'\",}]+"),
    re.compile(r"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)(\b(?:code|code_verifier|access_token|refresh_token|token|device_code|"
        r"id_token|client_secret|password)=)[^&\s'\"]+"
    ),
    re.compile(
        r"(?i)(['\"](?:access_token|refresh_token|id_token|device_code|code|token|"
        r"code_verifier|bitbucket_token)['\"]\s*:\s*['\"])[^'\"]+"
    ),
)


def redact(text: str, *, min_secret: int = 1) -> str:
    """``text`` with secrets replaced. ``min_secret``: leave shorter values alone (the
    scenario reports keep ``"code": "AUTH_INVALID"``; an OAuth code is never that short)."""

    def hide(m: re.Match[str]) -> str:
        secret = m.group(0)[len(m.group(1)) :]
        return m.group(1) + REDACTED if len(secret) >= min_secret else m.group(0)

    for pattern in _PATTERNS:
        text = pattern.sub(hide, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        return True


def configure_debug_logging(enabled: bool) -> None:
    if not enabled:
        return
    from twg.stderr_log import CurrentStderrHandler, install

    handler = CurrentStderrHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("[twg debug] %(name)s: %(message)s"))
    for name in ("twg", "httpx", "httpcore"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        install(logger, handler)
