"""The shape of a seed document (``POST /_mock/seed``), checked before anything is applied.

``apply_seed`` builds records from whatever it is given; a number where a name belongs
would be stored and break later requests. Here every kind, field and value type is
checked first, so a bad document is one 400 that names the problem and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mock_idp.seed import SeedError

MAX_TEXT = 2048
MAX_ITEMS = 1000

Check = Callable[[object], bool]


def _text(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT


def _text_or_none(value: object) -> bool:
    return value is None or _text(value)


def _flag(value: object) -> bool:
    return isinstance(value, bool)


def _texts(value: object) -> bool:
    return isinstance(value, list) and len(value) <= MAX_ITEMS and all(map(_text, value))


def _site_access(value: object) -> bool:
    return (
        isinstance(value, dict)
        and len(value) <= MAX_ITEMS
        and all(_text(k) and _texts(v) for k, v in value.items())
    )


SCHEMA: dict[str, dict[str, Check]] = {
    "orgs": {"id": _text, "name": _text, "cli_allow_all": _flag, "cli_categories": _texts},
    "sites": {"id": _text, "org_id": _text, "name": _text, "url": _text},
    "users": {
        "account_id": _text,
        "email": _text,
        "name": _text,
        "site_access": _site_access,
        "admin_of": _texts,
    },
    "clients": {
        "client_id": _text,
        "name": _text,
        "redirect_uris": _texts,
        "scopes": _texts,
        "grant_types": _texts,
        "client_secret": _text_or_none,
    },
    "admin_keys": {"key": _text, "org_id": _text, "email": _text, "label": _text},
    "bitbucket_tokens": {"token": _text, "email": _text, "username": _text_or_none},
}


def check_seed(document: dict[str, Any]) -> None:
    """Raise ``SeedError`` naming the first unknown kind, unknown field or wrong type."""
    unknown = set(document) - set(SCHEMA)
    if unknown:
        names = ", ".join(sorted(str(k)[:64] for k in unknown))
        raise SeedError(f"unknown kind(s): {names}; known: {', '.join(SCHEMA)}")
    for kind, items in document.items():
        fields = SCHEMA[kind]
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise SeedError(f"'{kind}' must be a list of at most {MAX_ITEMS} objects")
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise SeedError(f"{kind}[{index}] must be an object")
            for name, value in item.items():
                check = fields.get(name)
                if check is None:
                    raise SeedError(f"{kind}[{index}] has unknown field '{str(name)[:64]}'")
                if not check(value):
                    raise SeedError(f"{kind}[{index}].{name} has the wrong type or is too long")
