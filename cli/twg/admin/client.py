"""A client of Atlassian's Admin API (``/admin/v1``) for one org and key.

Every failure becomes one line an admin can act on; the key is only ever in the
Authorization header, never in a message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from twg.admin.errors import LOGIN, AdminKeyRefused, OrgNotFound
from twg.auth.unreachable import unreachable
from twg.errors import ApiError, IpNotAllowed, Unavailable, UsageError
from twg.lazy_tls import LazyTLSTransport

if TYPE_CHECKING:
    from twg.factory import Factory

USER_AGENT = "twg-cli/0.1 (admin)"


def _errors(response: httpx.Response) -> tuple[str, str, str]:
    """(code, detail, oauth-style error) from a JSON:API or OAuth-shaped error body."""
    try:
        body: Any = response.json()
    except ValueError:
        return "", "", ""
    if not isinstance(body, dict):
        return "", "", ""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return str(first.get("code") or ""), str(first.get("detail") or "")[:300], ""
    error = body.get("error")
    return "", str(body.get("error_description") or "")[:300], str(error or "")


class AdminClient:
    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        key: str,
        org_id: str,
        url_setting: str | None = None,
    ) -> None:
        self.http = http
        self.base = base_url.rstrip("/") + "/admin/v1"
        self.url_setting = url_setting  # the variable that chose base_url, for messages
        self._key = key
        self.org_id = org_id

    @property
    def org_path(self) -> str:
        return f"/orgs/{quote(self.org_id, safe='')}"

    def request(self, method: str, path: str, body: Any = None) -> Any:
        url = self.base + path
        headers = {"Authorization": f"Bearer {self._key}", "Accept": "application/json"}
        try:
            response = self.http.request(method, url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise unreachable(self.base, exc, self.url_setting) from None
        if response.status_code < 300:
            try:
                return response.json() if response.content else {}
            except ValueError:
                raise Unavailable(
                    "The Admin API answered with something that is not JSON."
                ) from None
        self._fail(response)

    def _fail(self, response: httpx.Response) -> None:
        status = response.status_code
        code, detail, oauth_error = _errors(response)
        if oauth_error == "ip_not_allowed":
            raise IpNotAllowed(detail)
        if status == 401 and code == "key_revoked":
            raise AdminKeyRefused(
                f"The Admin API key for organization {self.org_id} was revoked.",
                "Create a new key in Atlassian Administration, then "
                + LOGIN[0].lower()
                + LOGIN[1:],
            )
        if status == 401:
            raise AdminKeyRefused(
                f"The Admin API refused the key for organization {self.org_id}: it is not a valid "
                "Admin API key.",
                "Check the key, then " + LOGIN[0].lower() + LOGIN[1:],
            )
        if status == 403 and "another organization" in detail:
            raise AdminKeyRefused(
                f"This Admin API key belongs to another organization, not {self.org_id}.",
                "Use a key created for this organization.",
            )
        if status == 404 and path_is_org(response):
            raise OrgNotFound(f"Organization {self.org_id} was not found.", "Check --org.")
        if status == 400 and code in ("invalid_permission", "invalid_category", "invalid_cidr"):
            raise UsageError(detail or "The Admin API refused the value.")
        if status in (429,) or status >= 500:
            raise Unavailable(
                f"The Admin API is unavailable (HTTP {status}).", "Try again in a moment."
            )
        raise ApiError(
            f"The Admin API refused the request (HTTP {status}){': ' + detail if detail else ''}."
        )

    # The Admin API calls `twg admin` makes ------------------------------------------------
    def org(self) -> dict[str, Any]:
        data: dict[str, Any] = self.request("GET", self.org_path)["data"]
        return data

    def users(self) -> list[dict[str, Any]]:
        return list(self.request("GET", f"{self.org_path}/users")["data"])

    def user_by_email(self, email: str) -> dict[str, Any]:
        wanted = email.strip().lower()
        for user in self.users():
            if str(user.get("email", "")).lower() == wanted:
                return user
        raise ApiError(f"No user {email[:120]!r} in organization {self.org_id}.")

    def set_access(self, account_id: str, suspend: bool) -> dict[str, Any]:
        action = "suspend-access" if suspend else "restore-access"
        path = f"{self.org_path}/directory/users/{quote(account_id, safe='')}/{action}"
        return dict(self.request("POST", path))

    def permissions(self) -> dict[str, Any]:
        return dict(self.request("GET", f"{self.org_path}/twg-cli/permissions"))

    def save_permissions(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("PUT", f"{self.org_path}/twg-cli/permissions", body))

    def sessions(self, account_id: str | None = None) -> list[dict[str, Any]]:
        query = f"?account_id={quote(account_id, safe='')}" if account_id else ""
        return list(self.request("GET", f"{self.org_path}/twg-cli/sessions{query}")["data"])

    def revoke_sessions(self, account_id: str | None) -> int:
        path = (
            f"{self.org_path}/users/{quote(account_id, safe='')}/twg-cli/sessions"
            if account_id
            else f"{self.org_path}/twg-cli/sessions"
        )
        return int(self.request("DELETE", path)["revoked_sessions"])

    def allowlist(self) -> list[str]:
        return list(self.request("GET", f"{self.org_path}/ip-allowlist")["cidrs"])

    def set_allowlist(self, cidrs: list[str]) -> list[str]:
        if not cidrs:
            return list(self.request("DELETE", f"{self.org_path}/ip-allowlist")["cidrs"])
        return list(self.request("PUT", f"{self.org_path}/ip-allowlist", {"cidrs": cidrs})["cidrs"])

    def events(self, since: str | None, max_pages: int = 100) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params = f"?from={quote(since, safe='')}" if since else ""
        cursor: str | None = None
        for _ in range(max_pages):
            query = params + (("&" if params else "?") + f"cursor={cursor}" if cursor else "")
            page = self.request("GET", f"{self.org_path}/events{query}")
            found.extend(page.get("data") or [])
            cursor = (page.get("meta") or {}).get("next")
            if not cursor:
                break
        return found


def path_is_org(response: httpx.Response) -> bool:
    """A 404 for the org itself (not for a user or key inside it)."""
    code, detail, _ = _errors(response)
    return code == "not_found" and detail.startswith("Organization")


def open_client(f: Factory, key: str, org_id: str) -> AdminClient:
    """A client over its own httpx.Client: admin calls never touch the user's server clock
    file or session (the isolation is tested byte for byte)."""
    http = httpx.Client(
        transport=f.transport or LazyTLSTransport(),
        timeout=30.0,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )
    api_url = f.settings.api_url
    return AdminClient(http, api_url, key, org_id, f.settings.source_of(api_url))
