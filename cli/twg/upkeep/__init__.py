"""The per-user upkeep helper: keeps the session fresh for sandboxed agents while someone
uses twg, and lets an abandoned session expire.

- ``policy``: when a pass refreshes, and when inactivity stops it (pure functions);
- ``state``: ``upkeep.json`` in the config directory (never a secret);
- ``usage``: the last-use marker every session-using command leaves;
- ``runner``: the injected command runner every scheduler goes through;
- ``scheduler`` (the protocol) and one module per backend: ``systemd``, ``launchd``,
  ``schtasks``; ``loop`` is the foreground loop for containers and sidecars;
- ``upkeep_pass``: one pass; ``install``: enable/disable; ``report``: status and the
  guidance a blocked sandbox prints.
"""

from __future__ import annotations

__all__: list[str] = []
