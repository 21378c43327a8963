"""Who the token belongs to (/me) and which sites it reaches (accessible-resources).

Other vendors' OAuth servers have neither: callers get None and say what is unknown.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx

from twg.auth.servertime import ServerClock


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    url: str

    def matches(self, wanted: str) -> bool:
        wanted_l = wanted.strip().rstrip("/").lower()
        url = self.url.rstrip("/").lower()
        host = url.split("://", 1)[-1]
        return wanted_l in {self.id.lower(), self.name.lower(), url, host}


def _get_json(http: httpx.Client, url: str, headers: dict[str, str], clock: ServerClock) -> Any:
    try:
        response = http.get(url, headers={"Accept": "application/json", **headers})
    except httpx.HTTPError:
        return None
    clock.observe_date_header(response.headers.get("date"))
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def fetch_me(
    http: httpx.Client, api_url: str, access_token: str, clock: ServerClock
) -> dict[str, Any] | None:
    data = _get_json(http, f"{api_url}/me", {"Authorization": f"Bearer {access_token}"}, clock)
    return data if isinstance(data, dict) and data.get("account_id") else None


def fetch_userinfo(
    http: httpx.Client, userinfo_endpoint: str, access_token: str, clock: ServerClock
) -> dict[str, Any] | None:
    """The account in /me's shape, from an OpenID Connect userinfo endpoint."""
    data = _get_json(http, userinfo_endpoint, {"Authorization": f"Bearer {access_token}"}, clock)
    if not isinstance(data, dict) or not data.get("sub"):
        return None
    return {"account_id": str(data["sub"]), "email": data.get("email"), "name": data.get("name")}


def fetch_sites(
    http: httpx.Client, api_url: str, access_token: str, clock: ServerClock
) -> list[Site] | None:
    data = _get_json(
        http,
        f"{api_url}/oauth/token/accessible-resources",
        {"Authorization": f"Bearer {access_token}"},
        clock,
    )
    if not isinstance(data, list):
        return None
    return [
        Site(id=str(item.get("id")), name=str(item.get("name", "")), url=str(item.get("url", "")))
        for item in data
        if isinstance(item, dict) and item.get("id")
    ]


def check_bitbucket(
    http: httpx.Client, bitbucket_url: str, email: str, token: str
) -> tuple[bool, str]:
    """Validate a Bitbucket API token live: ``GET /2.0/user`` with Basic email:token."""
    basic = base64.b64encode(f"{email}:{token}".encode()).decode()
    try:
        response = http.get(
            f"{bitbucket_url}/2.0/user",
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        return False, f"Bitbucket could not be reached ({type(exc).__name__})"
    if response.status_code == 200:
        try:
            name = response.json().get("display_name") or email
        except ValueError:
            name = email
        return True, f"Bitbucket accepts the token for {name}"
    if response.status_code in (401, 403):
        return False, f"Bitbucket refused the token for {email} (HTTP {response.status_code})"
    return False, f"Bitbucket answered HTTP {response.status_code}"


def basic_auth_header(email: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()
