"""Garbage input to the resource, admin, Bitbucket or control routes gets a JSON 400 or
401, never a 500 and never a silent success."""

from __future__ import annotations

import pytest

from mock_idp.seed import ACME_ADMIN_KEY, ACME_ORG_ID, ACME_SITE_ID
from tests.mock_idp.helpers import login

JIRA = f"/ex/jira/{ACME_SITE_ID}/rest/api/3"
ORG = f"/admin/v1/orgs/{ACME_ORG_ID}"
ROUTES = [
    ("POST", f"{JIRA}/issue"),
    ("PUT", f"{JIRA}/issue/ACME-1"),
    ("PUT", f"{ORG}/twg-cli/permissions"),
    ("POST", "/_mock/clock/advance"),
    ("POST", "/_mock/clock/set"),
    ("POST", "/_mock/seed"),
    ("PATCH", "/_mock/settings"),
    ("POST", "/_mock/faults"),
]
BODIES = [
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"1e999",
    b"{",
    b"\xff\xfe\x00",
    b'{"fields": null}',
    b'{"fields": {"summary": null, "description": 5}}',
    b'{"seconds": NaN}',
    b'{"seconds": Infinity}',
    b'{"time": "2030-13-45T99:00:00"}',
    b'{"time": 1e300}',
    b'{"categories": [null], "allow_all": false}',
    b'{"orgs": [{"id": 1, "name": null}], "sites": "x"}',
    b'{"users": [{"account_id": "a", "email": "e", "name": "n", "site_access": null}]}',
    b'{"path": "/me", "delay": 1e400}',
    b'{"path": "/me", "status": 503, "count": 1e10}',
    b'{"access_token_ttl": 1e20}',
]


def garbage_statuses(http, idp, method: str, path: str) -> list[int]:
    """The status of each garbage body, each sent to a freshly reset mock; every error
    answer must be JSON."""
    statuses = []
    for body in BODIES:
        idp.reset()
        token = ACME_ADMIN_KEY if path.startswith("/admin") else login(idp).access_token
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        response = http.request(method, path, content=body, headers=headers)
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/json"), body
            assert response.json(), body
        statuses.append(response.status_code)
    return statuses


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_garbage_bodies_get_a_json_400(http, idp, method, path):
    assert garbage_statuses(http, idp, method, path) == [400] * len(BODIES)


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer  x", "bearer\tx", "Token abc", "Bearer a b c", "Bearer \u00e9t\u00e9"],
)
def test_odd_authorization_headers_are_401_not_500(http, header):
    for path in ("/me", f"{JIRA}/search", ORG, "/2.0/user"):
        response = http.get(path, headers={"Authorization": header.encode("utf-8")})
        assert response.status_code == 401, (path, header)
