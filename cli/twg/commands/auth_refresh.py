"""twg auth refresh [--force]: a no-op while the access token is fresh."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from twg.commands._format import iso
from twg.errors import TwgError, UsageError
from twg.factory import Factory


@dataclass
class Options:
    force: bool = False
    json: bool = False


def run(opts: Options, f: Factory) -> int:
    session = f.session
    creds = session.require()
    if creds.source == "env":
        raise UsageError(
            "TWG_OAUTH_ACCESS_TOKEN is set: that delegated token is used as is and never "
            "refreshed by twg."
        )
    tokens = creds.tokens
    if not opts.force and f.settings.idp_url:
        # One cheap request to learn the server's time (its Date header), so "fresh"
        # is judged by the server's clock, not only the skew seen at the last call.
        with contextlib.suppress(TwgError):
            _ = f.metadata
    now = f.clock.now()
    if not opts.force and not tokens.needs_refresh(now):
        due = iso(tokens.refresh_after)
        message = f"The access token is still fresh (refresh due {due}); nothing to do."
        refreshed = False
    else:
        creds = session.force_refresh() if opts.force else session.ensure_fresh()
        tokens = creds.tokens
        message = f"Refreshed: the new access token expires {iso(tokens.expires_at)}."
        refreshed = True
    if opts.json:
        f.io.out_json(
            {
                "refreshed": refreshed,
                "access_token_expires_at": iso(tokens.expires_at),
                "refresh_due_at": iso(tokens.refresh_after),
            }
        )
    f.io.err(message)
    return 0
