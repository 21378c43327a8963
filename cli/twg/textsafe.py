"""Text from servers is printed only after its control characters are made visible.

Names, emails, site names, ``error_description`` and API error bodies come from a
server; printed raw, an ESC or BEL sequence in them rewrites the user's terminal (clears
it, moves the cursor, sets the window title, fakes a prompt). Every line twg writes for
a person passes through ``printable`` (IOStreams does it), so no command can forget.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls (8-bit CSI and friends), and the
# Unicode bidi overrides/isolates and zero-width marks that make text read differently
# from what it is (CVE-2021-42574, "Trojan Source").
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]"
)


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every terminal control character shown as an escape (``\\x1b``)."""
    return _UNSAFE.sub(_escape, text)
