"""Flag parsing into Options, settings from the environment, discovery and agent detection."""

from __future__ import annotations

import httpx
import pytest

from twg.auth.agents import detect_agent
from twg.auth.discovery import discover, well_known_urls
from twg.auth.pkce import challenge_for
from twg.errors import ConfigError
from twg.factory import Factory
from twg.iostreams import IOStreams
from twg.main import main
from twg.settings import Settings


def capture(monkeypatch, module_name: str, argv: list[str]):
    import importlib

    module = importlib.import_module(f"twg.commands.{module_name}")
    seen = []

    def fake_run(opts, f):
        seen.append(opts)
        return 0

    monkeypatch.setattr(module, "run", fake_run)
    assert main(argv, io=IOStreams.for_test(), environ={}) == 0
    return seen[0]


def test_login_flags_fill_options(monkeypatch):
    opts = capture(
        monkeypatch, "login", ["login", "--force", "--device", "--site", "acme", "--json"]
    )
    assert (opts.force, opts.device, opts.no_browser, opts.site, opts.json) == (
        True,
        True,
        False,
        "acme",
        True,
    )


def test_api_flags_fill_options(monkeypatch):
    opts = capture(
        monkeypatch, "api", ["api", "-X", "POST", "/x", "--bitbucket", "--data", "{}", "--json"]
    )
    assert (opts.method, opts.path, opts.bitbucket, opts.data, opts.json) == (
        "POST",
        "/x",
        True,
        "{}",
        True,
    )


def test_auth_refresh_and_setup_flags(monkeypatch):
    assert capture(monkeypatch, "auth_refresh", ["auth", "refresh", "--force"]).force is True
    assert capture(monkeypatch, "setup_bitbucket", ["setup", "bitbucket", "--force"]).force


def test_tokens_are_never_accepted_as_flags():
    io = IOStreams.for_test()
    assert main(["login", "--token", "abc"], io=io, environ={}) == 2
    assert "No such option" in io.errors()


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, 300.0), ({"CI": "true"}, 120.0), ({"CLAUDECODE": "1"}, 120.0), ({"CI": "0"}, 300.0)],
)
def test_login_timeout_is_five_minutes_or_two_in_ci_and_agents(env, expected):
    assert Factory(IOStreams.for_test(), env).login_timeout == expected


def test_settings_defaults_are_atlassian_and_overrides_apply():
    default = Settings.from_environ({"HOME": "/h"})
    assert default.idp_url is None
    assert default.api_url == "https://api.atlassian.com"
    assert default.client_id == "twg-cli"
    assert str(default.config_dir) == "/h/.config/twg"
    custom = Settings.from_environ(
        {"TWG_CLIENT_ID": "other", "TWG_SCOPES": "read:me", "TWG_IDP_URL": "http://x/"}
    )
    assert custom.client_id == "other"
    assert custom.scopes == ("read:me", "offline_access")
    assert custom.idp_url == "http://x"


def test_a_custom_issuer_never_sends_its_tokens_to_the_atlassian_api():
    only_issuer = Settings.from_environ({"HOME": "/h", "TWG_IDP_URL": "http://idp.test:9/"})
    assert only_issuer.api_url == "http://idp.test:9"
    both = Settings.from_environ(
        {"HOME": "/h", "TWG_IDP_URL": "http://idp.test:9", "TWG_API_URL": "http://api.test/"}
    )
    assert both.api_url == "http://api.test"


def test_agent_detection():
    assert detect_agent({"CODEX_SANDBOX": "seatbelt"}) == "Codex CLI"
    assert detect_agent({"GEMINI_CLI": "1"}) == "Gemini CLI"
    assert detect_agent({}) is None


def test_pkce_challenge_is_unpadded_base64url_sha256_of_the_verifier():
    from tests.mock_idp.oauth_flow import s256
    from twg.auth.pkce import Pkce

    pkce = Pkce.new()
    assert 43 <= len(pkce.verifier) <= 128
    assert pkce.challenge == s256(pkce.verifier)
    assert "=" not in pkce.challenge
    assert pkce.method == "S256"
    assert challenge_for(pkce.verifier) == pkce.challenge


def test_discovery_falls_back_to_openid_configuration():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": "https://op.example",
                    "authorization_endpoint": "https://op.example/auth",
                    "token_endpoint": "https://op.example/token",
                },
            )
        return httpx.Response(404)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        meta = discover(client, "https://op.example")
    assert meta.token_endpoint == "https://op.example/token"
    assert meta.revocation_endpoint is None


def test_discovery_refuses_a_mismatched_issuer():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "issuer": "https://evil.example",
                "authorization_endpoint": "a",
                "token_endpoint": "t",
            },
        )

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
        pytest.raises(ConfigError),
    ):
        discover(client, "https://op.example")


def test_rfc_8414_well_known_path_goes_before_the_issuer_path():
    assert well_known_urls("https://idp.example/tenant")[0] == (
        "https://idp.example/.well-known/oauth-authorization-server/tenant"
    )


def test_oidc_servers_without_atlassian_me_are_asked_for_identity_scopes():
    from twg.auth.discovery import ServerMetadata, identity_scopes

    base = {"issuer": "http://i", "authorization_endpoint": "http://i/a", "token_endpoint": "t"}
    oidc = ServerMetadata.from_json(
        {**base, "userinfo_endpoint": "http://i/me", "scopes_supported": ["openid", "email"]}
    )
    assert identity_scopes(oidc) == ["openid", "email"]
    atlassian_like = ServerMetadata.from_json(
        {**base, "userinfo_endpoint": "http://i/u", "scopes_supported": ["openid", "read:me"]}
    )
    assert identity_scopes(atlassian_like) == []
    plain_oauth = ServerMetadata.from_json({**base, "scopes_supported": ["openid"]})
    assert identity_scopes(plain_oauth) == []


def test_userinfo_answer_is_read_as_the_account():
    import httpx

    from twg.auth.identity import fetch_userinfo
    from twg.auth.servertime import ServerClock

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer tok"
        return httpx.Response(200, json={"sub": "u-1", "email": "u@example.com"})

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        me = fetch_userinfo(http, "http://i/userinfo", "tok", ServerClock())
    assert me == {"account_id": "u-1", "email": "u@example.com", "name": None}


def test_account_is_named_with_whatever_the_server_said():
    from twg.auth.auth_conf import describe_account

    assert describe_account("a1", "e@x", "Eve") == "Eve (e@x)"
    assert describe_account("a1", None, None) == "account a1"
    assert describe_account(None, None, None) == "an account twg could not identify"
