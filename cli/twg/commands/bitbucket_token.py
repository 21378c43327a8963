"""Asking for the Bitbucket API token: a hidden prompt, validated live, then saved.

The token is never a command-line argument, never echoed, never logged.
"""

from __future__ import annotations

from twg.auth.credentials import CredentialStore
from twg.auth.identity import check_bitbucket
from twg.factory import Factory

MAX_TRIES = 3
PROMPT = "Bitbucket API token (input hidden; leave empty to skip): "


def ask_and_save(f: Factory, store: CredentialStore, email: str | None, force: bool) -> str:
    """Returns one line saying what happened to the Bitbucket token."""
    if f.environ.get("TWG_BBC_TOKEN"):
        return "Bitbucket token: using TWG_BBC_TOKEN from the environment (not saved)."
    if not force and store.get("bitbucket_token"):
        return "Bitbucket token: kept the saved one (use --force to replace it)."
    if not f.io.stdin_tty:
        return (
            "Bitbucket token: skipped (no terminal to ask on). "
            "Run `twg setup bitbucket` later, or set TWG_BBC_TOKEN."
        )
    if not email:
        return "Bitbucket token: skipped (your account email is unknown)."
    f.io.err(
        "Bitbucket is not covered by OAuth: create an API token in your Atlassian account "
        "settings (API tokens, with Bitbucket scopes) and paste it below."
    )
    for _ in range(MAX_TRIES):
        try:
            token = f.io.hidden_prompt(PROMPT).strip()
        except (EOFError, KeyboardInterrupt):
            return "Bitbucket token: skipped."
        if not token:
            return "Bitbucket token: skipped. Run `twg setup bitbucket` to add it later."
        ok, detail = check_bitbucket(f.plain_http, f.settings.bitbucket_url, email, token)
        if ok:
            store.set("bitbucket_token", token)
            return f"Bitbucket token: saved ({detail})."
        f.io.err(f"{detail}. Try again.")
    return "Bitbucket token: not saved after 3 attempts. Run `twg setup bitbucket` to retry."
