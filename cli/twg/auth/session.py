"""The refresh protocol: load credentials, refresh them safely across processes, save.

Credentials are kept per issuer (``auth_conf`` sections, one token-set entry per issuer
in the secret store): a manager only ever reads, sends and clears the session of the
issuer it was built for, so a token never reaches a server that did not mint it.

Rotating refresh tokens are single-use, so a refresh:
1. takes the RefreshLock (one process at a time, with a timeout);
2. re-reads the store under the lock: if another process already refreshed, it uses
   that result and sends nothing;
3. checks BEFORE sending that the result can be saved (config dir and store writable):
   a sandbox must not spend the token and lose its replacement;
4. sends the refresh token, and when the answer is lost (dropped connection, 5xx,
   timeout) sends the SAME token again, a few times: the server's reuse leeway hands
   back the successor it already issued;
5. saves the whole token set in one atomic write (then auth.conf with fingerprints);
6. on invalid_grant clears local tokens only if the stored refresh token is still the
   one it sent (compare-and-clear), and says why the session died. Anything else
   (5xx, 429, HTML, timeouts) keeps the session and says to retry.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from twg.auth import auth_conf
from twg.auth.agents import agent_fix, detect_agent
from twg.auth.atomic import probe_writable, remove_stale_temps, stale_temps
from twg.auth.auth_conf import AuthConf
from twg.auth.credentials import FILE_NAME, LEGACY_TOKEN_KEYS, CredentialStore
from twg.auth.lock import RefreshLock
from twg.auth.oauth_errors import OAuthErrorResponse
from twg.auth.servertime import ServerClock
from twg.auth.tokens import INACTIVITY_DAYS, TokenSet, fingerprint
from twg.errors import (
    AuthInvalid,
    AuthRequired,
    IpNotAllowed,
    KeyringTimeout,
    NetworkError,
    StorageError,
    Unavailable,
)

if TYPE_CHECKING:
    from twg.auth.oauth_client import OAuthClient

log = logging.getLogger("twg.session")
LOGIN_HINT = "Run `twg login` to sign in again."
DAY = 86400
# A lost answer is retried with the same refresh token: a few tries, short backoff.
REFRESH_ATTEMPTS = 3
BACKOFF = (0.5, 1.0)
MAX_RETRY_AFTER = 10.0
# Files written under the lock whose killed saves leave temp files (with secrets).
LOCKED_FILES = (FILE_NAME, auth_conf.FILENAME)


@dataclass
class Credentials:
    conf: AuthConf | None
    tokens: TokenSet
    source: str  # "env", "keyring" or "file"


class RefreshBlocked(StorageError):
    code = "REFRESH_BLOCKED"


def describe_invalid_grant(description: str, conf: AuthConf | None, server_now: float) -> str:
    """Why the server refused the refresh token, in words a person can act on."""
    text = description.lower()
    said = f' (server: "{description}")' if description else ""
    idle = (
        conf is not None
        and conf.last_refresh_at is not None
        and server_now - conf.last_refresh_at > INACTIVITY_DAYS * DAY
    )
    if "suspended" in text:
        return (
            "Your account was suspended by your organization admin, which ended your "
            f"session; ask them to restore it{said}."
        )
    if "permission change" in text:
        return (
            "Your organization admin revoked the session after a permission change; log "
            f"in again to get the new permissions{said}."
        )
    if "organization admin" in text or "organisation admin" in text:
        return f"Your session was revoked by an organization admin{said}."
    if "inactiv" in text or (idle and ("expired" in text or "unknown" in text or not text)):
        return f"Your session expired after {INACTIVITY_DAYS} days of inactivity{said}."
    if "reuse" in text:
        return (
            "Your session was revoked because its refresh token was used twice "
            f"(by another copy of these credentials, or a stolen one){said}."
        )
    return f"Your session was revoked elsewhere or is no longer valid{said}."


def _token_dict(tokens: TokenSet) -> dict[str, str]:
    saved = {"access_token": tokens.access_token}
    if tokens.refresh_token:
        saved["refresh_token"] = tokens.refresh_token
    return saved


class SessionManager:
    def __init__(
        self,
        config_dir: Path,
        store_for: Callable[[str | None], CredentialStore],
        oauth: Callable[[], OAuthClient],
        clock: ServerClock,
        environ: Mapping[str, str],
        lock_timeout: float = 30.0,
        on_use: Callable[[], None] | None = None,
        blocked_hint: Callable[[], str | None] | None = None,
        *,
        issuer: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config_dir = config_dir
        self.issuer = auth_conf.issuer_key(issuer)
        self.store_for = store_for
        self._oauth = oauth
        self.clock = clock
        self.environ = environ
        self.lock_timeout = lock_timeout
        # Upkeep hooks (twg.upkeep): note that someone used the session, and add what
        # upkeep would do to the "cannot refresh here" message.
        self.on_use = on_use
        self.blocked_hint = blocked_hint
        self.sleep = sleep
        self._legacy_flat = False  # reading a version 1 layout that could not be migrated

    # reading -----------------------------------------------------------------------------
    def env_override(self) -> str | None:
        return self.environ.get("TWG_OAUTH_ACCESS_TOKEN") or None

    def all_sessions(self) -> dict[str, AuthConf]:
        """Every stored session by issuer; a version 1 file is migrated first."""
        file = auth_conf.load_all(self.config_dir)
        if file.legacy:
            try:
                self._migrate()
            except (KeyringTimeout, auth_conf.CorruptFile):
                raise  # said as it is (a corrupt file was moved aside)
            except StorageError:
                # A read-only directory: read the old layout as it is; migrate next time.
                self._legacy_flat = True
                return file.sessions
            file = auth_conf.load_all(self.config_dir)
        return file.sessions

    def other_sessions(self) -> list[AuthConf]:
        return [c for key, c in sorted(self.all_sessions().items()) if key != self.issuer]

    def load_conf(self) -> AuthConf | None:
        conf = self.all_sessions().get(self.issuer)
        if (
            conf is not None
            and conf.clock_skew
            and not self.clock.observed
            and self.clock.persisted is None
        ):
            self.clock.set_skew(conf.clock_skew)
        return conf

    def _read(self) -> tuple[Credentials | None, bool]:
        """Credentials from disk and whether auth.conf matches the secrets."""
        conf = self.load_conf()
        if conf is None:
            return None, True
        store = self.store_for(conf.store)
        saved = store.get_tokens(self.issuer) or {}
        if not saved and self._legacy_flat:
            saved = {k: v for k in LEGACY_TOKEN_KEYS if (v := store.get(k))}
        access = saved.get("access_token")
        refresh = saved.get("refresh_token")
        if not access and not refresh:
            # Missing secrets while auth.conf names them: a writer may be mid-save.
            return None, conf.access_fp is None and conf.refresh_fp is None
        tokens = TokenSet(
            access_token=access or "",
            refresh_token=refresh,
            issued_at=conf.access_issued_at or 0.0,
            expires_at=conf.access_expires_at,
            scope=" ".join(conf.scopes),
        )
        consistent = conf.access_fp == fingerprint(access) and conf.refresh_fp == fingerprint(
            refresh
        )
        return Credentials(conf, tokens, store.name), consistent

    def load(self) -> Credentials | None:
        """Current credentials (the env override first); None when not logged in."""
        override = self.env_override()
        if override:
            return Credentials(None, TokenSet(override, None, 0.0, None), "env")
        self.sweep_temps()
        try:
            creds, consistent = self._read()
        except KeyringTimeout:
            raise
        except auth_conf.CorruptFile:
            raise
        except StorageError:
            # Some keyring backends rewrite their file in place: a read racing a
            # refresh can fail. Read again under the lock, when no one is writing.
            creds, consistent = None, False
        if not consistent:
            # A refresh is writing right now (secrets saved, auth.conf not yet): wait
            # for it under the lock and read again.
            with RefreshLock(self.config_dir, self.lock_timeout):
                creds = self._read_under_lock()
        return creds

    def _read_under_lock(self) -> Credentials | None:
        creds, consistent = self._read()
        if creds is not None and not consistent:
            # A writer died between the two saves: the secrets are the newer truth, but
            # their expiry is unknown, so treat the access token as due for refresh.
            creds.tokens.issued_at = creds.tokens.expires_at = 0.0
        return creds

    def not_logged_in(self) -> AuthRequired:
        """The error for "no session for this issuer", naming it and any others."""
        others: list[str] = []
        with contextlib.suppress(StorageError):
            others = [c.key for c in self.other_sessions()]
        remedy = "Run `twg login` to sign in."
        if others:
            remedy += (
                f" (Stored sessions for other issuers: {', '.join(others)}; set TWG_IDP_URL "
                "to use one.)"
            )
        return AuthRequired(f"You are not logged in to {self.issuer}.", remedy)

    def require(self) -> Credentials:
        creds = self.load()
        if creds is not None:
            if self.on_use is not None and creds.source != "env":
                self.on_use()
            return creds
        conf = self.load_conf()
        if conf is not None and conf.invalid_reason:
            raise AuthInvalid(conf.invalid_reason, LOGIN_HINT)
        raise self.not_logged_in()

    # housekeeping ------------------------------------------------------------------------
    def sweep_temps(self) -> None:
        """Remove temp files a killed save left (they may hold tokens). Under the lock,
        so a save in progress in another process is never disturbed."""
        if not stale_temps(self.config_dir, LOCKED_FILES):
            return
        try:
            with RefreshLock(self.config_dir, self.lock_timeout):
                removed = remove_stale_temps(self.config_dir, LOCKED_FILES)
        except StorageError:
            return  # a read-only place: nothing we could remove anyway
        log.debug("removed %d temp file(s) left by an interrupted save", removed)

    def _migrate(self) -> None:
        """Version 1 (one session, flat secrets) to per-issuer sections, under the lock.
        Each step is atomic and the order keeps every crash recoverable: token sets
        written first (flat copies kept), then auth.conf v2, then flat copies removed."""
        with RefreshLock(self.config_dir, self.lock_timeout):
            file = auth_conf.load_all(self.config_dir)
            if not file.legacy:
                return
            stores = []
            for key, conf in file.sessions.items():
                store = self.store_for(conf.store)
                tokens = {k: v for k in LEGACY_TOKEN_KEYS if (v := store.get(k))}
                if tokens and not store.get_tokens(key):
                    store.set_tokens(key, tokens)
                stores.append(store)
            auth_conf.save_all(self.config_dir, file.sessions)
            for store in stores:
                for k in LEGACY_TOKEN_KEYS:
                    store.delete(k)
        log.debug("migrated auth.conf to one section per issuer")

    # saving ------------------------------------------------------------------------------
    def save_locked(self, conf: AuthConf, tokens: TokenSet, store: CredentialStore) -> None:
        """``save`` under the RefreshLock (for login, which runs outside a refresh)."""
        with RefreshLock(self.config_dir, self.lock_timeout):
            self.save(conf, tokens, store)

    def save(self, conf: AuthConf, tokens: TokenSet, store: CredentialStore) -> None:
        """The token set in one atomic write, then auth.conf (whose fingerprints mark
        the save complete). Callers hold the RefreshLock, so readers that see a mix
        wait and read again."""
        if auth_conf.issuer_key(conf.issuer) != self.issuer:
            raise StorageError(f"Refusing to file a session of {conf.issuer} under {self.issuer}.")
        store.set_tokens(self.issuer, _token_dict(tokens))
        conf.store = store.name
        conf.access_issued_at = tokens.issued_at
        conf.access_expires_at = tokens.expires_at
        conf.access_fp = fingerprint(tokens.access_token)
        conf.refresh_fp = fingerprint(tokens.refresh_token)
        conf.clock_skew = self.clock.skew
        conf.invalid_reason = None
        if tokens.scope:
            conf.scopes = tokens.scope.split()
        auth_conf.save(self.config_dir, conf)

    def forget(self, conf: AuthConf) -> None:
        """Remove one issuer's tokens and metadata (logout), under the lock."""
        with RefreshLock(self.config_dir, self.lock_timeout):
            self.store_for(conf.store).set_tokens(conf.key, None)
            auth_conf.remove(self.config_dir, conf.key)

    # refreshing --------------------------------------------------------------------------
    def ensure_fresh(self) -> Credentials:
        """Credentials whose access token is inside the first 75% of its life."""
        creds = self.require()
        now = self.clock.now()
        if creds.source == "env" or not creds.tokens.needs_refresh(now):
            return creds
        if not creds.tokens.expired(now) and self._cannot_save(creds):
            # A sandbox that cannot save: the access token still works, so use it and
            # leave the refresh to upkeep or a normal terminal (never spend it here).
            log.debug("refresh due but the store is not writable; using the valid token")
            return creds
        return self._refresh(lambda c: c.tokens.needs_refresh(self.clock.now()))

    def refresh_ahead(self, lead: float) -> Credentials:
        """Refresh when the refresh threshold is less than ``lead`` seconds away (upkeep),
        with the same lock, preflight and atomic save as every other refresh."""
        return self._refresh(lambda c: c.tokens.needs_refresh(self.clock.now() + lead))

    def end_session(self, reason: str) -> TokenSet | None:
        """Forget the saved tokens and keep ``reason`` for the next command (upkeep ends
        an abandoned session this way); returns the tokens removed, to revoke them."""
        with RefreshLock(self.config_dir, self.lock_timeout):
            creds = self._read_under_lock()
            if creds is None or creds.conf is None or creds.source == "env":
                return None
            store = self.store_for(creds.conf.store)
            self._forget(creds.conf, store, creds.tokens.refresh_token, reason)
            return creds.tokens

    def _cannot_save(self, creds: Credentials) -> bool:
        try:
            store = self.store_for(creds.conf.store) if creds.conf else None
            self._preflight(store)
        except StorageError:
            return True
        return False

    def refresh_after_401(self, failed_access_token: str) -> Credentials:
        """Refresh once after the API refused ``failed_access_token``; if another
        process already replaced it, just use the replacement."""
        return self._refresh(lambda c: c.tokens.access_token == failed_access_token)

    def force_refresh(self) -> Credentials:
        seen = self.require()
        return self._refresh(lambda c: c.tokens.refresh_token == seen.tokens.refresh_token)

    def _refresh(self, still_needed: Callable[[Credentials], bool]) -> Credentials:
        # A read-only config dir cannot even hold the lock file: say why, send nothing.
        self._preflight(None)
        with RefreshLock(self.config_dir, self.lock_timeout):
            remove_stale_temps(self.config_dir, LOCKED_FILES)
            creds = self._read_under_lock()
            if creds is None or creds.conf is None:
                self.require()  # raises the right "not logged in" error
                raise self.not_logged_in()
            if not still_needed(creds):
                log.debug("another process already refreshed; using its tokens")
                return creds
            if not creds.tokens.refresh_token:
                raise AuthInvalid(
                    "Your access token expired and there is no refresh token.", LOGIN_HINT
                )
            store = self.store_for(creds.conf.store)
            self._preflight(store)
            sent = creds.tokens.refresh_token
            try:
                tokens = self._exchange(sent)
            except OAuthErrorResponse as exc:
                if exc.error == "ip_not_allowed":  # the session is fine; the network is not
                    raise IpNotAllowed(exc.description) from None
                if exc.error == "invalid_grant":
                    self._session_died(creds.conf, store, sent, exc.description)
                raise Unavailable(
                    f"The identity provider {self.issuer} did not refresh the session "
                    f"({exc.error}"
                    + (f": {exc.description}" if exc.description else "")
                    + f", HTTP {exc.status}). Your session is kept.",
                    "Try again in a moment; if it persists, check TWG_CLIENT_ID and TWG_IDP_URL.",
                ) from None
            # Save first, everything else after: the old refresh token is spent now.
            creds.conf.last_refresh_at = self.clock.now()
            self.save(creds.conf, tokens, store)
            return Credentials(creds.conf, tokens, store.name)

    def _exchange(self, sent: str) -> TokenSet:
        """Refresh with ``sent``; when the answer is lost or the server is in trouble,
        send the same token again (bounded), honouring Retry-After."""
        attempt = 1
        while True:
            try:
                return self._oauth().refresh(sent)
            except (NetworkError, Unavailable) as exc:
                if attempt >= REFRESH_ATTEMPTS:
                    raise Unavailable(
                        f"The identity provider {self.issuer} is unavailable: {exc.message} "
                        "Your session is kept.",
                        "Try again in a moment.",
                    ) from None
                retry_after = getattr(exc, "retry_after", None)
                delay = BACKOFF[min(attempt - 1, len(BACKOFF) - 1)]
                if isinstance(retry_after, float):
                    delay = min(max(retry_after, 0.0), MAX_RETRY_AFTER)
                log.debug(
                    "refresh attempt %d failed (%s); retrying in %.1fs", attempt, exc.code, delay
                )
                self.sleep(delay)
                attempt += 1

    def _preflight(self, store: CredentialStore | None) -> None:
        """Refuse to send a single-use refresh token whose replacement we could not save."""
        reason = probe_writable(self.config_dir)
        where = str(self.config_dir)
        if reason is None and store is not None:
            reason = store.unwritable_reason()
            where = store.describe()
        if reason is None:
            return
        agent = detect_agent(self.environ)
        message = (
            f"Cannot refresh the session: {where} is not writable ({reason}), so the new "
            "tokens could not be saved. Nothing was sent; your refresh token is unspent."
        )
        if agent:
            remedy = (
                f"twg seems to run inside {agent}'s sandbox. Run `twg auth refresh` from a "
                f"normal terminal, or {agent_fix(agent)} ({self.config_dir})."
            )
        else:
            remedy = (
                f"Run `twg auth refresh` from a normal terminal, or allow writes to "
                f"{self.config_dir}."
            )
        hint = self.blocked_hint() if self.blocked_hint is not None else None
        raise RefreshBlocked(message, f"{remedy} {hint}" if hint else remedy)

    def _session_died(
        self, conf: AuthConf, store: CredentialStore, sent: str, description: str
    ) -> None:
        reason = describe_invalid_grant(description, conf, self.clock.now())
        self._forget(conf, store, sent, reason)
        raise AuthInvalid(reason, LOGIN_HINT)

    def _forget(
        self, conf: AuthConf, store: CredentialStore, sent: str | None, reason: str
    ) -> None:
        # Compare-and-clear: only forget tokens that are still the ones that failed.
        saved = store.get_tokens(self.issuer) or {}
        if saved.get("refresh_token") == sent:
            store.set_tokens(self.issuer, None)
            conf.access_fp = conf.refresh_fp = None
            conf.invalid_reason = reason
            conf.clock_skew = self.clock.skew
            auth_conf.save(self.config_dir, conf)
