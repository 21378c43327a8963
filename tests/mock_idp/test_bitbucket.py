"""Bitbucket's GET /2.0/user with Basic auth (account email + API token)."""

from __future__ import annotations

import base64

import httpx
import pytest

from mock_idp.seed import ALICE_BITBUCKET_TOKEN, BOB_BITBUCKET_TOKEN
from tests.mock_idp.helpers import ALICE, BOB, events, login, user


def test_known_token_with_its_email_returns_the_user(http, idp):
    response = http.get("/2.0/user", auth=(ALICE, ALICE_BITBUCKET_TOKEN))
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "user"
    assert body["account_id"] == user(idp, ALICE).account_id
    assert body["username"] == "alice"
    assert body["display_name"] == "Alice Example"
    assert body["uuid"].startswith("{")
    assert body["uuid"].endswith("}")
    assert body["links"]["self"]["href"].endswith(f"/2.0/users/{body['uuid']}")


def test_each_account_gets_its_own_stable_uuid(http):
    first = http.get("/2.0/user", auth=(ALICE, ALICE_BITBUCKET_TOKEN)).json()["uuid"]
    again = http.get("/2.0/user", auth=(ALICE, ALICE_BITBUCKET_TOKEN)).json()["uuid"]
    bob = http.get("/2.0/user", auth=(BOB, BOB_BITBUCKET_TOKEN)).json()
    assert first == again
    assert bob["uuid"] != first
    assert bob["username"] == "bob"


def test_email_is_matched_case_insensitively(http):
    response = http.get("/2.0/user", auth=("Alice@Example.com", ALICE_BITBUCKET_TOKEN))
    assert response.status_code == 200


def assert_bitbucket_401(response: httpx.Response) -> str:
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "error"
    assert response.headers["www-authenticate"].startswith("Basic")
    return str(body["error"]["message"])


def test_someone_elses_token_is_401(http):
    assert "do not match" in assert_bitbucket_401(
        http.get("/2.0/user", auth=(BOB, ALICE_BITBUCKET_TOKEN))
    )


def test_unknown_token_is_401(http):
    assert_bitbucket_401(http.get("/2.0/user", auth=(ALICE, "mock-bitbucket-token-guess")))


def test_no_credentials_is_401(http):
    assert "Authentication required" in assert_bitbucket_401(http.get("/2.0/user"))


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b"alice@example.com:").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
    ],
)
def test_malformed_basic_credentials_are_401_not_500(http, header):
    assert_bitbucket_401(http.get("/2.0/user", headers={"Authorization": header}))


def test_an_oauth_access_token_is_not_a_bitbucket_credential(http, idp):
    alice = login(idp)
    assert_bitbucket_401(http.get("/2.0/user", headers=alice.headers))


def test_bitbucket_checks_are_audited_by_fingerprint_only(http, idp):
    http.get("/2.0/user", auth=(ALICE, ALICE_BITBUCKET_TOKEN))
    http.get("/2.0/user", auth=(BOB, ALICE_BITBUCKET_TOKEN))
    assert events(idp, "bitbucket.auth")[0]["account_id"] == user(idp, ALICE).account_id
    assert events(idp, "bitbucket.auth_failed")[-1]["why"] == "email_mismatch"
    assert ALICE_BITBUCKET_TOKEN not in repr(idp.audit.events())
