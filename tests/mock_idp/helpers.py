"""Helpers for mock IdP tests: sessions made straight through the shared core.

``login`` does exactly what the token endpoint does after a consent (a new token family,
then its first tokens), so resource tests do not depend on the OAuth pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_idp.idp import MockIdP
from mock_idp.models import TokenFamily, User
from mock_idp.secrets_util import new_secret
from mock_idp.seed import ACME_SITE_ID, CLI_CLIENT_ID

ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"
DAVE = "dave@example.com"

# The OAuth, page and control routes that read a request body (hostile and fuzzed bodies).
BODY_ROUTES = [
    ("POST", "/oauth/token"),
    ("POST", "/oauth/revoke"),
    ("POST", "/oauth/introspect"),
    ("POST", "/oauth/device/code"),
    ("POST", "/oauth/register"),
    ("POST", "/authorize/login"),
    ("POST", "/authorize/site"),
    ("POST", "/authorize/consent"),
    ("POST", "/device"),
    ("POST", "/_mock/clock/advance"),
    ("POST", "/_mock/clock/set"),
    ("POST", "/_mock/seed"),
    ("POST", "/_mock/faults"),
    ("PATCH", "/_mock/settings"),
]
FULL_SCOPE = "read:me read:account read:jira-work write:jira-work delete:jira-work offline_access"


@dataclass
class Login:
    family: TokenFamily
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def user(idp: MockIdP, email: str) -> User:
    found = [u for u in idp.store.all(User) if u.email == email]
    assert found, f"no seeded user {email}"
    return found[0]


def login(
    idp: MockIdP,
    email: str = ALICE,
    *,
    site_id: str | None = ACME_SITE_ID,
    scope: str = FULL_SCOPE,
    client_id: str = CLI_CLIENT_ID,
) -> Login:
    """A fresh CLI session for ``email`` with random tokens, as the token endpoint makes."""
    family = idp.sessions.new_family(
        client_id=client_id,
        account_id=user(idp, email).account_id,
        site_id=site_id,
        scope=scope,
        via="test",
    )
    access, refresh = new_secret(), new_secret()
    idp.sessions.save_tokens(family, access, refresh)
    return Login(family=family, access_token=access, refresh_token=refresh)


def events(idp: MockIdP, prefix: str) -> list[dict[str, object]]:
    """Details of the audit events whose name starts with ``prefix``, oldest first."""
    return [dict(e.details, event=e.event) for e in idp.audit.events(event_prefix=prefix)]
