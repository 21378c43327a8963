"""A small in-memory OAuth 2.1 server for fast unit tests through httpx.MockTransport.

It keeps its own clock (sent in the Date header), rotates refresh tokens, detects reuse
and idle expiry, and records every token request, so the CLI's protocol can be tested
without the real mock. Integration tests use the real mock IdP over a socket.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

ISSUER = "https://idp.test"
API = "https://api.test"
BB = "https://bb.test"
DAY = 86400


@dataclass
class Family:
    account: str
    revoked: str | None = None


@dataclass
class FakeIdP:
    now: float = 1_800_000_000.0
    access_ttl: int = 8 * 3600
    invalid_grant_status: int = 403
    sites: list[dict[str, str]] = field(
        default_factory=lambda: [{"id": "cloud-1", "name": "acme", "url": "https://acme.test"}]
    )
    bitbucket_tokens: dict[str, str] = field(
        default_factory=lambda: {"alice@example.com": "bb-secret-alice"}
    )
    has_identity: bool = True
    iss_supported: bool = True
    device_supported: bool = True
    offline: bool = False
    slow_down_first: bool = False
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    access: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> family, exp
    refresh: dict[str, dict[str, Any]] = field(default_factory=dict)
    families: dict[str, Family] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    revoked_tokens: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    issuer: str = ISSUER
    issued: list[str] = field(default_factory=list)  # every token ever issued

    # test helpers -------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def grant_types(self) -> list[str]:
        return [
            form.get("grant_type", "") for _, path, form in self.requests if path == "/oauth/token"
        ]

    def refresh_count(self) -> int:
        return self.grant_types().count("refresh_token")

    def browser(self, *, deny: bool = False, state: str | None = None, iss: str | None = None):
        """A fake browser: 'signs in' and follows the redirect to the loopback callback."""

        def open_url(url: str) -> bool:
            query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
            self.last_authorize = query
            params: dict[str, str] = {"state": state if state is not None else query["state"]}
            params["iss"] = iss if iss is not None else self.issuer
            if deny:
                params["error"] = "access_denied"
            else:
                code = secrets.token_urlsafe(16)
                self.codes[code] = query
                params["code"] = code
            httpx.get(f"{query['redirect_uri']}?{urlencode(params)}", timeout=5)
            return True

        return open_url

    def revoke_all(self, reason: str) -> None:
        for family in self.families.values():
            family.revoked = reason

    # protocol -----------------------------------------------------------------------------
    def _reply(self, status: int, body: Any) -> httpx.Response:
        return httpx.Response(
            status,
            json=body,
            headers={"Date": formatdate(self.now, usegmt=True), "Cache-Control": "no-store"},
        )

    def _issue(self, family_id: str) -> dict[str, Any]:
        access = "at-" + secrets.token_urlsafe(20)
        refresh = "rt-" + secrets.token_urlsafe(20)
        self.issued += [access, refresh]
        self.access[access] = (family_id, self.now + self.access_ttl)
        self.refresh[refresh] = {"family": family_id, "used": False, "last": self.now}
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": self.access_ttl,
            "scope": "read:me read:jira-work offline_access",
        }

    def _new_family(self) -> str:
        family_id = secrets.token_hex(4)
        self.families[family_id] = Family("alice")
        return family_id

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            return self._handle(request)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        if self.offline:
            raise httpx.ConnectError("offline", request=request)
        url = request.url
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.requests.append((request.method, url.path, form))
        self._last_query = {k: v[0] for k, v in parse_qs(url.query.decode()).items()}
        oauth_prefixes = ("/.well-known/", "/oauth/token", "/oauth/revoke", "/oauth/device")
        if url.path == "/authorize" or (
            url.path.startswith(oauth_prefixes) and url.path != "/oauth/token/accessible-resources"
        ):
            return self._oauth(url.path, form)
        if url.path == "/2.0/user":
            header = request.headers.get("authorization", "")
            email, _, token = base64.b64decode(header.split(" ", 1)[1]).decode().partition(":")
            if self.bitbucket_tokens.get(email) == token:
                return self._reply(200, {"display_name": "Alice", "username": "alice"})
            return self._reply(401, {"type": "error", "error": {"message": "Bad token"}})
        return self._api(request)

    def _oauth(self, path: str, form: dict[str, str]) -> httpx.Response:
        issuer = self.issuer
        if path == "/authorize":
            # A consenting user: issue a code and redirect to the loopback callback.
            query = self._last_query
            code = secrets.token_urlsafe(16)
            self.codes[code] = query
            params = {"code": code, "state": query["state"], "iss": issuer}
            location = f"{query['redirect_uri']}?{urlencode(params)}"
            return httpx.Response(302, headers={"Location": location})
        if path == "/.well-known/oauth-authorization-server":
            meta = {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/oauth/token",
                "revocation_endpoint": f"{issuer}/oauth/revoke",
                "authorization_response_iss_parameter_supported": self.iss_supported,
                "code_challenge_methods_supported": ["S256"],
            }
            if self.device_supported:
                meta["device_authorization_endpoint"] = f"{issuer}/oauth/device/code"
            return self._reply(200, meta)
        if path == "/oauth/token":
            return self._token(form)
        if path == "/oauth/revoke":
            token = form.get("token", "")
            self.revoked_tokens.append(token)
            if token in self.refresh:
                self.families[self.refresh[token]["family"]].revoked = "logout"
            self.access.pop(token, None)
            return self._reply(200, {})
        if path == "/oauth/device/code" and self.device_supported:
            code = secrets.token_urlsafe(16)
            self.devices[code] = {"approved": False, "polls": 0}
            return self._reply(
                200,
                {
                    "device_code": code,
                    "user_code": "WDJB-MJHT",
                    "verification_uri": f"{issuer}/device",
                    "verification_uri_complete": f"{issuer}/device?user_code=WDJB-MJHT",
                    "expires_in": 600,
                    "interval": 1,
                },
            )
        return self._reply(404, {"error": "not_found"})

    def _bad_grant(self, description: str) -> httpx.Response:
        return self._reply(
            self.invalid_grant_status,
            {"error": "invalid_grant", "error_description": description},
        )

    def _token(self, form: dict[str, str]) -> httpx.Response:
        grant = form.get("grant_type")
        if grant == "authorization_code":
            query = self.codes.pop(form.get("code", ""), None)
            if query is None:
                return self._bad_grant("Unknown code.")
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if (
                challenge != query["code_challenge"]
                or form["redirect_uri"] != query["redirect_uri"]
            ):
                return self._bad_grant("PKCE or redirect mismatch.")
            return self._reply(200, self._issue(self._new_family()))
        if grant == "refresh_token":
            record = self.refresh.get(form.get("refresh_token", ""))
            if record is None:
                return self._bad_grant("Unknown or invalid refresh token.")
            family = self.families[record["family"]]
            if family.revoked == "org_admin":
                return self._bad_grant("Session revoked by an organization admin.")
            if family.revoked:
                return self._bad_grant("Refresh token was revoked.")
            if record["used"]:
                family.revoked = "reuse"
                return self._bad_grant("Refresh token reuse detected; the session was revoked.")
            if self.now - record["last"] > 30 * DAY:
                return self._bad_grant("Refresh token expired after 30 days of inactivity.")
            record["used"] = True
            return self._reply(200, self._issue(record["family"]))
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            device = self.devices.get(form.get("device_code", ""))
            if device is None:
                return self._reply(400, {"error": "expired_token"})
            device["polls"] += 1
            if device.get("denied"):
                return self._reply(400, {"error": "access_denied"})
            if device["polls"] == 1 and self.slow_down_first:
                return self._reply(400, {"error": "slow_down"})
            if not device["approved"] and device["polls"] < 3:
                return self._reply(400, {"error": "authorization_pending"})
            return self._reply(200, self._issue(self._new_family()))
        return self._reply(400, {"error": "unsupported_grant_type"})

    def _api(self, request: httpx.Request) -> httpx.Response:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ")
        entry = self.access.get(token)
        if entry is None or entry[1] <= self.now or self.families[entry[0]].revoked:
            return httpx.Response(
                401,
                json={"error": "invalid_token"},
                headers={
                    "Date": formatdate(self.now, usegmt=True),
                    "WWW-Authenticate": 'Bearer error="invalid_token", error_description="expired"',
                },
            )
        path = request.url.path
        if not self.has_identity and path in ("/me", "/oauth/token/accessible-resources"):
            return self._reply(404, {"error": "not_found"})
        if path == "/me":
            return self._reply(
                200, {"account_id": "acc-alice", "email": "alice@example.com", "name": "Alice"}
            )
        if path == "/oauth/token/accessible-resources":
            return self._reply(200, self.sites)
        if path == "/forbidden":
            return self._reply(
                403,
                {"error": {"code": "forbidden", "message": "Delete is not allowed by your org"}},
            )
        return self._reply(
            200,
            {
                "path": path,
                "method": request.method,
                "body": json.loads(request.content or b"null"),
            },
        )


def serve_over_socket(fake: FakeIdP):
    """Serve ``fake`` over a real loopback socket (for subprocess tests): returns the
    server, whose ``url`` is the issuer, API and Bitbucket URL at once."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            request = httpx.Request(
                self.command, f"{fake.issuer}{self.path}", headers=dict(self.headers), content=body
            )
            response = fake.handle(request)
            payload = response.content
            # send_response_only: no Date of our own, the fake's clock sets it.
            self.send_response_only(response.status_code)
            for key, value in response.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _any

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    server.url = fake.issuer  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
