"""twg logout: revoke at the server (RFC 7009), then remove every local copy."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from twg.auth import auth_conf
from twg.auth.oauth_errors import OAuthErrorResponse
from twg.auth.session import Credentials
from twg.errors import TwgError
from twg.factory import Factory

SECRETS = ("access_token", "refresh_token", "bitbucket_token")


@dataclass
class Options:
    json: bool = False


def _revoke(f: Factory, creds: Credentials) -> str | None:
    """None when the server revoked both tokens, else why it could not be told."""
    try:
        client = f.oauth()
        # Refresh token first: revoking it ends the whole session (RFC 7009 section 2.1).
        if creds.tokens.refresh_token:
            client.revoke(creds.tokens.refresh_token, "refresh_token")
        if creds.tokens.access_token:
            client.revoke(creds.tokens.access_token, "access_token")
    except OAuthErrorResponse as exc:
        return f"the server answered {exc.error} (HTTP {exc.status})"
    except TwgError as exc:
        return exc.message
    return None


def run(opts: Options, f: Factory) -> int:
    config_dir = f.settings.config_dir
    creds: Credentials | None = None
    load_problem: str | None = None
    try:
        creds, _ = f.session._read()
    except TwgError as exc:
        load_problem = exc.message
    server_problem: str | None = None
    if creds is not None:
        server_problem = _revoke(f, creds)
    removed = False
    for store in f.all_stores():
        for key in SECRETS:
            with contextlib.suppress(TwgError):
                if store.get(key):
                    removed = True
                store.delete(key)
    removed = auth_conf.remove(config_dir) or removed
    who = creds.conf.email if creds and creds.conf and creds.conf.email else None
    if f.environ.get("TWG_OAUTH_ACCESS_TOKEN"):
        f.io.err("Note: TWG_OAUTH_ACCESS_TOKEN is still set; unset it to stop using that token.")
    if load_problem:
        f.io.err(load_problem)
    if creds is None and not removed:
        message = "You were not logged in; nothing to remove."
    elif creds is None:
        message = "Removed local credentials."
    elif server_problem is None:
        message = (
            f"Logged out{f' {who}' if who else ''}: the server revoked your tokens and they "
            "were removed from this machine."
        )
    else:
        message = (
            f"Removed your credentials from this machine, but the server could not be told "
            f"({server_problem}): the tokens stay valid at the server until they expire."
        )
    if opts.json:
        f.io.out_json(
            {
                "status": "logged_out" if creds or removed else "not_logged_in",
                "revoked_at_server": creds is not None and server_problem is None,
                "server_problem": server_problem,
                "removed_locally": removed,
            }
        )
    f.io.err(message)
    return 0
