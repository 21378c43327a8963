"""``${name}`` in a scenario's strings, and dotted paths (``account.id``, ``data.0.id``).

Variables come from ``save:``/``set:`` steps and a few built-ins (``mock_url``;
``credentials.<key>``, read from the scenario's file credential store when used, so
``${credentials.refresh_token}`` is the token the CLI holds at that moment). A string
that is exactly one ``${...}`` keeps the variable's type (a number stays a number).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
MISSING = object()


class VariableError(ValueError):
    """A ``${name}`` that has no value, or a dotted path that leads nowhere."""


def dig(document: Any, dotted: str) -> Any:
    """The value at ``a.b.0.c``, or ``MISSING``."""
    current = document
    for part in dotted.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(current) <= index < len(current):
                return MISSING
            current = current[index]
        else:
            return MISSING
    return current


class Variables:
    def __init__(
        self, builtins: Mapping[str, Any], credentials: Callable[[], Mapping[str, Any]]
    ) -> None:
        self.values: dict[str, Any] = dict(builtins)
        self._credentials = credentials

    def lookup(self, name: str) -> Any:
        if name.startswith("credentials."):
            value = dig(self._credentials(), name.removeprefix("credentials."))
            if value is MISSING:
                raise VariableError(f"${{{name}}}: the CLI's credential store has no such entry")
            return value
        value = dig(self.values, name)
        if value is MISSING:
            known = ", ".join(sorted(self.values)) or "none"
            raise VariableError(f"${{{name}}} is not set (set so far: {known})")
        return value

    def expand(self, value: Any) -> Any:
        """``value`` with every ``${...}`` replaced, recursively through lists and maps."""
        if isinstance(value, str):
            whole = _REF.fullmatch(value)
            if whole:
                return self.lookup(whole.group(1))
            return _REF.sub(lambda m: _text(self.lookup(m.group(1))), value)
        if isinstance(value, list):
            return [self.expand(item) for item in value]
        if isinstance(value, dict):
            return {key: self.expand(item) for key, item in value.items()}
        return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
