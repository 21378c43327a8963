"""CLI sessions as token families: issue, rotate, detect reuse, expire, revoke.

This is the protocol-independent heart of the mock. The authlib grants call into it to
store what they issue and to check refresh tokens; the resource, admin and control APIs
call into it to validate access tokens and to revoke sessions. Expiry is always decided
here, from the mock's clock (authlib would read the wall clock).

Refresh tokens rotate on every use (OAuth 2.1 section 4.3.1). Presenting a rotated token
again is treated as theft and revokes the whole family (RFC 9700 section 4.14.2), except
within ``refresh_reuse_grace`` seconds of its rotation, which models Atlassian's leeway.
The leeway is not a second session: the successor is derived from the presented token
(``successor_for``), so a replay gets the SAME successor the first exchange issued, and
only while that successor is still unused. Exactly one lineage stays alive; presenting
a token from any other point of it revokes the family.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from mock_idp.audit import AuditLog
from mock_idp.clock import MockClock
from mock_idp.models import AccessToken, RefreshToken, Site, TokenFamily
from mock_idp.secrets_util import digest, fingerprint_of_digest, new_secret
from mock_idp.settings import DAY, Settings
from mock_idp.store import MemoryStore

# Why a family was revoked, as said to the client in error_description.
REVOKED_BY_ADMIN = ("org_admin", "admin_policy", "suspended")
REVOCATION_MESSAGES = {
    "org_admin": "Session revoked by an organization admin.",
    "admin_policy": "Session revoked by an organization admin after a permission change.",
    "suspended": "Account suspended by an organization admin; sessions ended.",
    "reuse_detected": "Refresh token reuse detected; the session was revoked.",
    "code_replay": "Authorization code was used twice; the session was revoked.",
    "logout": "Refresh token was revoked.",
    "reset": "Refresh token was revoked.",
}
UNKNOWN_REFRESH = "Unknown or invalid refresh token."


class InvalidGrant(Exception):
    """An RFC 6749 ``invalid_grant``; the message is the ``error_description``."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(slots=True)
class ValidAccess:
    token: AccessToken
    family: TokenFamily


class Sessions:
    def __init__(
        self, store: MemoryStore, clock: MockClock, settings: Settings, audit: AuditLog
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.audit = audit

    # creating --------------------------------------------------------------------------
    def new_family(
        self, *, client_id: str, account_id: str, site_id: str | None, scope: str, via: str
    ) -> TokenFamily:
        now = self.clock.now()
        site = self.store.get(Site, site_id) if site_id else None
        family = TokenFamily(
            id="fam_" + new_secret(12),
            client_id=client_id,
            account_id=account_id,
            org_id=site.org_id if site else None,
            site_id=site_id,
            scope=scope,
            created_at=now,
            absolute_expires_at=now + self.settings.refresh_absolute_ttl,
        )
        self.store.put(family)
        self.audit.record(
            "session.started",
            family=family.id,
            client_id=client_id,
            account_id=account_id,
            site_id=site_id,
            scope=scope,
            via=via,
        )
        return family

    def save_tokens(
        self,
        family: TokenFamily,
        access_token: str,
        refresh_token: str | None,
        *,
        previous: RefreshToken | None = None,
        scope: str | None = None,
    ) -> None:
        """Record tokens that a grant just issued for ``family``.

        With ``previous`` this is a rotation: the old refresh token is marked used and
        points at its successor, so a later replay of it is recognised.
        """
        now = self.clock.now()
        access_hash = digest(access_token)
        self.store.put(
            AccessToken(
                token_hash=access_hash,
                family_id=family.id,
                client_id=family.client_id,
                account_id=family.account_id,
                # A refresh may ask for less than the session holds (RFC 6749 section 6).
                scope=scope or family.scope,
                issued_at=now,
                expires_at=now + self.settings.access_token_ttl,
            )
        )
        refresh_hash = None
        if refresh_token is not None:
            refresh_hash = digest(refresh_token)
            self.store.put(
                RefreshToken(
                    token_hash=refresh_hash,
                    family_id=family.id,
                    issued_at=now,
                    idle_expires_at=now + self.settings.refresh_idle_ttl,
                )
            )
            family.current_refresh_hash = refresh_hash
            self.store.put(family)
        if previous is not None:
            # The grace window runs from the first rotation: a reuse within it must not
            # restart it, or a stolen token could be replayed forever.
            if previous.rotated_at is None:
                previous.rotated_at = now
            previous.successor_hash = refresh_hash
            self.store.put(previous)
            self.audit.record(
                "token.rotated",
                family=family.id,
                account_id=family.account_id,
                old_refresh_fp=fingerprint_of_digest(previous.token_hash),
                refresh_fp=_fp(refresh_hash),
                access_fp=fingerprint_of_digest(access_hash),
            )
        else:
            self.audit.record(
                "token.issued",
                family=family.id,
                account_id=family.account_id,
                client_id=family.client_id,
                scope=family.scope,
                refresh_fp=_fp(refresh_hash),
                access_fp=fingerprint_of_digest(access_hash),
            )

    # checking --------------------------------------------------------------------------
    def check_refresh(self, raw: str, client_id: str) -> tuple[RefreshToken, TokenFamily]:
        """The refresh token and its family if ``raw`` may be exchanged now.

        Raises InvalidGrant otherwise; a replayed rotated token also revokes its family.
        """
        now = self.clock.now()
        token_hash = digest(raw)
        token = self.store.get(RefreshToken, token_hash)
        family = self.store.get(TokenFamily, token.family_id) if token else None
        if token is None or family is None:
            self._reject(token_hash, "unknown")
            raise InvalidGrant(UNKNOWN_REFRESH)
        if family.client_id != client_id:
            self._reject(token_hash, "wrong_client", family=family.id)
            raise InvalidGrant("Refresh token was issued to another client.")
        if family.revoked_at is not None:
            self._reject(token_hash, "family_revoked", family=family.id)
            reason = family.revoked_reason or ""
            raise InvalidGrant(REVOCATION_MESSAGES.get(reason, UNKNOWN_REFRESH))
        if token.revoked_at is not None:
            self._reject(token_hash, "revoked", family=family.id)
            raise InvalidGrant(UNKNOWN_REFRESH)
        if token.rotated_at is not None:
            # Inside the leeway with its successor still unused: a retry after a lost
            # answer, which gets that same successor again. Inside the leeway with the
            # successor already used: a late copy of a request the client gave up on
            # (a slow server), refused without killing the live lineage. After the
            # leeway: reuse, the family is revoked.
            unused_successor = (
                token.successor_hash is not None
                and token.successor_hash == family.current_refresh_hash
            )
            within = now - token.rotated_at <= self.settings.refresh_reuse_grace
            if within and not unused_successor:
                self._reject(
                    token_hash,
                    "superseded_within_grace",
                    family=family.id,
                    seconds_since_rotation=round(now - token.rotated_at, 3),
                )
                raise InvalidGrant(UNKNOWN_REFRESH)
            if within:
                self.audit.record(
                    "refresh.reuse_within_grace",
                    family=family.id,
                    refresh_fp=fingerprint_of_digest(token_hash),
                    seconds_since_rotation=round(now - token.rotated_at, 3),
                )
            else:
                self.audit.record(
                    "refresh.reuse_detected",
                    family=family.id,
                    account_id=family.account_id,
                    refresh_fp=fingerprint_of_digest(token_hash),
                    seconds_since_rotation=round(now - token.rotated_at, 3),
                )
                self.revoke_family(family, "reuse_detected")
                raise InvalidGrant(REVOCATION_MESSAGES["reuse_detected"])
        if now >= family.absolute_expires_at:
            self._reject(token_hash, "absolute_expiry", family=family.id)
            raise InvalidGrant("Refresh token reached its maximum lifetime; sign in again.")
        if now >= token.idle_expires_at:
            self._reject(token_hash, "inactive", family=family.id)
            days = round(self.settings.refresh_idle_ttl / DAY)
            raise InvalidGrant(f"Refresh token expired after {days} days of inactivity.")
        return token, family

    def successor_for(self, raw: str, token: RefreshToken) -> str:
        """The refresh token that replaces ``raw``: an HMAC of it under a salt kept on
        its record. The same ``raw`` always yields the same successor (a retry inside
        the leeway gets what the lost answer held), the store holds no raw secret, and
        the salt without ``raw`` (or ``raw`` without the salt) gives nothing away."""
        if token.successor_salt is None:
            # Stored with the rotation itself: save_tokens puts ``previous`` (this record).
            token.successor_salt = new_secret(16)
        mac = hmac.new(token.successor_salt.encode(), raw.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def peek_refresh(self, raw: str) -> tuple[RefreshToken, TokenFamily] | None:
        """The refresh token and family if ``raw`` is usable now, without side effects
        (for introspection: looking must not count as reuse)."""
        now = self.clock.now()
        token = self.store.get(RefreshToken, digest(raw))
        family = self.store.get(TokenFamily, token.family_id) if token else None
        if token is None or family is None or family.revoked_at is not None:
            return None
        if token.revoked_at is not None or token.rotated_at is not None:
            return None
        if now >= token.idle_expires_at or now >= family.absolute_expires_at:
            return None
        return token, family

    def check_access(self, raw: str) -> ValidAccess | None:
        """The access token and its session if ``raw`` is live now; otherwise None."""
        token = self.store.get(AccessToken, digest(raw))
        if token is None or token.revoked_at is not None:
            return None
        if self.clock.now() >= token.expires_at:
            return None
        family = self.store.get(TokenFamily, token.family_id)
        if family is None or family.revoked_at is not None:
            return None
        return ValidAccess(token=token, family=family)

    def why_access_invalid(self, raw: str) -> str:
        """A plain reason for a 401, safe to show (no secrets)."""
        token = self.store.get(AccessToken, digest(raw))
        if token is None:
            return "The access token is not known."
        family = self.store.get(TokenFamily, token.family_id)
        if family is not None and family.revoked_at is not None:
            reason = family.revoked_reason or ""
            return REVOCATION_MESSAGES.get(reason, "The session was revoked.")
        if token.revoked_at is not None:
            return "The access token was revoked."
        if self.clock.now() >= token.expires_at:
            return "The access token has expired."
        return "The access token is valid."

    # revoking --------------------------------------------------------------------------
    def revoke_family(self, family: TokenFamily, reason: str) -> bool:
        if family.revoked_at is not None:
            return False
        family.revoked_at = self.clock.now()
        family.revoked_reason = reason
        self.store.put(family)
        self.audit.record(
            "family.revoked", family=family.id, account_id=family.account_id, reason=reason
        )
        return True

    def revoke(self, raw: str, client_id: str | None = None) -> str | None:
        """RFC 7009: revoke a refresh token (its whole family) or an access token.

        Returns what was revoked ("refresh_token", "access_token") or None when the token
        is unknown or belongs to another client, which RFC 7009 still answers with 200.
        """
        token_hash = digest(raw)
        refresh = self.store.get(RefreshToken, token_hash)
        if refresh is not None:
            family = self.store.get(TokenFamily, refresh.family_id)
            if family is None or (client_id is not None and family.client_id != client_id):
                return None
            # RFC 7009 section 2.1: revoking a refresh token also revokes the access
            # tokens of the same grant; revoking the family does both at once.
            self.revoke_family(family, "logout")
            self.audit.record(
                "token.revoked",
                family=family.id,
                token_type="refresh_token",  # noqa: S106
                fp=fingerprint_of_digest(token_hash),
            )
            return "refresh_token"
        access = self.store.get(AccessToken, token_hash)
        if access is not None:
            if client_id is not None and access.client_id != client_id:
                return None
            if access.revoked_at is None:
                access.revoked_at = self.clock.now()
                self.store.put(access)
            self.audit.record(
                "token.revoked",
                family=access.family_id,
                token_type="access_token",  # noqa: S106
                fp=fingerprint_of_digest(token_hash),
            )
            return "access_token"
        return None

    def revoke_sessions(
        self, *, org_id: str, account_id: str | None = None, reason: str = "org_admin"
    ) -> int:
        """Revoke live sessions in ``org_id`` (of one account, or everyone's)."""
        count = 0
        for family in self.live_sessions(account_id):
            if family.org_id == org_id:
                count += self.revoke_family(family, reason)
        return count

    def live_sessions(self, account_id: str | None = None) -> list[TokenFamily]:
        """Sessions that can still be used: not revoked and not expired (idle or absolute)."""
        now = self.clock.now()
        live = []
        for family in self.store.all(TokenFamily):
            if family.revoked_at is not None or now >= family.absolute_expires_at:
                continue
            if account_id is not None and family.account_id != account_id:
                continue
            current = self.store.get(RefreshToken, family.current_refresh_hash or "")
            if current is not None and now >= current.idle_expires_at:
                continue
            live.append(family)
        return live

    def _reject(self, token_hash: str, why: str, **details: object) -> None:
        self.audit.record(
            "refresh.rejected", refresh_fp=fingerprint_of_digest(token_hash), why=why, **details
        )


def _fp(token_hash: str | None) -> str | None:
    return fingerprint_of_digest(token_hash) if token_hash else None
