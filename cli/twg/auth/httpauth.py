"""An httpx.Auth that attaches the access token and, on a 401, refreshes once and retries."""

from __future__ import annotations

from collections.abc import Generator

import httpx

from twg.auth.session import Credentials, SessionManager
from twg.errors import ConfigError


def _bound_to(creds: Credentials, url: httpx.URL) -> None:
    """Refuse to attach a token to a request for a host its issuer is not tied to:
    the API recorded at login, or the issuer itself. Nothing is sent."""
    conf = creds.conf
    if conf is None or not conf.api_url:
        return  # a delegated token, or a session saved before twg recorded its API
    target = str(url)
    for base in (conf.api_url.rstrip("/"), conf.key):
        if target == base or target.startswith(base + "/"):
            return
    raise ConfigError(
        f"Your session for {conf.key} may only be used with {conf.api_url}, not "
        f"{url.scheme}://{url.host}. Nothing was sent.",
        "Unset TWG_API_URL (or set it back), or log in for that API with `twg login`.",
    )


class TwgAuth(httpx.Auth):
    def __init__(self, session: SessionManager) -> None:
        self.session = session
        self.credentials: Credentials | None = None
        self.refreshed = False

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        creds = self.session.ensure_fresh()
        self.credentials = creds
        _bound_to(creds, request.url)
        request.headers["Authorization"] = f"Bearer {creds.tokens.access_token}"
        response = yield request
        self.session.clock.observe_date_header(response.headers.get("date"))
        # RFC 6750 section 3.1: invalid_token (expired or revoked) comes as a 401. A
        # delegated token from the environment is never refreshed: it is not ours.
        if response.status_code != 401 or creds.source == "env":
            return
        creds = self.session.refresh_after_401(creds.tokens.access_token)
        self.credentials = creds
        self.refreshed = True
        request.headers["Authorization"] = f"Bearer {creds.tokens.access_token}"
        response = yield request
        self.session.clock.observe_date_header(response.headers.get("date"))
