"""twg login against the real mock IdP: the browser flow (PKCE, state, RFC 9207 iss), the
device flow, sites, --force, and the messages a person sees."""

from __future__ import annotations

import io
import stat
import threading
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from mock_idp.browser import Robot
from mock_idp.seed import ACME_ORG_ID
from tests.cli import stored
from tests.cli.conftest import count
from tests.mock_idp.oauth_flow import refresh
from twg.iostreams import IOStreams


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def deliver(callback: str, **params: str | None) -> int:
    """Send the loopback callback ``callback`` with some parameters replaced or removed;
    the listener's HTTP status."""
    base, _, _ = callback.partition("?")
    merged = {**query(callback), **params}
    kept = {k: v for k, v in merged.items() if v is not None}
    return httpx.get(f"{base}?{urlencode(kept)}", timeout=10).status_code


def tampering_browser(**params: str | None) -> Callable[[str], bool]:
    """A person who signs in for real, but whose redirect back is altered on the way."""

    def open_url(url: str) -> bool:
        with Robot() as robot:
            deliver(robot.final_redirect(url), **params)
        return True

    return open_url


def test_browser_login_sends_a_pkce_s256_consent_request_and_saves_credentials(
    twg, mock_idp, config_dir
):
    opened: list[str] = []
    result = twg.run("login", browser=lambda url: opened.append(url) or twg.robot(url))

    assert result.code == 0, result.err
    [url] = opened
    assert url.startswith(f"{mock_idp.url}/authorize?")
    sent = query(url)
    assert sent["response_type"] == "code"
    assert sent["code_challenge_method"] == "S256"
    assert len(sent["code_challenge"]) == 43
    assert sent["prompt"] == "consent"
    assert sent["audience"] == "api.atlassian.com"
    assert "offline_access" in sent["scope"].split(" ")
    redirect = urlsplit(sent["redirect_uri"])
    assert redirect.hostname == "127.0.0.1"
    assert redirect.port
    assert redirect.path == "/callback"
    assert "Logged in as Alice Example (alice@example.com)." in result.err
    assert "Site: acme (https://acme.atlassian.net)" in result.err
    assert f"Credentials saved to {config_dir}/auth.conf" in result.err
    assert "Secrets stored in: file" in result.err
    # The sign-in URL is always printed too, for a browser elsewhere.
    assert url in result.err
    # The mock checked the PKCE verifier against the challenge and issued one session.
    assert count(mock_idp, "token.issued") == 1
    assert count(mock_idp, "code.redeemed") == 1
    status = twg.run("auth", "status", "--json").json()
    assert status["account"]["email"] == "alice@example.com"
    assert status["site"]["name"] == "acme"
    me = twg.run("api", "/me")
    assert me.code == 0, me.err
    assert '"email": "alice@example.com"' in me.out


def test_auth_conf_and_credentials_are_private_and_auth_conf_holds_no_secret(
    logged_in, mock_idp, config_dir
):
    conf = config_dir / "auth.conf"
    creds = config_dir / "credentials"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    secrets = stored.tokens(config_dir)
    text = conf.read_text()
    assert secrets["access_token"] not in text
    assert secrets["refresh_token"] not in text
    # The stored tokens are the ones the mock issued: both work there.
    me = mock_idp.http.get("/me", headers={"Authorization": f"Bearer {secrets['access_token']}"})
    assert me.status_code == 200
    assert refresh(mock_idp.http, secrets["refresh_token"]).status_code == 200


def test_tampered_state_is_refused_and_no_code_is_exchanged(twg, mock_idp, config_dir):
    # The listener answers a foreign state with 400 and keeps waiting for the real
    # callback, which never comes here: the login times out without exchanging a code.
    answers: list[int] = []

    def open_url(url: str) -> bool:
        with Robot() as robot:
            answers.append(deliver(robot.final_redirect(url), state="attacker-state"))
        return True

    result = twg.run("login", browser=open_url, login_timeout=0.5)

    assert answers == [400]
    assert result.code == 1
    assert "Login timed out" in result.err
    assert count(mock_idp, "code.redeemed") == 0
    assert count(mock_idp, "token.issued") == 0
    assert not (config_dir / "auth.conf").exists()


def test_a_callback_from_another_issuer_is_refused(twg, mock_idp):
    result = twg.run("login", browser=tampering_browser(iss="https://evil.example"))

    assert result.code == 1
    assert (
        f"came from issuer 'https://evil.example', not '{mock_idp.url}'; "
        "it was refused (RFC 9207)." in result.err
    )
    assert count(mock_idp, "code.redeemed") == 0


def test_a_callback_without_iss_is_refused_when_the_server_promises_it(twg, mock_idp):
    result = twg.run("login", browser=tampering_browser(iss=None))

    assert result.code == 1
    assert "has no 'iss' although the server promises one" in result.err
    assert count(mock_idp, "code.redeemed") == 0


def test_an_empty_iss_is_a_mismatch_not_a_missing_iss(twg, mock_idp):
    result = twg.run("login", browser=tampering_browser(iss=""))

    assert result.code == 1
    assert "came from issuer ''" in result.err
    assert count(mock_idp, "code.redeemed") == 0


def test_denied_consent_says_access_was_denied(twg, mock_idp):
    def denying(url: str) -> bool:
        with Robot(deny=True) as robot:
            robot.run(url)
        return True

    result = twg.run("login", browser=denying)

    assert result.code == 1
    assert "access was denied" in result.err
    assert "twg login" in result.err
    assert count(mock_idp, "consent.denied") == 1
    assert count(mock_idp, "token.issued") == 0


def test_login_times_out_with_a_clear_message_in_text_and_json(twg):
    text = twg.run("login", browser=lambda url: True, login_timeout=0.2)
    assert text.code == 1
    assert "Login timed out" in text.err

    js = twg.run("login", "--json", browser=lambda url: True, login_timeout=0.2)
    assert js.code == 1
    assert js.json()["error"]["code"] == "LOGIN_TIMEOUT"
    assert "timed out" in js.json()["error"]["message"]


def test_already_logged_in_checks_the_session_and_does_nothing_without_force(
    logged_in, twg, mock_idp
):
    result = twg.run("login")

    assert result.code == 0
    assert "Already logged in as alice@example.com" in result.err
    assert count(mock_idp, "token.issued") == 1


def test_force_logs_in_again_and_revokes_the_old_session(logged_in, twg, mock_idp, config_dir):
    old = stored.tokens(config_dir)["refresh_token"]
    result = twg.run("login", "--force")

    assert result.code == 0, result.err
    assert count(mock_idp, "token.issued") == 2
    new = stored.tokens(config_dir)["refresh_token"]
    assert new != old
    # The old refresh token was revoked at the mock, not merely forgotten.
    assert refresh(mock_idp.http, old).json()["error"] == "invalid_grant"


def test_login_after_an_admin_revocation_is_not_already_logged_in(logged_in, twg, mock_idp):
    mock_idp.idp.sessions.revoke_sessions(org_id=ACME_ORG_ID, reason="org_admin")
    result = twg.run("login")

    assert result.code == 0, result.err
    assert "Already logged in" not in result.err
    assert count(mock_idp, "token.issued") == 2
    assert twg.run("api", "/me").code == 0


def test_login_refuses_while_an_access_token_override_is_set(twg, mock_idp):
    result = twg.run("login", env={"TWG_OAUTH_ACCESS_TOKEN": "delegated"})

    assert result.code == 2
    assert "TWG_OAUTH_ACCESS_TOKEN" in result.err
    assert mock_idp.audit("code.") == []
    assert mock_idp.audit("api.call") == []


def test_login_without_me_or_sites_at_the_server_still_succeeds(twg, mock_idp):
    mock_idp.faults.add("/me", status=404)
    mock_idp.faults.add("/oauth/token/accessible-resources", status=404)
    result = twg.run("login")

    assert result.code == 0, result.err
    assert "Could not learn your account" in result.err
    assert "Could not learn your sites" in result.err


def test_the_callback_is_served_before_the_browser_is_opened(twg):
    """A browser that blocks until its redirect is answered (as webbrowser with BROWSER
    does) must finish: the loopback listener runs before the browser opens."""
    done = threading.Event()

    def blocking_browser(url: str) -> bool:
        ok = twg.robot(url)  # returns only once the loopback answered
        done.set()
        return ok

    result = twg.run("login", browser=blocking_browser)
    assert done.is_set()
    assert result.code == 0, result.err


def test_no_browser_prints_the_url_and_completes_when_it_is_visited(twg, mock_idp):
    opened: list[str] = []
    visits: list[threading.Thread] = []

    class Stderr(io.StringIO):
        def write(self, text: str) -> int:
            for line in text.splitlines():
                if line.startswith(f"{mock_idp.url}/authorize?") and not visits:
                    # A person copies the URL into a browser elsewhere.
                    visit = threading.Thread(target=twg.robot, args=(line,))
                    visits.append(visit)
                    visit.start()
            return super().write(text)

    from twg.main import main

    streams = IOStreams.for_test()
    streams.stderr = Stderr()
    code = main(
        ["login", "--no-browser"],
        io=streams,
        environ=twg.env,
        browser=lambda url: opened.append(url) or True,
        login_timeout=10,
    )
    for visit in visits:
        visit.join()

    assert code == 0, streams.stderr.getvalue()
    assert opened == []  # --no-browser never opens one
    assert "Logged in as Alice Example" in streams.stderr.getvalue()
    assert count(mock_idp, "token.issued") == 1


def test_the_robot_console_script_works_as_the_browser_variable(twg, mock_idp):
    """BROWSER as people set it: webbrowser runs `twg-mock-idp browser ... %s`."""
    result = twg.run("login", env={"BROWSER": twg.env["BROWSER"] + " "})

    assert result.code == 0, result.err
    assert count(mock_idp, "token.issued") == 1


# several sites ---------------------------------------------------------------------------

GLOBEX = {"id": "cloud-2", "name": "globex", "url": "https://globex.test", "scopes": []}


class SecondSite(httpx.HTTPTransport):
    """The mock over HTTP, with one more site in accessible-resources (the mock lists the
    site chosen at consent; Atlassian lists every site the consent covered)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path == "/oauth/token/accessible-resources" and response.status_code == 200:
            response.read()
            sites = [*response.json(), GLOBEX]
            return httpx.Response(200, json=sites, headers={"Date": response.headers["date"]})
        return response


def test_several_sites_without_a_terminal_is_a_clear_usage_error(twg):
    result = twg.run("login", "--json", transport=SecondSite())

    assert result.code == 2
    error = result.json()["error"]
    assert error["code"] == "USAGE"
    assert "--site" in error["message"]
    assert "globex (https://globex.test)" in error["message"]


def test_site_flag_picks_by_name_or_url(twg):
    result = twg.run("login", "--site", "https://globex.test", "--json", transport=SecondSite())

    assert result.code == 0, result.err
    assert result.json()["site"]["id"] == "cloud-2"


def test_several_sites_on_a_terminal_prompts_for_one(twg):
    result = twg.run("login", tty=True, stdin="2\n", hidden=[""], transport=SecondSite())

    assert result.code == 0, result.err
    assert "Choose a site" in result.err
    assert "Site: globex" in result.err


# device login ----------------------------------------------------------------------------


def test_device_login_polls_at_the_interval_slows_down_and_succeeds(twg, mock_idp, device):
    # Poll 1: pending. Poll 2 comes too soon by the mock's clock: slow_down, and the CLI
    # adds 5 s to its interval (RFC 8628 3.5). Poll 3, after approval: tokens.
    device.hold_clock.add(2)
    device.approve_at(3)
    result = twg.run("login", "--device", "--no-browser")

    assert result.code == 0, result.err
    assert device.slept == [5, 5, 10]
    assert f"To sign in, open {mock_idp.url}/device and enter the code: " in result.err
    carries = f"Or open this URL, which carries the code: {mock_idp.url}/device?user_code="
    assert carries in result.err
    assert "Logged in as Alice Example" in result.err
    assert count(mock_idp, "token.issued") == 1


def test_device_login_denied_says_so(twg, mock_idp, device):
    device.approve_at(1, deny=True)
    result = twg.run("login", "--device", "--no-browser")

    assert result.code == 1
    assert "Login was denied in the browser: access was not granted." in result.err
    assert count(mock_idp, "token.issued") == 0


def test_device_login_times_out_without_approval(twg, mock_idp, device):
    result = twg.run("login", "--device", "--no-browser", "--json", login_timeout=30)

    assert result.code == 1
    assert result.json()["error"]["code"] == "LOGIN_TIMEOUT"
    assert "Login timed out after 30 seconds without approval." in result.json()["error"]["message"]
    # It polled until the next poll would pass the deadline, and never after.
    assert device.slept == [5] * 6
    assert count(mock_idp, "token.issued") == 0


def test_an_expired_device_code_says_so(twg, mock_idp, device):
    # The person comes back after the code's 600 s lifetime (the mock says expired_token).
    device.hold_clock.add(1)
    device.actions[1] = lambda grant: mock_idp.clock.advance(601)
    result = twg.run("login", "--device", "--no-browser", login_timeout=900)

    assert result.code == 1
    assert "The device code expired before it was approved." in result.err
    assert "Run `twg login --device` again." in result.err
    assert device.slept == [5]
    assert count(mock_idp, "token.issued") == 0


def test_the_device_wait_ends_with_the_code_lifetime_and_says_how_long_it_waited(
    twg, mock_idp, device
):
    mock_idp.settings(device_code_ttl=12)
    result = twg.run("login", "--device", "--no-browser", login_timeout=300)

    assert result.code == 1
    # It stops polling once the next poll would fall after the code's expiry (12 s).
    assert device.slept == [5, 5]
    assert "Login timed out after 12 seconds without approval." in result.err


def test_device_flow_is_used_when_no_browser_can_be_opened(twg, mock_idp, device):
    device.approve_at(1)
    result = twg.run("login", browser=lambda url: False)

    assert result.code == 0, result.err
    assert "No browser could be opened: using device login instead." in result.err
    assert "enter the code: " in result.err
    assert count(mock_idp, "token.issued") == 1
