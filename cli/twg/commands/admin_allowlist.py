"""twg admin allowlist show|set CIDR...|clear: the org's IP allowlist (CLI requests too)."""

from __future__ import annotations

from dataclasses import dataclass, field

from twg.admin import session
from twg.errors import UsageError
from twg.factory import Factory


@dataclass
class Options:
    action: str = "show"  # show | set | clear
    cidrs: list[str] = field(default_factory=list)
    org: str | None = None
    json: bool = False


def run(opts: Options, f: Factory) -> int:
    if opts.action == "set" and not opts.cidrs:
        raise UsageError("Give at least one CIDR, or use `twg admin allowlist clear`.")
    entry, client = session.connect(f, opts.org)
    with client.http:
        if opts.action == "show":
            cidrs = client.allowlist()
        else:
            cidrs = client.set_allowlist(opts.cidrs if opts.action == "set" else [])
    if opts.json:
        f.io.out_json({"org_id": entry.org_id, "cidrs": cidrs})
        return 0
    for cidr in cidrs:
        f.io.out(cidr)
    if not cidrs:
        f.io.err(f"{entry.org_name} has no IP allowlist: requests are allowed from anywhere.")
    elif opts.action == "set":
        f.io.err(f"Saved: {entry.org_name}'s users can use the CLI only from these ranges.")
    return 0
