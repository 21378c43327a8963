"""Browser and device login against the fake IdP (in-process, MockTransport)."""

from __future__ import annotations

import stat
import threading
from urllib.parse import urlsplit

from tests.cli import stored
from tests.cli.fake_idp import ISSUER


def test_browser_login_sends_a_pkce_s256_consent_request_and_saves_credentials(
    twg, fake, config_dir
):
    result = twg("login")

    assert result.code == 0, result.err
    query = fake.last_authorize
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["prompt"] == "consent"
    assert query["audience"] == "api.atlassian.com"
    assert "offline_access" in query["scope"].split(" ")
    redirect = urlsplit(query["redirect_uri"])
    assert redirect.hostname == "127.0.0.1"
    assert redirect.port
    assert redirect.path == "/callback"
    assert "Logged in as Alice (alice@example.com)" in result.err
    assert "Site: acme (https://acme.test)" in result.err
    assert f"Credentials saved to {config_dir}/auth.conf" in result.err
    assert "Secrets stored in: file" in result.err
    # The sign-in URL is always printed too.
    assert f"{ISSUER}/authorize?" in result.err


def test_auth_conf_and_credentials_file_are_private_and_auth_conf_holds_no_secret(
    logged_in, fake, config_dir
):
    conf = config_dir / "auth.conf"
    creds = config_dir / "credentials"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    text = conf.read_text()
    for token in [*fake.access, *fake.refresh]:
        assert token not in text
    secrets = stored.tokens(config_dir)
    assert secrets["access_token"] in fake.access
    assert secrets["refresh_token"] in fake.refresh


def test_tampered_state_is_refused_and_no_code_is_exchanged(twg, fake, config_dir):
    # The listener answers a foreign state with 400 and keeps waiting for the real
    # callback, which never comes here: the login times out without exchanging a code.
    result = twg("login", browser=fake.browser(state="attacker-state"), login_timeout=0.5)

    assert result.code == 1
    assert "Login timed out" in result.err
    assert "authorization_code" not in fake.grant_types()
    assert not (config_dir / "auth.conf").exists()


def test_wrong_issuer_in_callback_is_refused(twg, fake):
    result = twg("login", browser=fake.browser(iss="https://evil.example"))

    assert result.code == 1
    assert "RFC 9207" in result.err
    assert "evil.example" in result.err
    assert "authorization_code" not in fake.grant_types()


def test_missing_iss_is_refused_when_the_server_promises_it(twg, fake):
    result = twg("login", browser=fake.browser(iss=""))
    # An empty iss is present but wrong: refused as a mismatch.
    assert result.code == 1
    assert "authorization_code" not in fake.grant_types()


def test_denied_consent_says_access_was_denied(twg, fake):
    result = twg("login", browser=fake.browser(deny=True))

    assert result.code == 1
    assert "access was denied" in result.err
    assert "twg login" in result.err


def test_login_times_out_with_a_clear_message(twg):
    result = twg("login", browser=lambda url: True, login_timeout=0.3)

    assert result.code == 1
    assert "Login timed out" in result.err


def test_login_timeout_json_error_shape(twg):
    result = twg("login", "--json", browser=lambda url: True, login_timeout=0.2)

    assert result.json()["error"]["code"] == "LOGIN_TIMEOUT"
    assert "timed out" in result.json()["error"]["message"]


def test_already_logged_in_does_nothing_without_force(logged_in, twg, fake):
    before = fake.grant_types()
    result = twg("login")

    assert result.code == 0
    assert "Already logged in as alice@example.com" in result.err
    assert fake.grant_types() == before


def test_force_logs_in_again_and_revokes_the_old_refresh_token(logged_in, twg, fake, config_dir):
    old_refresh = stored.tokens(config_dir)["refresh_token"]
    result = twg("login", "--force")

    assert result.code == 0, result.err
    assert fake.grant_types().count("authorization_code") == 2
    new_refresh = stored.tokens(config_dir)["refresh_token"]
    assert new_refresh != old_refresh
    assert old_refresh in fake.revoked_tokens


def test_device_login_handles_slow_down_and_pending_then_succeeds(twg, fake):
    fake.slow_down_first = True
    result = twg("login", "--device", "--no-browser", login_timeout=30)

    assert result.code == 0, result.err
    assert "WDJB-MJHT" in result.err
    assert f"{ISSUER}/device" in result.err
    device_polls = [
        g for g in fake.grant_types() if g == "urn:ietf:params:oauth:grant-type:device_code"
    ]
    assert len(device_polls) == 3  # slow_down, authorization_pending, success


def test_device_login_denied_says_so(twg, fake):
    original = fake._oauth

    def deny_all(path, form):
        response = original(path, form)
        for device in fake.devices.values():
            device["denied"] = True
        return response

    fake._oauth = deny_all
    result = twg("login", "--device", "--no-browser", login_timeout=30)

    assert result.code == 1
    assert "denied" in result.err


def test_device_flow_is_used_when_no_browser_can_be_opened(twg, fake):
    result = twg("login", browser=lambda url: False, login_timeout=30)

    assert result.code == 0, result.err
    assert "using device login instead" in result.err
    assert "WDJB-MJHT" in result.err


def test_several_sites_without_a_terminal_is_a_clear_usage_error(twg, fake):
    fake.sites.append({"id": "cloud-2", "name": "globex", "url": "https://globex.test"})
    result = twg("login", "--json")

    assert result.code == 2
    error = result.json()["error"]
    assert error["code"] == "USAGE"
    assert "--site" in error["message"]
    assert "globex" in error["message"]


def test_site_flag_picks_by_name_or_url(twg, fake):
    fake.sites.append({"id": "cloud-2", "name": "globex", "url": "https://globex.test"})
    result = twg("login", "--site", "https://globex.test", "--json")

    assert result.code == 0, result.err
    assert result.json()["site"]["id"] == "cloud-2"


def test_several_sites_on_a_terminal_prompts_for_one(twg, fake):
    fake.sites.append({"id": "cloud-2", "name": "globex", "url": "https://globex.test"})
    result = twg("login", tty=True, stdin="2\n", hidden=[""])

    assert result.code == 0, result.err
    assert "Choose a site" in result.err
    assert "Site: globex" in result.err


def test_login_against_a_server_without_me_or_sites_still_succeeds(twg, fake):
    fake.has_identity = False
    result = twg("login")

    assert result.code == 0, result.err
    assert "Could not learn your account" in result.err
    assert "Could not learn your sites" in result.err


def test_login_refuses_while_an_access_token_override_is_set(twg, fake):
    result = twg("login", env={"TWG_OAUTH_ACCESS_TOKEN": "delegated"})

    assert result.code == 2
    assert "TWG_OAUTH_ACCESS_TOKEN" in result.err
    assert fake.requests == []


def test_login_can_run_concurrently_with_callback_server_serving_first(twg, fake):
    """The callback is served in a thread before the browser opens: a browser that
    blocks until its redirect is answered (as webbrowser with BROWSER does) finishes."""
    done = threading.Event()
    inner = fake.browser()

    def blocking_browser(url: str) -> bool:
        ok = inner(url)  # a real GET to the loopback; it returns only once answered
        done.set()
        return ok

    result = twg("login", browser=blocking_browser)
    assert done.is_set()
    assert result.code == 0


def test_no_browser_prints_the_url_and_completes_when_it_is_visited(fake, base_env):
    import io

    from twg.iostreams import IOStreams
    from twg.main import main

    opened: list[str] = []
    visits: list[threading.Thread] = []

    class Stderr(io.StringIO):
        def write(self, text: str) -> int:
            for line in text.splitlines():
                if line.startswith(f"{ISSUER}/authorize?") and not visits:
                    # A person copies the URL into a browser elsewhere.
                    visit = threading.Thread(target=fake.browser(), args=(line,))
                    visits.append(visit)
                    visit.start()
            return super().write(text)

    streams = IOStreams.for_test()
    streams.stderr = Stderr()
    code = main(
        ["login", "--no-browser"],
        io=streams,
        environ=base_env,
        transport=fake.transport(),
        browser=lambda url: opened.append(url) or True,
        login_timeout=10,
    )
    for visit in visits:
        visit.join()

    assert code == 0, streams.stderr.getvalue()
    assert opened == []  # --no-browser never opens one
    assert "Logged in as Alice" in streams.stderr.getvalue()
