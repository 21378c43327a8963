"""The twg CLI."""

import sys

# httpx's package __init__ imports its optional command-line tool (``httpx._main``: click,
# rich, pygments: half of httpx's import time) whenever those happen to be installed.
# twg never uses it; marking it absent makes httpx take its own "not installed" branch.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
