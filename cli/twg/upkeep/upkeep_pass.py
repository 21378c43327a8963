"""One upkeep pass: refresh if due, end the session if abandoned, record what happened.

The refresh itself is ``SessionManager.refresh_ahead``: the same lock, re-read,
persistence preflight, atomic save and compare-and-clear as every foreground refresh.
A pass never records use: only people's commands keep a session alive.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from twg.auth.session import SessionManager
from twg.auth.tokens import TokenSet
from twg.errors import EXIT_IOERR, AuthInvalid, TwgError
from twg.upkeep import state as upkeep_state
from twg.upkeep.policy import Action, Policy
from twg.upkeep.report import last_use_seen
from twg.upkeep.state import iso

if TYPE_CHECKING:
    from twg.auth.oauth_client import OAuthClient

log = logging.getLogger("twg.upkeep")


@dataclass
class PassResult:
    result: str
    detail: str
    exit_code: int = 0
    next_due: float | None = None
    warning: str | None = None


def inactive_reason(policy: Policy, last_use: float) -> str:
    return (
        f"Your session expired after {policy.inactivity_days:g} days of inactivity: nobody "
        f"used twg on this machine since {iso(last_use)}, so the upkeep helper ended it."
    )


def _decide(
    session: SessionManager,
    revoke: Callable[[TokenSet], None],
    policy: Policy,
    environ: Mapping[str, str],
    local_now: float,
    learn_server_time: Callable[[], None],
) -> PassResult:
    conf = session.load_conf()
    if conf is None:
        # After `twg logout`: the schedule stays, the pass does no auth work at all.
        return PassResult("not_logged_in", "nobody is logged in; nothing to do")
    if session.env_override():
        return PassResult(
            "no_session",
            "TWG_OAUTH_ACCESS_TOKEN is set: upkeep only looks after sessions from `twg login`",
        )
    creds = session.load()
    if creds is None:
        why = conf.invalid_reason or "the saved session has no tokens"
        return PassResult("no_session", f"{why.rstrip('.')}; waiting for `twg login`")
    learn_server_time()  # "due" is judged by the server's clock, as everywhere
    last_use, _ = last_use_seen(environ, conf.logged_in_at)
    action = policy.decide(creds.tokens, session.clock.now(), last_use, local_now)
    if action is Action.NO_SESSION:
        return PassResult("no_session", "the session has no refresh token; nothing to keep")
    if action is Action.INACTIVE:
        assert last_use is not None
        reason = inactive_reason(policy, last_use)
        ended = session.end_session(reason)
        if ended is not None:
            revoke(ended)
        return PassResult("inactive", reason)
    tokens = creds.tokens
    if action is Action.REFRESH:
        before = tokens.access_token
        tokens = session.refresh_ahead(policy.lead).tokens
        if tokens.access_token != before:
            return PassResult(
                "refreshed",
                f"refreshed; the new access token expires {iso(tokens.expires_at)}",
                next_due=policy.refresh_at(tokens),
            )
    return PassResult(
        "fresh",
        f"the access token is fresh until {iso(tokens.refresh_after)}",
        next_due=policy.refresh_at(tokens),
    )


def run_pass(
    session: SessionManager,
    revoke: Callable[[TokenSet], None],
    config_dir: Path,
    policy: Policy,
    environ: Mapping[str, str],
    local_now: float,
    loop_every: float | None = None,
    learn_server_time: Callable[[], None] = lambda: None,
) -> PassResult:
    """One pass, recorded in upkeep.json (``loop_every``: run by a foreground loop)."""
    try:
        outcome = _decide(session, revoke, policy, environ, local_now, learn_server_time)
    except AuthInvalid as exc:
        outcome = PassResult("session_ended", exc.message, exc.exit_code)
    except TwgError as exc:
        outcome = PassResult("error", exc.text(), exc.exit_code)
    state = upkeep_state.load(config_dir)
    if loop_every is not None and not state.enabled:
        # Status and a blocked sandbox can then tell that a loop keeps the session.
        state.backend = "loop"
        state.interval_seconds = int(loop_every)
    state.last_run = iso(local_now)
    state.result = outcome.result
    state.detail = outcome.detail
    state.next_due = iso(outcome.next_due)
    if outcome.result == "not_logged_in" and not config_dir.is_dir():
        return outcome  # nothing to record into: never create a config dir for nobody
    try:
        upkeep_state.save(config_dir, state)
    except OSError as exc:
        outcome.warning = (
            f"could not record this run in {upkeep_state.path_in(config_dir)}: "
            f"{exc.strerror or exc}"
        )
        if outcome.exit_code == 0:
            outcome.exit_code = EXIT_IOERR
    return outcome


def revoke_quietly(oauth: Callable[[], OAuthClient]) -> Callable[[TokenSet], None]:
    """Revoke an ended session at the server, best effort (RFC 7009): the local tokens are
    gone either way, and the server's own inactivity rule ends it later if this fails."""

    def revoke(tokens: TokenSet) -> None:
        with contextlib.suppress(Exception):
            client = oauth()
            if tokens.refresh_token:
                client.revoke(tokens.refresh_token, "refresh_token")
            if tokens.access_token:
                client.revoke(tokens.access_token, "access_token")

    return revoke
