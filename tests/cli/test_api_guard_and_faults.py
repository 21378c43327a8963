"""twg api: tokens only ever go to the configured API (full URLs to any other host are
refused before a byte is sent), and every way the API or the IdP can fail (the mock's
fault API) gets its documented exit code and a one-line message."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from mock_idp.seed import ACME_SITE_ID, ALICE_BITBUCKET_TOKEN
from tests.cli.conftest import HOUR, count

ISSUE = f"/ex/jira/{ACME_SITE_ID}/rest/api/3/issue"


class Listener:
    """Another host on loopback that records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                listener.requests.append((self.path, dict(self.headers)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


def test_a_full_url_to_another_host_is_refused_and_nothing_is_sent(logged_in, twg, elsewhere):
    result = twg.run("api", f"{elsewhere.url}/me")

    assert result.code == 2
    assert f"twg api only calls {twg.env['TWG_API_URL']}; give a path such as /me." in result.err
    assert elsewhere.requests == []


@pytest.mark.parametrize(
    "trick",
    [
        "{api}0/me",  # the same prefix, another port
        "{api}.evil.example/me",  # the same prefix, another host
        "{api}@{other}/me",  # userinfo: the host is the part after @
    ],
    ids=["port", "host-suffix", "userinfo"],
)
def test_a_url_that_only_starts_like_the_api_is_refused(logged_in, twg, elsewhere, trick):
    url = trick.format(api=twg.env["TWG_API_URL"], other=elsewhere.url.removeprefix("http://"))
    result = twg.run("api", url)

    assert result.code == 2
    assert "twg api only calls" in result.err
    assert elsewhere.requests == []


def test_a_full_url_of_the_api_itself_is_allowed(logged_in, twg, mock_idp):
    result = twg.run("api", f"{twg.env['TWG_API_URL']}/me")

    assert result.code == 0, result.err
    assert '"email": "alice@example.com"' in result.out


def test_the_bitbucket_token_never_goes_to_another_host(twg, elsewhere):
    env = {"TWG_BBC_TOKEN": ALICE_BITBUCKET_TOKEN, "TWG_BBC_EMAIL": "alice@example.com"}
    result = twg.run("api", "--bitbucket", f"{elsewhere.url}/2.0/user", env=env)

    assert result.code == 2
    assert f"twg api only calls {twg.env['TWG_BITBUCKET_URL']}" in result.err
    assert elsewhere.requests == []


def test_an_unsupported_method_is_a_usage_error_before_anything_is_sent(logged_in, twg, mock_idp):
    before = len(mock_idp.audit("api.call"))
    result = twg.run("api", "-X", "TRACE", "/me")

    assert result.code == 2
    assert "Unsupported method 'TRACE'; use one of DELETE, GET, HEAD, PATCH, POST, PUT." in (
        result.err
    )
    assert len(mock_idp.audit("api.call")) == before


def test_a_404_is_exit_1_with_the_servers_reason(logged_in, twg):
    result = twg.run("api", f"{ISSUE}/NOPE-1")

    assert result.code == 1
    assert result.err == (
        "error: The API answered HTTP 404 Not Found: Issue NOPE-1 does not exist or you do "
        "not have permission to see it.\n"
    )


def test_a_missing_scope_names_the_scope_it_needs(logged_in, twg):
    result = twg.run("api", "-X", "DELETE", f"{ISSUE}/ACME-1", "--json")

    assert result.code == 1
    error = result.json()["error"]
    assert error["code"] == "FORBIDDEN"
    assert "required scope: delete:jira-work" in error["message"]


# the API failing -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_an_api_that_is_down_or_busy_is_exit_69_and_keeps_the_session(
    logged_in, twg, mock_idp, status
):
    mock_idp.faults.add("/me", status=status)
    result = twg.run("api", "/me", "--json")

    assert result.code == 69
    error = result.json()["error"]
    assert error["code"] == "UNAVAILABLE"
    assert error["message"] == (
        f"The API is unavailable: HTTP {status}: Injected fault #1 (HTTP {status}). "
        "Try again later."
    )
    # Nothing was lost: the next call works with the same session.
    assert twg.run("api", "/me").code == 0
    assert count(mock_idp, "token.rotated") == 0


def test_a_dropped_api_connection_is_exit_69(logged_in, twg, mock_idp):
    mock_idp.faults.add("/me", drop=True)
    result = twg.run("api", "/me")

    assert result.code == 69
    assert result.err == (
        f"error: Could not reach {mock_idp.url}/me (set by TWG_IDP_URL): the connection broke "
        "off. Check that the server is running and that TWG_IDP_URL is right.\n"
    )
    assert twg.run("api", "/me").code == 0


def test_an_api_that_is_gone_is_exit_69(logged_in, twg, mock_idp):
    mock_idp.stop()
    result = twg.run("api", "/me")

    assert result.code == 69
    assert result.err == (
        f"error: Could not reach {mock_idp.url}/me (set by TWG_IDP_URL): the connection was "
        "refused or the host is unreachable. Check that the server is running and that "
        "TWG_IDP_URL is right.\n"
    )


# the IdP failing during a refresh --------------------------------------------------------


def test_a_refresh_dropped_once_is_retried_and_the_call_succeeds(logged_in, twg, mock_idp):
    mock_idp.clock.advance(9 * HOUR)
    mock_idp.faults.add("/oauth/token", drop=True)
    result = twg.run("api", "/me")

    assert result.code == 0, result.err
    assert result.json()["email"] == "alice@example.com"
    # The refresh token was never spent by the dropped request: one rotation in all.
    assert count(mock_idp, "token.rotated") == 1


def test_a_refresh_whose_answer_was_lost_is_retried_inside_the_reuse_leeway(
    logged_in, twg, mock_idp
):
    # The IdP rotated the token but the answer never arrived: the client still holds the
    # old one, and spending it again inside Atlassian's 10-minute leeway (the mock's
    # default, docs/mock-defaults.md) gets the same successor, not a reuse alarm.
    mock_idp.clock.advance(9 * HOUR)
    mock_idp.faults.add("/oauth/token", drop=True, after=True)
    result = twg.run("api", "/me")

    assert result.code == 0, result.err
    assert count(mock_idp, "refresh.reuse_detected") == 0
    assert twg.run("api", "/me").code == 0


def test_an_idp_503_during_refresh_is_exit_69_and_the_session_survives(logged_in, twg, mock_idp):
    mock_idp.clock.advance(9 * HOUR)
    # One 503 is retried (tests/cli/test_refresh_faults.py); one for every attempt is not.
    mock_idp.faults.add("/oauth/token", status=503, count=3)
    result = twg.run("api", "/me", "--json")

    assert result.code == 69
    assert result.json()["error"]["code"] == "UNAVAILABLE"
    assert twg.sleeps == [0.5, 1.0]  # three tries, backing off between them
    assert twg.run("api", "/me").code == 0


# Bitbucket -------------------------------------------------------------------------------


def test_bitbucket_without_a_token_is_exit_77_naming_the_fix(logged_in, twg):
    result = twg.run("api", "--bitbucket", "/2.0/user")

    assert result.code == 77
    assert "No Bitbucket token is set. Run `twg setup bitbucket`, or set TWG_BBC_TOKEN." in (
        result.err
    )


def test_a_bitbucket_token_the_server_refuses_is_exit_77(logged_in, twg, mock_idp):
    result = twg.run("api", "--bitbucket", "/2.0/user", env={"TWG_BBC_TOKEN": "wrong"})

    assert result.code == 77
    assert result.err == (
        "error: Bitbucket refused the token in TWG_BBC_TOKEN (Invalid credentials: the email "
        "and API token do not match.). Set TWG_BBC_TOKEN to a valid Bitbucket API token, or "
        "unset it to use the saved one.\n"
    )
    assert "wrong" not in result.err
    assert count(mock_idp, "bitbucket.auth_failed") == 1


def test_a_bitbucket_token_without_a_known_email_is_exit_77(twg):
    result = twg.run("api", "--bitbucket", "/2.0/user", env={"TWG_BBC_TOKEN": "x"})

    assert result.code == 77
    assert "Your Atlassian account email is unknown" in result.err
    assert "TWG_BBC_EMAIL" in result.err
