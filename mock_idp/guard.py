"""The checks every request passes before any route sees it (the outermost middleware).

- ``Host`` must be a loopback name (any port) or a configured host (``allowed_hosts``,
  the ``issuer``'s host): a DNS-rebinding page cannot read the mock's answers, and a
  request for ``Host: login.evil.example`` can never make the mock mint tokens with
  that issuer (the issuer is derived from the Host when no ``issuer`` is set).
- Bodies are read here, once, up to a limit per path (413 beyond it), and JSON nested
  deeper than any real request is refused (400) before a parser recurses into it.
- The control API (``/_mock``, its docs and OpenAPI document included) and open client
  registration refuse cross-site requests: a foreign ``Origin`` or ``Sec-Fetch-Site:
  cross-site`` is 403, and a POST must say ``Content-Type: application/json``, which a
  cross-site form or ``no-cors`` fetch cannot send without a CORS preflight (415).
- With a control token set, ``/_mock`` needs ``Authorization: Bearer <token>`` (401).
"""

from __future__ import annotations

import json
import re
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_idp import is_control_path
from mock_idp.bodies import (
    MAX_JSON_DEPTH,
    SURROGATE_MESSAGE,
    json_depth_exceeds,
    json_not_text,
    max_body_for,
    read_body,
)

if TYPE_CHECKING:
    from mock_idp.idp import MockIdP

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
REGISTER_PATH = "/oauth/register"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# RFC 3986 reg-name / IPv4 (no userinfo, no percent-encoding: no real client sends one).
_HOST_NAME = re.compile(r"[a-z0-9._~-]{1,253}")
_HOST_PORT = re.compile(r"(?:\[([0-9a-f:.]{2,45})\]|([^:\[\]]+))(?::([0-9]{1,5}))?")

Refusal = tuple[int, str, str, list[tuple[bytes, bytes]]]


def host_name(host_header: str) -> str | None:
    """The lower-case host name of a ``Host`` header (brackets off an IPv6 literal),
    or None when it is not a valid host[:port]."""
    match = _HOST_PORT.fullmatch(host_header.strip().lower())
    if match is None:
        return None
    v6, name, port = match.groups()
    if port is not None and not 0 < int(port) <= 65535:
        return None
    if v6 is not None:
        return v6
    return name if _HOST_NAME.fullmatch(name) else None


def normalise_host(entry: str) -> str:
    """An ``allowed_hosts`` entry as compared: lower case, no port, no brackets."""
    return host_name(entry) or entry.strip().lower()


class RequestGuard:
    def __init__(self, app: ASGIApp, idp: MockIdP) -> None:
        self.app = app
        self.idp = idp
        # allowed_hosts() for the settings it was computed from (the issuer may change
        # at runtime); the token endpoint is the benchmarked hot path.
        self._hosts_for: tuple[tuple[str, ...], str | None] | None = None
        self._hosts: frozenset[str] = LOOPBACK_NAMES

    def allowed_hosts(self) -> frozenset[str]:
        settings = self.idp.settings
        key = (tuple(settings.allowed_hosts), settings.issuer)
        if key != self._hosts_for:
            self._hosts = self._compute_hosts()
            self._hosts_for = key
        return self._hosts

    def _compute_hosts(self) -> frozenset[str]:
        settings = self.idp.settings
        hosts = set(LOOPBACK_NAMES)
        hosts.update(normalise_host(h) for h in settings.allowed_hosts)
        if settings.issuer:
            issuer_host = urlsplit(settings.issuer).hostname
            if issuer_host:
                hosts.add(issuer_host.lower())
        return frozenset(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, value)  # the first of a repeated header
        refusal = self._check_headers(scope, headers)
        if refusal is None and scope["method"] in BODY_METHODS:
            body, refusal = await _read_body(receive, headers, max_body_for(scope["path"]))
            if body is None and refusal is None:
                return  # the client went away mid-body: nobody to answer
            if body is not None:
                receive = _replay(body, receive)
        if refusal is not None:
            await _refuse(send, *refusal)
            return
        await self.app(scope, receive, send)

    def _check_headers(self, scope: Scope, headers: dict[bytes, bytes]) -> Refusal | None:
        raw_host = headers.get(b"host")
        if raw_host is not None:
            name = host_name(raw_host.decode("latin-1"))
            if name is None:
                return 400, "invalid_request", "The Host header is not a valid host name.", []
            if name not in self.allowed_hosts():
                return (
                    421,
                    "invalid_request",
                    "This mock IdP does not serve that Host. Use a loopback address, or add "
                    "the name to the 'allowed_hosts' setting (TWG_MOCK_ALLOWED_HOSTS).",
                    [],
                )
        path: str = scope["path"]
        control = is_control_path(path)
        if not control and path != REGISTER_PATH:
            return None
        if _cross_site(scope, headers, self.idp.settings.issuer):
            return (
                403,
                "access_denied",
                "Cross-site requests to the control API and client registration are refused.",
                [],
            )
        if scope["method"] == "POST" and not _is_json(headers.get(b"content-type", b"")):
            return (
                415,
                "invalid_request",
                "Send 'Content-Type: application/json' (with a JSON body, or none).",
                [],
            )
        if control:
            return self._check_control_token(headers)
        return None

    def _check_control_token(self, headers: dict[bytes, bytes]) -> Refusal | None:
        expected = self.idp.settings.control_token
        if not expected:
            return None
        scheme, _, given = headers.get(b"authorization", b"").strip().partition(b" ")
        if scheme.lower() == b"bearer" and secrets.compare_digest(given.strip(), expected.encode()):
            return None
        return (
            401,
            "unauthorized",
            "The control API needs 'Authorization: Bearer <control token>'.",
            [(b"www-authenticate", b'Bearer realm="twg-mock-idp control"')],
        )


def _cross_site(scope: Scope, headers: dict[bytes, bytes], issuer: str | None) -> bool:
    """Whether a browser says this request comes from another site."""
    if headers.get(b"sec-fetch-site", b"").lower() == b"cross-site":
        return True
    origin = headers.get(b"origin")
    if origin is None:
        return False  # not a browser's cross-origin request (curl, httpx, the CLI)
    own = {f"{scope.get('scheme', 'http')}://{headers.get(b'host', b'').decode('latin-1')}"}
    if issuer:
        own.add(issuer.rstrip("/"))
    return origin.decode("latin-1").strip().lower() not in {o.lower() for o in own}


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json"


async def _read_body(
    receive: Receive, headers: dict[bytes, bytes], limit: int
) -> tuple[bytes | None, Refusal | None]:
    """The whole body, or why it is refused. (None, None): the client went away."""
    too_large: Refusal = (
        413,
        "invalid_request",
        f"The request body is larger than {limit} bytes.",
        [(b"connection", b"close")],
    )
    declared = headers.get(b"content-length", b"")
    if declared.isdigit() and int(declared) > limit:
        return None, too_large
    read = await read_body(receive, limit)
    if read.gone:
        return None, None
    if len(read.body) > limit:
        return None, too_large
    body = read.body
    if json_depth_exceeds(body):
        return None, (
            400,
            "invalid_request",
            f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.",
            [],
        )
    if json_not_text(body):
        return None, (400, "invalid_request", SURROGATE_MESSAGE, [])
    return body, None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already read body to the app, then the real one
    (which reports a disconnect)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _refuse(
    send: Send, status: int, error: str, description: str, extra: list[tuple[bytes, bytes]]
) -> None:
    payload = json.dumps({"error": error, "error_description": description}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        (b"pragma", b"no-cache"),
        (b"content-length", str(len(payload)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
