"""The grants the mock accepts, each wired to the shared session core.

authlib supplies the RFC 6749 / 7636 / 8628 request validation; these subclasses make it
stricter where OAuth 2.1 is (PKCE S256 only, refresh rotation) and store what they issue
through ``idp.sessions`` so that expiry and reuse follow the mock's clock.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import DeviceCodeGrant as _DeviceCodeGrant
from authlib.oauth2.rfc8628.errors import ExpiredTokenError

from mock_idp.models import AuthCode, DeviceCode, TokenFamily, User
from mock_idp.oauth.adapters import ClientModel, CodeModel, Consent, DeviceModel, RefreshModel
from mock_idp.permissions import reissued_scope
from mock_idp.secrets_util import digest, fingerprint_of_digest
from mock_idp.sessions import REVOCATION_MESSAGES, InvalidGrant

if TYPE_CHECKING:
    from mock_idp.oauth.server import MockAuthorizationServer

PUBLIC_AND_CONFIDENTIAL = ["none", "client_secret_basic", "client_secret_post"]
# RFC 7636 sections 4.1 and 4.2, matched whole (fullmatch: no trailing newline).
CODE_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
CODE_CHALLENGE = CODE_VERIFIER


def _active(server: MockAuthorizationServer, account_id: str) -> User | None:
    """The account, unless an org admin suspended it (then invalid_grant, saying so)."""
    user = server.idp.store.get(User, account_id)
    if user is not None and user.suspended:
        raise invalid_grant(server, REVOCATION_MESSAGES["suspended"])
    return user


def invalid_grant(server: MockAuthorizationServer, description: str) -> InvalidGrantError:
    error = InvalidGrantError(description=description)
    error.status_code = server.idp.settings.invalid_grant_status
    return error


class S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE as OAuth 2.1 requires it: a challenge is mandatory and only S256 is accepted
    (RFC 7636 section 4.2 allows ``plain`` and makes it the default; OAuth 2.1 does not)."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def __init__(self) -> None:
        super().__init__(required=True)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        # RFC 7636 section 4.1: 43 to 128 unreserved characters, nothing more. authlib's
        # pattern ends in "$", which also matches before a trailing newline.
        verifier = grant.request.form.get("code_verifier")
        if verifier and not CODE_VERIFIER.fullmatch(verifier):
            raise InvalidRequestError("Invalid 'code_verifier'")
        super().validate_code_verifier(grant, result)

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256).")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        if not CODE_CHALLENGE.fullmatch(str(data.get("code_challenge"))):
            raise InvalidRequestError("Invalid 'code_challenge'")
        super().validate_code_challenge(grant, redirect_uri)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_AND_CONFIDENTIAL
    server: MockAuthorizationServer

    def save_authorization_code(self, code: str, request: Any) -> None:
        idp = self.server.idp
        consent: Consent = request.user
        now = idp.clock.now()
        data = request.payload.data
        record = AuthCode(
            code_hash=digest(code),
            client_id=request.client.get_client_id(),
            account_id=consent.user.account_id,
            site_id=consent.site_id,
            redirect_uri=request.payload.redirect_uri,
            scope=consent.scope,
            code_challenge=data["code_challenge"],
            code_challenge_method=data.get("code_challenge_method", "S256"),
            issued_at=now,
            expires_at=now + idp.settings.auth_code_ttl,
            nonce=data.get("nonce"),
        )
        idp.store.put(record)
        idp.audit.record(
            "code.issued",
            code_fp=fingerprint_of_digest(record.code_hash),
            client_id=record.client_id,
            account_id=record.account_id,
            site_id=record.site_id,
            scope=record.scope,
        )

    def query_authorization_code(self, code: str, client: ClientModel) -> CodeModel | None:
        idp = self.server.idp
        record = idp.store.get(AuthCode, digest(code))
        if record is None or record.client_id != client.get_client_id():
            return None
        if record.used:
            # OAuth 2.1 section 4.1.3: a code used twice must fail, and the tokens issued
            # for its first use should be revoked: someone else may hold the code.
            idp.audit.record(
                "code.replayed",
                code_fp=fingerprint_of_digest(record.code_hash),
                family=record.family_id,
            )
            family = idp.store.get(TokenFamily, record.family_id or "")
            if family is not None:
                idp.sessions.revoke_family(family, "code_replay")
            raise invalid_grant(self.server, "Authorization code was already used.")
        if idp.clock.now() >= record.expires_at:
            raise invalid_grant(self.server, "Authorization code has expired.")
        return CodeModel(record)

    def delete_authorization_code(self, authorization_code: CodeModel) -> None:
        # Kept, marked used, so that a replay is recognised (see query_authorization_code).
        authorization_code.record.used = True
        self.server.idp.store.put(authorization_code.record)
        self.server.idp.audit.record(
            "code.redeemed",
            code_fp=fingerprint_of_digest(authorization_code.record.code_hash),
            family=authorization_code.record.family_id,
        )

    def authenticate_user(self, authorization_code: CodeModel) -> User | None:
        return _active(self.server, authorization_code.record.account_id)


class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_AND_CONFIDENTIAL
    # OAuth 2.1 section 4.3.1: refresh tokens for public clients rotate on every use.
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: MockAuthorizationServer

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshModel:
        client_id = self.request.client.get_client_id()
        try:
            token, family = self.server.idp.sessions.check_refresh(refresh_token, client_id)
        except InvalidGrant as exc:
            raise invalid_grant(self.server, exc.description) from None
        return RefreshModel(token, family)

    def authenticate_user(self, refresh_token: RefreshModel) -> User | None:
        return _active(self.server, refresh_token.family.account_id)

    def revoke_old_credential(self, refresh_token: RefreshModel) -> None:
        # save_token already marked it rotated, pointing at its successor.
        return None

    def issue_token(self, user: User, refresh_token: RefreshModel) -> dict[str, Any]:
        # RFC 6749 section 3.3: scope is a set of space-delimited names. A blank value
        # means "as originally granted" (section 6), and repeats are one scope, never a
        # string echoed back or an access token with no scope at all.
        requested = " ".join(dict.fromkeys((self.request.payload.scope or "").split()))
        family = refresh_token.family
        # Re-issued under the org's current TWG CLI setting (see permissions.py).
        scope = reissued_scope(
            self.server.idp.store,
            family.account_id,
            family.site_id,
            requested or refresh_token.get_scope(),
        )
        token: dict[str, Any] = self.generate_token(
            user=user,
            scope=scope,
            include_refresh_token=self.INCLUDE_NEW_REFRESH_TOKEN,
        )
        if "refresh_token" in token:
            # Derived, not random: a replay inside the reuse leeway gets this same one.
            raw = str(self.request.form.get("refresh_token") or "")
            token["refresh_token"] = self.server.idp.sessions.successor_for(
                raw, refresh_token.token
            )
        return token


class DeviceCodeGrant(_DeviceCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = PUBLIC_AND_CONFIDENTIAL
    server: MockAuthorizationServer

    def query_device_credential(self, device_code: str) -> DeviceModel | None:
        idp = self.server.idp
        record = idp.store.get(DeviceCode, digest(device_code))
        if record is None:
            # RFC 6749 section 5.2: an invalid grant is invalid_grant (authlib says
            # invalid_request).
            raise invalid_grant(self.server, "Unknown or invalid device code.")
        if record.status == "used":
            raise invalid_grant(self.server, "Device code was already used.")
        return DeviceModel(record, idp.clock)

    def validate_device_credential(self, credential: DeviceModel) -> Any:
        if credential.is_expired():
            raise ExpiredTokenError()
        try:
            return super().validate_device_credential(credential)
        finally:
            credential.record.last_poll_at = self.server.idp.clock.now()
            self.server.idp.store.put(credential.record)

    def query_user_grant(self, user_code: str) -> tuple[Consent | None, bool] | None:
        credential: DeviceModel = self.request_credential
        record = credential.record
        if record.status == "pending":
            return None
        if record.status == "denied":
            return None, False
        user = _active(self.server, record.account_id or "")
        if user is None:
            return None, False
        return Consent(user=user, site_id=record.site_id, scope=record.granted_scope or ""), True

    def should_slow_down(self, credential: DeviceModel) -> bool:
        # RFC 8628 section 3.5: polling faster than the interval earns slow_down, and
        # the interval "MUST be increased by 5 seconds for this and all subsequent
        # requests" (validate_device_credential stores the record).
        record = credential.record
        last = record.last_poll_at
        too_fast = last is not None and self.server.idp.clock.now() - last < record.interval
        if too_fast:
            record.interval += 5
        return too_fast

    @property
    def request_credential(self) -> DeviceModel:
        return self._credential

    def validate_token_request(self) -> None:
        # Remember the credential for query_user_grant, which authlib calls with the
        # user code only.
        device_code = self.request.payload.data.get("device_code")
        if device_code:
            credential = self.query_device_credential(device_code)
            if credential is not None:
                self._credential = credential
        super().validate_token_request()
