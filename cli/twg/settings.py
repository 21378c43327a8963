"""Settings from an injected environment mapping (never read os.environ elsewhere)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ATLASSIAN_API = "https://api.atlassian.com"
ATLASSIAN_ISSUER = "https://auth.atlassian.com"
BITBUCKET_API = "https://api.bitbucket.org"
DEFAULT_CLIENT_ID = "twg-cli"
DEFAULT_SCOPES = (
    "read:me",
    "read:account",
    "read:jira-work",
    "read:jira-user",
    "write:jira-work",
    "read:confluence-content.all",
    "write:confluence-content",
    "offline_access",
)
LOGIN_TIMEOUT = 300.0
LOGIN_TIMEOUT_AUTOMATION = 120.0


@dataclass(frozen=True)
class Settings:
    config_dir: Path
    idp_url: str | None
    api_url: str
    bitbucket_url: str
    client_id: str
    scopes: tuple[str, ...]
    credential_store: str | None
    keyring_timeout: float
    debug: bool
    # A fixed loopback callback (a registered app's one exact URL); None: ephemeral port.
    redirect_uri: str | None = None
    http_timeout: float = 30.0
    # TWG_CLIENT_SECRET (a confidential client, e.g. an Atlassian developer-console app):
    # kept out of repr so no log or traceback of the settings shows it.
    client_secret: str | None = field(default=None, repr=False)
    # Which variable set each URL setting, to name it in messages.
    url_sources: tuple[tuple[str, str], ...] = ()

    @property
    def issuer(self) -> str:
        """The issuer this command's session belongs to: TWG_IDP_URL, else Atlassian's."""
        return self.idp_url or ATLASSIAN_ISSUER

    def source_of(self, url: str) -> str | None:
        """The environment variable whose URL ``url`` starts with, if one set it."""
        for name, value in self.url_sources:
            if url == value or url.startswith(value.rstrip("/") + "/"):
                return name
        return None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Raises ConfigError (exit 78) for a URL setting that is not an http(s) URL."""
        sources = tuple(
            (name, check_url(name, environ[name])) for name in URL_SETTINGS if environ.get(name)
        )
        scopes = tuple(environ.get("TWG_SCOPES", "").replace(",", " ").split()) or DEFAULT_SCOPES
        if "offline_access" not in scopes:
            scopes = (*scopes, "offline_access")  # without it there is no refresh token
        urls = dict(sources)
        idp = urls.get("TWG_IDP_URL")
        return cls(
            config_dir=config_dir(environ),
            idp_url=idp.rstrip("/") if idp else None,
            # Access tokens go only to the API of the issuer that minted them: with a
            # custom issuer and no TWG_API_URL, that issuer serves the API too (as the
            # mock does), never api.atlassian.com.
            api_url=(urls.get("TWG_API_URL") or idp or ATLASSIAN_API).rstrip("/"),
            bitbucket_url=(urls.get("TWG_BITBUCKET_URL") or BITBUCKET_API).rstrip("/"),
            client_id=environ.get("TWG_CLIENT_ID") or DEFAULT_CLIENT_ID,
            scopes=scopes,
            credential_store=(environ.get("TWG_CREDENTIAL_STORE") or "").lower() or None,
            keyring_timeout=seconds_setting(environ, "TWG_KEYRING_TIMEOUT", 5.0),
            debug=environ.get("TWG_DEBUG", "") not in ("", "0"),
            redirect_uri=environ.get("TWG_REDIRECT_URI") or None,
            http_timeout=seconds_setting(environ, "TWG_HTTP_TIMEOUT", 30.0),
            client_secret=environ.get("TWG_CLIENT_SECRET") or None,
            url_sources=sources,
        )


def seconds_setting(environ: Mapping[str, str], name: str, default: float) -> float:
    """``name`` as a number of seconds (unset or empty: ``default``); anything else
    than a positive number up to a day is a ConfigError naming the variable."""
    raw = environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86400:  # also false for NaN
        from twg.errors import ConfigError

        raise ConfigError(
            f"{name} must be a number of seconds from 0 to 86400, not {raw!r}.",
            f"Fix or unset {name}.",
        )
    return value


URL_SETTINGS = ("TWG_IDP_URL", "TWG_API_URL", "TWG_BITBUCKET_URL", "TWG_REDIRECT_URI")


def check_url(name: str, value: str) -> str:
    """``value`` if it is an absolute http(s) URL with a host; else a ConfigError naming
    ``name``, so a missing scheme fails up front instead of as a network error later."""
    from twg.errors import ConfigError

    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{name}={value!r} is not a URL twg can use: it needs http:// or https:// "
            "and a host name.",
            f"For example: {name}=http://127.0.0.1:8080",
        )
    return value.strip()


def config_dir(environ: Mapping[str, str]) -> Path:
    explicit = environ.get("TWG_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32":
        base = environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(base) / "twg"
    home = environ.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".config" / "twg"
