"""Small helpers for the real-browser tests."""

from __future__ import annotations

from typing import Any


def wait_for_focus(page: Any, selector: str) -> None:
    """Waits until the element matching ``selector`` has the focus: Chromium applies
    ``autofocus`` a moment after the load event, and a person starts typing only then."""
    page.wait_for_function(
        "s => document.activeElement !== null && document.activeElement.matches(s)", arg=selector
    )
