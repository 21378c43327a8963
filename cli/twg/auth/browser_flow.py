"""Authorization code + PKCE through the user's browser and a loopback redirect.

OAuth 2.1 section 4.1 with RFC 7636 (S256), RFC 8252 (loopback redirect) and RFC 9207
(``iss`` in the authorization response).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlencode

from twg.auth.browser_open import BrowserUnavailable, wait_for_callback
from twg.auth.discovery import ServerMetadata
from twg.auth.loopback import CallbackServer, state_matches
from twg.auth.oauth_client import OAuthClient
from twg.auth.pkce import Pkce, new_state
from twg.auth.tokens import TokenSet
from twg.errors import LoginError, LoginTimeout

__all__ = ["BrowserUnavailable", "authorization_url", "browser_login", "check_callback"]

AUDIENCE = "api.atlassian.com"


def authorization_url(
    metadata: ServerMetadata,
    client_id: str,
    redirect_uri: str,
    scopes: Sequence[str],
    state: str,
    pkce: Pkce,
) -> str:
    query = urlencode(
        {
            "audience": AUDIENCE,
            "client_id": client_id,
            "scope": " ".join(scopes),
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            # Without prompt=consent standard servers silently drop offline_access.
            "prompt": "consent",
            "code_challenge": pkce.challenge,
            "code_challenge_method": pkce.method,
        }
    )
    sep = "&" if "?" in metadata.authorization_endpoint else "?"
    return f"{metadata.authorization_endpoint}{sep}{query}"


def check_callback(params: dict[str, str], state: str, metadata: ServerMetadata) -> str:
    """The authorization code, after the checks the response must pass."""
    # RFC 6749 section 10.12 / OAuth 2.1 section 7.12: state binds the response to our
    # request (CSRF); compare in constant time. The listener already refused others:
    # this is the same check, kept next to the other response checks.
    if not state_matches(params.get("state"), state):
        raise LoginError(
            "The sign-in response did not match this login (state mismatch); it was refused.",
            "Run `twg login` again. If this repeats, something may be intercepting it.",
        )
    # RFC 9207 section 2.4: iss must be the issuer we talk to; it is required when the
    # server says it sends it (mix-up attack defence).
    iss = params.get("iss")
    if iss is not None and iss.rstrip("/") != metadata.issuer.rstrip("/"):
        raise LoginError(
            f"The sign-in response came from issuer {iss!r}, not {metadata.issuer!r}; "
            "it was refused (RFC 9207).",
            "Run `twg login` again.",
        )
    if iss is None and metadata.iss_parameter_supported:
        raise LoginError(
            "The sign-in response has no 'iss' although the server promises one; "
            "it was refused (RFC 9207).",
            "Run `twg login` again.",
        )
    error = params.get("error")
    if error == "access_denied":
        raise LoginError(
            "Login was cancelled: access was denied in the browser.",
            "Run `twg login` again and choose Accept to grant access.",
        )
    if error:
        detail = params.get("error_description") or ""
        raise LoginError(
            f"The identity provider answered {error}" + (f": {detail}" if detail else "") + "."
        )
    code = params.get("code")
    if not code:
        raise LoginError("The sign-in response carried no authorization code.")
    return code


def browser_login(
    client: OAuthClient,
    scopes: Sequence[str],
    open_browser: Callable[[str], bool] | None,
    show_url: Callable[[str], None],
    timeout: float,
    redirect_uri: str | None = None,
    tick: Callable[[float], None] | None = None,
) -> TokenSet:
    """Run the flow. ``open_browser`` None means --no-browser (only print the URL).
    ``redirect_uri`` is a fixed loopback callback (a registered app's one exact URL);
    None listens on an ephemeral 127.0.0.1 port."""
    pkce = Pkce.new()
    state = new_state()
    # Bind and serve BEFORE opening the browser (see module docstring of loopback).
    with CallbackServer(state, redirect_uri) as server:
        url = authorization_url(
            client.metadata, client.client_id, server.redirect_uri, scopes, state, pkce
        )
        show_url(url)
        params = wait_for_callback(server, url, open_browser, timeout, tick)
    if params is None:
        minutes = timeout / 60
        length = f"{minutes:g} minutes" if minutes >= 1 else f"{timeout:g} seconds"
        raise LoginTimeout(
            f"Login timed out after {length} without a response from the browser.",
            "Run `twg login` again (or `twg login --device` on a machine without a browser).",
        )
    code = check_callback(params, state, client.metadata)
    return client.exchange_code(code, server.redirect_uri, pkce.verifier)
