"""twg admin audit [--since WHEN]: the org's CLI-related events, with who did what."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twg.admin import session
from twg.errors import UsageError
from twg.factory import Factory

RELATIVE = re.compile(r"^(\d{1,6})([smhd])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass
class Options:
    since: str | None = None
    org: str | None = None
    json: bool = False


def since_param(value: str | None, now: float) -> str | None:
    """Atlassian's ``from``: epoch milliseconds, from ``30m``/``2h``/``7d`` or ISO 8601."""
    if value is None:
        return None
    match = RELATIVE.match(value.strip())
    if match:
        return str(int((now - int(match.group(1)) * UNITS[match.group(2)]) * 1000))
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            "--since takes 30m, 2h, 7d or an ISO 8601 time such as 2026-01-31T12:00Z."
        ) from None
    if parsed.tzinfo is None:
        raise UsageError("--since needs a time zone, e.g. 2026-01-31T12:00Z.")
    return str(int(parsed.timestamp() * 1000))


def _line(event: dict[str, Any]) -> str:
    attrs = event.get("attributes") or {}
    actor = attrs.get("actor") or {}
    context = attrs.get("context") or {}
    who = actor.get("email") or actor.get("id") or "-"
    shown = ("email", "reason", "count", "path", "status", "revoke_sessions", "address")
    extra = {k: v for k, v in context.items() if k in shown}
    after = context.get("after")
    if isinstance(after, dict):  # a permission change: the categories now allowed
        extra["allowed"] = (
            "all" if after.get("allow_all") else ",".join(after.get("categories", []))
        )
    elif isinstance(after, list):  # an allowlist change
        extra["allowlist"] = ",".join(str(c) for c in after) or "(none)"
    details = " ".join(f"{k}={v}" for k, v in extra.items())
    return f"{attrs.get('time')}  {who}  {attrs.get('action')}  {details}".rstrip()


def run(opts: Options, f: Factory) -> int:
    since = since_param(opts.since, time.time() if f.local_now is None else f.local_now())
    entry, client = session.connect(f, opts.org)
    with client.http:
        events = client.events(since)
    if opts.json:
        f.io.out_json({"org_id": entry.org_id, "events": events})
        return 0
    for event in events:
        f.io.out(_line(event))
    return 0
