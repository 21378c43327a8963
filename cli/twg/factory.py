"""Builds what commands need, lazily: settings, clock, HTTP client, credential store,
session manager, browser opener. Tests pass fakes instead of patching globals."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from twg.iostreams import IOStreams
from twg.settings import LOGIN_TIMEOUT, LOGIN_TIMEOUT_AUTOMATION, Settings, seconds_setting

if TYPE_CHECKING:
    import httpx

    from twg.auth.credentials import CredentialStore
    from twg.auth.discovery import ServerMetadata
    from twg.auth.oauth_client import OAuthClient
    from twg.auth.servertime import ServerClock
    from twg.auth.session import SessionManager
    from twg.upkeep.runner import CommandRunner

USER_AGENT = "twg-cli/0.1"


class Factory:
    def __init__(
        self,
        io: IOStreams,
        environ: Mapping[str, str] | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        local_now: Callable[[], float] = time.time,
        keyring_backend: Any = None,
        browser: Callable[[str], bool] | None = None,
        login_timeout: float | None = None,
        command_runner: CommandRunner | None = None,
        sleep: Callable[[float], None] | None = None,
        platform: str | None = None,
    ) -> None:
        self.io = io
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.transport = transport
        self.local_now = local_now
        self.keyring_backend = keyring_backend
        self.open_browser = browser or self._open_browser
        self.browser_injected = browser is not None
        self._login_timeout = login_timeout
        self._stores: dict[str, CredentialStore] = {}
        self.store_fallback_reason: str | None = None
        # Upkeep: scheduler commands, the foreground loop's wait, the OS to schedule on.
        self._command_runner = command_runner
        self.sleep = sleep
        self.platform = platform or sys.platform

    def _open_browser(self, url: str) -> bool:
        from twg.auth.browser_open import open_in_browser  # BROWSER, else webbrowser

        return open_in_browser(url, self.environ, self.login_timeout)

    @cached_property
    def settings(self) -> Settings:
        from twg.auth.configdir import check_config_dir

        settings = Settings.from_environ(self.environ)
        # Before anything is read from it: a directory others can write could hold a
        # swapped auth.conf that sends tokens elsewhere.
        check_config_dir(settings.config_dir)
        return settings

    @property
    def agent(self) -> str | None:
        from twg.auth.agents import detect_agent

        return detect_agent(self.environ)

    @property
    def automation(self) -> bool:
        from twg.auth.agents import is_ci

        return is_ci(self.environ) or self.agent is not None

    @property
    def login_timeout(self) -> float:
        if self._login_timeout is not None:
            return self._login_timeout
        default = LOGIN_TIMEOUT_AUTOMATION if self.automation else LOGIN_TIMEOUT
        return seconds_setting(self.environ, "TWG_LOGIN_TIMEOUT", default)

    @cached_property
    def clock(self) -> ServerClock:
        from twg.auth.servertime import ServerClock

        clock = ServerClock(self.local_now)
        clock.load(self.settings.config_dir)
        return clock

    def http(self, auth: httpx.Auth | None = None, timeout: float | None = None) -> httpx.Client:
        import httpx

        from twg.lazy_tls import LazyTLSTransport

        clock = self.clock

        def record_server_time(response: httpx.Response) -> None:
            # Expiry maths uses server time: every IdP/API response updates the skew.
            clock.observe_date_header(response.headers.get("date"))

        return httpx.Client(
            transport=self.transport or LazyTLSTransport(),
            auth=auth,
            timeout=self.settings.http_timeout if timeout is None else timeout,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
            event_hooks={"response": [record_server_time]},
        )

    @cached_property
    def plain_http(self) -> httpx.Client:
        return self.http()

    @cached_property
    def metadata(self) -> ServerMetadata:
        from twg.auth.discovery import atlassian_metadata, discover

        if self.settings.idp_url is None:
            return atlassian_metadata()
        return discover(self.plain_http, self.settings.idp_url)

    def oauth(self) -> OAuthClient:
        from twg.auth.client_app import resolve_secret
        from twg.auth.oauth_client import OAuthClient

        settings = self.settings
        oauth = OAuthClient(
            self.plain_http,
            self.metadata,
            self.client_id,
            self.clock,
            client_secret=lambda: resolve_secret(
                settings.client_secret, self.client_id, settings.config_dir, self.store
            ),
        )
        oauth.url_setting = "TWG_IDP_URL" if self.settings.idp_url else None
        return oauth

    @cached_property
    def client_id(self) -> str:
        """TWG_CLIENT_ID, else the one `twg setup client` saved, else the default."""
        from twg.auth.client_app import resolve_client_id

        return resolve_client_id(
            self.environ.get("TWG_CLIENT_ID"), self.settings.config_dir, self.settings.client_id
        )

    def store(self, name: str | None = None) -> CredentialStore:
        """The store called ``name`` ("keyring"/"file"), or the preferred one."""
        from twg.auth.credentials import FileStore, KeyringStore, choose_store

        key = name or self.settings.credential_store or "auto"
        if key not in self._stores:
            if key == "file":
                store: CredentialStore = FileStore(self.settings.config_dir)
            elif key == "keyring" and self.keyring_backend is not None:
                store = KeyringStore(self.keyring_backend, self.settings.keyring_timeout)
            else:
                store, reason = choose_store(
                    self.settings.config_dir,
                    self.environ,
                    preferred=None if key == "auto" else key,
                    keyring_backend=self.keyring_backend,
                    timeout=self.settings.keyring_timeout,
                )
                if key == "auto":
                    self.store_fallback_reason = reason
            self._stores[key] = store
        return self._stores[key]

    def all_stores(self) -> list[CredentialStore]:
        """Every store that could hold our secrets (for logout)."""
        from twg.auth.credentials import FileStore
        from twg.errors import StorageError

        stores: list[CredentialStore] = [FileStore(self.settings.config_dir)]
        try:
            keyring_store = self.store("keyring")
        except StorageError:
            return stores
        return [keyring_store, *stores]

    def close(self) -> None:
        """Close the shared HTTP client if one was built (no socket left open), and keep
        the server time it learned for the next run."""
        client = self.__dict__.pop("plain_http", None)
        if client is not None:
            client.close()
        clock = self.__dict__.get("clock")
        if clock is not None:
            clock.save(self.settings.config_dir)

    @cached_property
    def session(self) -> SessionManager:
        """The session of the issuer this command is configured for."""
        return self.session_for(self.settings.issuer)

    def session_for(self, issuer: str) -> SessionManager:
        """The session manager of ``issuer``: its tokens go to that issuer only."""
        from twg.auth.auth_conf import issuer_key
        from twg.auth.session import SessionManager

        own = issuer_key(issuer) == issuer_key(self.settings.issuer)
        return SessionManager(
            self.settings.config_dir,
            store_for=lambda name: self.store(name),
            oauth=self.oauth if own else (lambda: self.oauth_for(issuer)),
            clock=self.clock,
            environ=self.environ,
            on_use=self.record_use,
            blocked_hint=self.upkeep_hint,
            issuer=issuer,
            sleep=time.sleep if self.sleep is None else self.sleep,
        )

    def oauth_for(self, issuer: str, client_id: str | None = None) -> OAuthClient:
        """An OAuth client for another stored issuer (``twg logout --all``), built from
        that issuer's own metadata, never this command's."""
        from twg.auth.auth_conf import issuer_key
        from twg.auth.discovery import atlassian_metadata, discover
        from twg.auth.oauth_client import OAuthClient
        from twg.settings import ATLASSIAN_ISSUER

        if issuer_key(issuer) == issuer_key(self.settings.issuer) and client_id is None:
            return self.oauth()
        if issuer_key(issuer) == ATLASSIAN_ISSUER:
            metadata = atlassian_metadata()
        else:
            metadata = discover(self.plain_http, issuer_key(issuer))
        return OAuthClient(
            self.plain_http, metadata, client_id or self.settings.client_id, self.clock
        )

    @property
    def command_runner(self) -> CommandRunner:
        from twg.upkeep.runner import SubprocessRunner

        if self._command_runner is None:
            self._command_runner = SubprocessRunner()
        return self._command_runner

    def record_use(self) -> None:
        """Someone used the session: upkeep keeps it alive only while this happens."""
        from twg.upkeep.usage import record_use

        record_use(self.environ, self.local_now())

    def upkeep_hint(self) -> str | None:
        from twg.upkeep.report import blocked_hint

        return blocked_hint(self.settings.config_dir)
