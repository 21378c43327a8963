"""Credentials are bound to the issuer that minted them: sessions of several issuers live
side by side, and a token never reaches a server that did not mint it (two real mocks)."""

from __future__ import annotations

import json

import httpx
import pytest

from mock_idp.pytest_plugin import running_mock_idp
from tests.cli import stored

ATLASSIAN = "https://auth.atlassian.com"


@pytest.fixture
def logged_in_a(twg, config_dir):
    result = twg.run("login")
    assert result.code == 0, result.err
    return stored.tokens(config_dir)


def at(url: str) -> dict[str, str | None]:
    """The environment of a shell whose twg uses the issuer at ``url`` for everything."""
    return {"TWG_IDP_URL": url, "TWG_API_URL": url, "TWG_BITBUCKET_URL": url}


def since(mock) -> int:
    events = mock.audit()
    return int(events[-1]["id"]) if events else 0


def test_a_command_for_another_issuer_sends_it_nothing_and_keeps_the_first_session(
    logged_in_a, twg, config_dir
):
    with running_mock_idp() as b:
        before_b = since(b)
        result = twg.run("api", "/me", env=at(b.url))

        assert result.code == 77
        assert f"You are not logged in to {b.url}." in result.err
        assert "twg login" in result.err
        # B saw nothing at all: no API call, no refresh, no revocation.
        assert b.audit(since=before_b) == []
    # A's session is untouched and still works.
    assert stored.tokens(config_dir) == logged_in_a
    me = twg.run("api", "/me")
    assert me.code == 0, me.err
    assert json.loads(me.out)["email"] == "alice@example.com"


def test_two_sessions_live_side_by_side_and_each_token_goes_to_its_own_issuer(
    logged_in_a, twg, config_dir, mock_idp
):
    with running_mock_idp() as b:
        twg.user = "bob@example.com"  # the robot signs in to B as Bob
        login_b = twg.run("login", env=at(b.url))
        assert login_b.code == 0, login_b.err
        tokens_b = stored.tokens(config_dir, b.url)
        assert stored.tokens(config_dir, mock_idp.url) == logged_in_a

        # Refresh both (moving each mock's clock past the access tokens' life).
        mock_idp.clock.advance(9 * 3600)
        b.clock.advance(9 * 3600)
        assert json.loads(twg.run("api", "/me").out)["email"] == "alice@example.com"
        assert json.loads(twg.run("api", "/me", env=at(b.url)).out)["email"] == "bob@example.com"

        # Each mock only ever saw its own sessions' calls and refreshes.
        alice_b = [e for e in b.audit() if e["details"].get("account_id") == _id(mock_idp)]
        assert alice_b == []
        assert {e["details"]["account_id"] for e in b.audit("api.call")} == {
            _id(b, "bob@example.com")
        }
        assert len(b.audit("token.rotated")) == 1
        assert len(mock_idp.audit("token.rotated")) == 1
        assert stored.tokens(config_dir, b.url) != tokens_b

        status = twg.run("auth", "status", "--json").json()
        assert status["issuer"] == mock_idp.url
        assert status["other_sessions"] == [{"issuer": b.url, "account": "bob@example.com"}]
        text = twg.run("auth", "status").out
        assert f"Logged in to {mock_idp.url} as Alice" in text
        assert f"  {b.url} (bob@example.com)" in text

        # logout: only the current issuer, revoked there and nowhere else.
        before_b = since(b)
        out = twg.run("logout")
        assert out.code == 0, out.err
        assert f"Still logged in to: {b.url}" in out.err
        assert b.audit(since=before_b) == []
        assert twg.run("api", "/me", env=at(b.url)).code == 0

        # logout --all from A's shell revokes B's session at B.
        every = twg.run("logout", "--all")
        assert every.code == 0, every.err
        revoked = b.audit("token.revoked")
        assert [e["details"]["token_type"] for e in revoked] == ["refresh_token", "access_token"]
        assert not (config_dir / "auth.conf").exists()
        assert not (config_dir / "credentials").exists()


def _id(mock, email: str = "alice@example.com") -> str:
    from mock_idp.models import User

    return next(u.account_id for u in mock.idp.store.all(User) if u.email == email)


def test_without_twg_idp_url_a_mock_session_is_never_sent_to_atlassian(
    logged_in_a, twg, config_dir
):
    sent: list[httpx.Request] = []
    # No URL settings at all: Atlassian's issuer and API.
    env = {"TWG_IDP_URL": None, "TWG_API_URL": None, "TWG_BITBUCKET_URL": None}
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(500))

    result = twg.run("api", "/me", env=env, transport=transport)

    assert result.code == 77
    assert f"You are not logged in to {ATLASSIAN}." in result.err
    assert "set TWG_IDP_URL to use one" in result.err
    assert sent == []
    assert stored.tokens(config_dir) == logged_in_a


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/me", "{url}@evil.example/me", "{url}.evil.example/me"],
    ids=["other-host", "userinfo-trick", "suffix-trick"],
)
def test_api_refuses_a_full_url_to_another_host_and_sends_nothing(
    logged_in_a, twg, mock_idp, target
):
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))

    result = twg.run("api", target.format(url=mock_idp.url), transport=transport)

    assert result.code == 2
    assert "twg api only calls" in result.err
    assert sent == []


def test_a_session_is_not_sent_to_an_api_other_than_the_one_it_was_minted_for(logged_in_a, twg):
    with running_mock_idp() as b:
        before_b = since(b)
        result = twg.run("api", "/me", env={"TWG_API_URL": b.url})

        assert result.code == 78
        assert "Nothing was sent" in result.err
        assert b.audit(since=before_b) == []


def test_a_version_1_config_dir_is_migrated_without_losing_the_session(
    logged_in_a, twg, config_dir, mock_idp
):
    conf = stored.conf(config_dir)
    conf.pop("api_url")
    conf["version"] = 1
    (config_dir / "auth.conf").write_text(json.dumps(conf), encoding="utf-8")
    (config_dir / "credentials").write_text(
        json.dumps({**logged_in_a, "bitbucket_token": "bb-1"}), encoding="utf-8"
    )

    me = twg.run("api", "/me")

    assert me.code == 0, me.err
    assert json.loads((config_dir / "auth.conf").read_text())["version"] == 2
    assert stored.tokens(config_dir, mock_idp.url) == logged_in_a
    flat = json.loads((config_dir / "credentials").read_text())
    assert sorted(flat) == ["bitbucket_token", "sessions"]  # nothing lost, nothing doubled
    assert twg.run("auth", "status", "--json").json()["issuer"] == mock_idp.url


def test_a_version_1_config_dir_that_cannot_be_migrated_still_works(logged_in_a, twg, config_dir):
    from tests.cli.read_only import make_read_only, make_writable

    conf = stored.conf(config_dir)
    conf.pop("api_url")
    conf["version"] = 1
    (config_dir / "auth.conf").write_text(json.dumps(conf), encoding="utf-8")
    (config_dir / "credentials").write_text(json.dumps(logged_in_a), encoding="utf-8")
    make_read_only(config_dir)
    try:
        me = twg.run("api", "/me")
        status = twg.run("auth", "status", "--json")
    finally:
        make_writable(config_dir)

    assert me.code == 0, me.err
    assert json.loads(me.out)["email"] == "alice@example.com"
    assert status.json()["logged_in"] is True
    assert json.loads((config_dir / "auth.conf").read_text())["version"] == 1  # untouched


def test_a_version_1_keyring_session_is_migrated_to_one_entry(twg, mock_idp, config_dir):
    import keyring

    plaintext = "keyrings.alt.file.PlaintextKeyring"
    env = {"PYTHON_KEYRING_BACKEND": plaintext, "TWG_CREDENTIAL_STORE": None}
    assert twg.run("login", env=env).code == 0
    backend = keyring.core.load_keyring(plaintext)
    entry = f"tokens:{mock_idp.url}"
    tokens = json.loads(backend.get_password("twg", entry))
    # What version 1 left: flat entries and a single-session auth.conf.
    backend.delete_password("twg", entry)
    for key, value in tokens.items():
        backend.set_password("twg", key, value)
    conf = stored.conf(config_dir)
    conf.pop("api_url")
    (config_dir / "auth.conf").write_text(json.dumps({**conf, "version": 1}), encoding="utf-8")

    me = twg.run("api", "/me", env=env)

    assert me.code == 0, me.err
    assert json.loads(backend.get_password("twg", entry)) == tokens
    assert backend.get_password("twg", "access_token") is None
    assert backend.get_password("twg", "refresh_token") is None
