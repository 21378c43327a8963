"""twg logout [--all]: revoke at the server (RFC 7009), then remove the local copies.

Without --all only the session of the current issuer (TWG_IDP_URL, else Atlassian) is
touched; each issuer's tokens are revoked at that issuer and nowhere else.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from twg.auth.auth_conf import AuthConf
from twg.auth.credentials import LEGACY_TOKEN_KEYS
from twg.auth.oauth_errors import OAuthErrorResponse
from twg.auth.session import Credentials
from twg.errors import EXIT_IOERR, StorageError, TwgError
from twg.factory import Factory


@dataclass
class Options:
    json: bool = False
    all: bool = False


@dataclass
class Outcome:
    issuer: str
    who: str | None = None
    had_tokens: bool = False
    server_problem: str | None = None
    local_problem: str | None = None
    removed: bool = False
    notes: list[str] = field(default_factory=list)

    def message(self) -> str:
        who = f" {self.who}" if self.who else ""
        if self.local_problem:
            told = (
                "the server revoked your tokens"
                if self.had_tokens and self.server_problem is None
                else "the server could not be told"
                + (f" ({self.server_problem})" if self.server_problem else "")
            )
            return (
                f"Logout from {self.issuer}: {told}, but the local copies could not be "
                f"removed ({self.local_problem}). Nothing was deleted; remove them once "
                "the directory is writable, with `twg logout`."
            )
        if not self.had_tokens:
            return f"Removed local credentials for {self.issuer}."
        if self.server_problem is None:
            return (
                f"Logged out{who} from {self.issuer}: the server revoked your tokens and "
                "they were removed from this machine."
            )
        return (
            f"Removed your credentials for {self.issuer} from this machine, but the server "
            f"could not be told ({self.server_problem}): the tokens stay valid at the server "
            "until they expire."
        )

    def to_json(self) -> dict[str, object]:
        return {
            "issuer": self.issuer,
            "revoked_at_server": self.had_tokens and self.server_problem is None,
            "server_problem": self.server_problem,
            "removed_locally": self.removed,
            "local_problem": self.local_problem,
        }


def _revoke(f: Factory, conf: AuthConf, creds: Credentials) -> str | None:
    """None when the issuer revoked both tokens, else why it could not be told."""
    try:
        client = f.oauth_for(conf.key, conf.client_id)
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


def _logout(f: Factory, conf: AuthConf) -> Outcome:
    session = f.session_for(conf.key)
    outcome = Outcome(conf.key, who=conf.email)
    creds: Credentials | None = None
    try:
        creds, _ = session._read()
    except TwgError as exc:
        outcome.notes.append(exc.message)
    if creds is not None:
        outcome.had_tokens = True
        outcome.server_problem = _revoke(f, conf, creds)
    try:
        session.forget(conf)
        outcome.removed = True
    except StorageError as exc:
        outcome.local_problem = exc.message
    return outcome


def _remove_shared(f: Factory) -> bool:
    """The Bitbucket token and flat tokens of an old layout, from every store."""
    removed = False
    for store in f.all_stores():
        for key in ("bitbucket_token", *LEGACY_TOKEN_KEYS):
            with contextlib.suppress(TwgError):
                if store.get(key):
                    store.delete(key)
                    removed = True
    return removed


def run(opts: Options, f: Factory) -> int:
    session = f.session
    load_problem: str | None = None
    sessions: dict[str, AuthConf] = {}
    try:
        sessions = session.all_sessions()
    except TwgError as exc:
        load_problem = exc.message
    targets = (
        list(sessions.values())
        if opts.all
        else ([sessions[session.issuer]] if session.issuer in sessions else [])
    )
    outcomes = [_logout(f, conf) for conf in targets]
    remaining = set(sessions) - {conf.key for conf in targets}
    shared_removed = False
    if opts.all or not remaining:
        shared_removed = _remove_shared(f)
    if f.environ.get("TWG_OAUTH_ACCESS_TOKEN"):
        f.io.err("Note: TWG_OAUTH_ACCESS_TOKEN is still set; unset it to stop using that token.")
    if load_problem:
        f.io.err(load_problem)
    for outcome in outcomes:
        for note in outcome.notes:
            f.io.err(note)
    if opts.json:
        f.io.out_json(
            {
                "status": "logged_out" if outcomes or shared_removed else "not_logged_in",
                # The current issuer's outcome, as before, plus every one with --all.
                **(outcomes[0].to_json() if len(outcomes) == 1 else {}),
                "sessions": [o.to_json() for o in outcomes],
            }
        )
    if not outcomes:
        where = "anywhere" if opts.all else session.issuer
        f.io.err(
            "Removed local credentials."
            if shared_removed
            else f"You were not logged in to {where}; nothing to remove."
        )
    for outcome in outcomes:
        f.io.err(outcome.message())
    if not opts.all and remaining:
        f.io.err(
            f"Still logged in to: {', '.join(sorted(remaining))} (`twg logout --all` to log "
            "out of every one)."
        )
    return EXIT_IOERR if any(o.local_problem for o in outcomes) else 0
