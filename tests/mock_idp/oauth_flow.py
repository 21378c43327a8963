"""Drive the mock's sign-in, site and consent pages the way a person (or the robot) does.

Works with any httpx-style client: Starlette's TestClient or an ``httpx.Client`` pointed
at a ``mock_server``. Redirects are never followed automatically, so each step is seen.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from mock_idp.seed import ACME_SITE_ID, CLI_CLIENT_ID

REDIRECT_URI = "http://127.0.0.1:53682/callback"
CLI_SCOPE = "read:me read:jira-work write:jira-work offline_access"
TOKEN_PATH = "/oauth/token"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Pkce:
    verifier: str
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(48)
        return cls(verifier, s256(verifier))


def authorize_params(pkce: Pkce, **overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": CLI_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": CLI_SCOPE,
        "state": "st-" + secrets.token_urlsafe(8),
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "audience": "api.atlassian.com",
        "prompt": "consent",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def tx_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["tx"][0]


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def sign_in_and_consent(
    client: Any,
    start_location: str,
    *,
    email: str = "alice@example.com",
    site_id: str = ACME_SITE_ID,
    decision: str = "accept",
) -> Any:
    """From the redirect /authorize (or /device) answered with, to the consent answer."""
    tx = tx_of(start_location)
    page = client.get(start_location)
    assert page.status_code == 200, page.text
    signed = client.post("/authorize/login", data={"tx": tx, "email": email})
    assert signed.status_code == 303, signed.text
    assert client.get(signed.headers["location"]).status_code == 200
    chosen = client.post("/authorize/site", data={"tx": tx, "site_id": site_id})
    assert chosen.status_code == 303, chosen.text
    consent = client.get(chosen.headers["location"])
    assert consent.status_code == 200, consent.text
    return client.post("/authorize/consent", data={"tx": tx, "decision": decision})


def authorize(client: Any, params: dict[str, str], **kwargs: Any) -> dict[str, str]:
    """Run the whole browser flow; returns the query the client's redirect_uri receives."""
    started = client.get("/authorize?" + urlencode(params))
    assert started.status_code == 303, started.text
    answer = sign_in_and_consent(client, started.headers["location"], **kwargs)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(params["redirect_uri"].split("?")[0] + "?"), location
    return query_of(location)


def redeem(client: Any, code: str, pkce: Pkce, **overrides: str) -> Any:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLI_CLIENT_ID,
        "code_verifier": pkce.verifier,
        **overrides,
    }
    return client.post(TOKEN_PATH, data=data)


def refresh(client: Any, refresh_token: str, **extra: str) -> Any:
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": CLI_CLIENT_ID,
        **extra,
    }
    return client.post(TOKEN_PATH, data=data)


def browser_login(client: Any, **param_overrides: str | None) -> dict[str, Any]:
    """A full login: authorize, consent, redeem. Returns the token response JSON."""
    pkce = Pkce.new()
    params = authorize_params(pkce, **param_overrides)
    query = authorize(client, params)
    response = redeem(client, query["code"], pkce, redirect_uri=params["redirect_uri"])
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def user_code_in(html: str) -> str | None:
    found = re.search(r'name=user_code value="([^"]*)"', html)
    return found.group(1) if found else None
