"""Keep secrets out of reports: every token the runner has seen is replaced by its
fingerprint (the one the mock's audit log uses, so a reviewer can match them), then
twg's own log redaction runs, then anything still shaped like a mock token goes too."""

from __future__ import annotations

import re
from typing import Any

from mock_idp.secrets_util import fingerprint
from twg.auth.redact import redact as redact_patterns

# ``secrets.token_urlsafe(32)`` (the mock's tokens and codes) is 43 characters.
_TOKEN_SHAPED = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{40,}(?![A-Za-z0-9_-])")
_SECRET_KEYS = re.compile(r"(?i)token|code|secret|verifier|password|key")
# Fingerprints name a secret without revealing it: the point of the report is to show them.
_FINGERPRINT_KEYS = re.compile(r"(?i)(_fp|fingerprint)$")
MIN_SECRET = 8
MIN_PATTERN_SECRET = 20  # shorter values are not worth hiding (and would mangle ordinary text)


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._aliases: dict[str, str] = {}

    def alias(self, value: str, label: str) -> None:
        """Show ``value`` (a temporary path, say) as ``label``: shorter, and stable
        between runs, so two reports can be compared."""
        self._aliases[value] = label

    def add(self, value: Any) -> None:
        if isinstance(value, str) and len(value) >= MIN_SECRET:
            self._secrets.add(value)

    def add_from(self, document: Any) -> None:
        """Every string under a secret-sounding key (``refresh_token``, ``code``...)."""
        if isinstance(document, dict):
            for key, value in document.items():
                if _FINGERPRINT_KEYS.search(str(key)):
                    continue
                if isinstance(value, str) and _SECRET_KEYS.search(str(key)):
                    self.add(value)
                else:
                    self.add_from(value)
        elif isinstance(document, list):
            for item in document:
                self.add_from(item)

    def text(self, text: str) -> str:
        for value, label in self._aliases.items():
            text = text.replace(value, label)
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, f"[redacted fp:{fingerprint(secret)}]")
        # An error code such as "AUTH_INVALID" sits under a "code" key too: only values as
        # long as a real code or token (the mock's are 43 characters) are hidden.
        text = redact_patterns(text, min_secret=MIN_PATTERN_SECRET)
        return _TOKEN_SHAPED.sub("[redacted]", text)

    def deep(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.deep(item) for item in value]
        if isinstance(value, dict):
            return {key: self.deep(item) for key, item in value.items()}
        return value
