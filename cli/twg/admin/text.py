"""Text from the Admin API (org and user names, emails, error details) goes to a
terminal: control characters in it could rewrite the screen, so they are replaced."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twg.factory import Factory


def printable(text: str) -> str:
    return "".join(c if c.isprintable() or c == "\n" else "?" for c in text)


def out(f: Factory, text: str) -> None:
    f.io.out(printable(text))


def err(f: Factory, text: str) -> None:
    f.io.err(printable(text))
