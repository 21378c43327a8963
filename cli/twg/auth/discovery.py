"""RFC 8414 authorization server metadata, with the OpenID Connect path as a fallback."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from twg.auth.unreachable import unreachable
from twg.errors import ConfigError, LoginError, Unavailable

ATLASSIAN_ISSUER = "https://auth.atlassian.com"


@dataclass(frozen=True)
class ServerMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str | None = None
    device_authorization_endpoint: str | None = None
    iss_parameter_supported: bool = False
    code_challenge_methods: list[str] = field(default_factory=lambda: ["S256"])
    # OpenID Connect: how to learn who signed in on servers that have no Atlassian /me.
    userinfo_endpoint: str | None = None
    scopes_supported: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServerMetadata:
        # Fields of the wrong type are treated as absent: bad metadata must give a
        # message, never a crash later when an endpoint is used.
        def text(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) and value else None

        def names(name: str) -> list[str]:
            value = data.get(name)
            return [str(v) for v in value] if isinstance(value, list) else []

        for required in ("issuer", "authorization_endpoint", "token_endpoint"):
            if text(required) is None:
                raise LoginError(f"The server's metadata has no {required!r}.")
        return cls(
            issuer=str(text("issuer")),
            authorization_endpoint=str(text("authorization_endpoint")),
            token_endpoint=str(text("token_endpoint")),
            revocation_endpoint=text("revocation_endpoint"),
            device_authorization_endpoint=text("device_authorization_endpoint"),
            iss_parameter_supported=data.get("authorization_response_iss_parameter_supported")
            is True,
            code_challenge_methods=names("code_challenge_methods_supported"),
            userinfo_endpoint=text("userinfo_endpoint"),
            scopes_supported=names("scopes_supported"),
        )


def identity_scopes(metadata: ServerMetadata) -> list[str]:
    """Extra scopes that let a non-Atlassian OpenID Connect server say who signed in.

    A server that publishes Atlassian's ``read:me`` has /me; others may have userinfo.
    """
    offered = set(metadata.scopes_supported)
    if not metadata.userinfo_endpoint or "openid" not in offered or "read:me" in offered:
        return []
    return [s for s in ("openid", "email", "profile") if s in offered]


def atlassian_metadata() -> ServerMetadata:
    """Atlassian's endpoints (it publishes no RFC 8414 document for 3LO)."""
    return ServerMetadata(
        issuer=ATLASSIAN_ISSUER,
        authorization_endpoint=f"{ATLASSIAN_ISSUER}/authorize",
        token_endpoint=f"{ATLASSIAN_ISSUER}/oauth/token",
        revocation_endpoint=f"{ATLASSIAN_ISSUER}/oauth/revoke",
        device_authorization_endpoint=None,
    )


def well_known_urls(issuer: str) -> list[str]:
    """RFC 8414 section 3.1 inserts the well-known segment before any issuer path;
    OpenID Connect Discovery appends it. Try RFC 8414 first."""
    issuer = issuer.rstrip("/")
    scheme, _, rest = issuer.partition("://")
    host, slash, path = rest.partition("/")
    base = f"{scheme}://{host}"
    suffix = f"/{path}" if slash and path else ""
    return [
        f"{base}/.well-known/oauth-authorization-server{suffix}",
        f"{issuer}/.well-known/openid-configuration",
    ]


def discover(http: httpx.Client, issuer: str) -> ServerMetadata:
    """The issuer's metadata. A server that is down or busy (5xx, 429) is Unavailable
    (exit 69); one that answers without usable metadata, or names another issuer, means
    TWG_IDP_URL is wrong (ConfigError, exit 78)."""
    statuses: list[int] = []
    for url in well_known_urls(issuer):
        try:
            response = http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise unreachable(url, exc, "TWG_IDP_URL") from None
        statuses.append(response.status_code)
        if response.status_code == 200:
            try:
                data = response.json()
            except ValueError:
                continue
            if isinstance(data, dict):
                try:
                    metadata = ServerMetadata.from_json(data)
                except LoginError as exc:
                    raise ConfigError(
                        f"{url} is not usable OAuth metadata: {exc.message}",
                        "Check TWG_IDP_URL: it must be the issuer URL of an OAuth 2.1 server.",
                    ) from None
                # RFC 8414 section 3.3: the issuer must match the one we asked about.
                if metadata.issuer.rstrip("/") != issuer.rstrip("/"):
                    raise ConfigError(
                        f"The server at {issuer} says its issuer is {metadata.issuer}; "
                        "refusing mismatched metadata (RFC 8414 section 3.3).",
                        f"Set TWG_IDP_URL={metadata.issuer} if that server is the one you mean.",
                    )
                return metadata
    if any(status >= 500 or status == 429 for status in statuses):
        raise Unavailable(
            f"The identity provider at {issuer} is not answering usefully "
            f"(HTTP {statuses[-1]} for its metadata).",
            "Try again later.",
        )
    raise ConfigError(
        f"{issuer} publishes no OAuth server metadata (HTTP {', '.join(map(str, statuses))} "
        f"for {' and '.join(well_known_urls(issuer))}).",
        "Check TWG_IDP_URL: it must be the issuer URL of an OAuth 2.1 server.",
    )
