"""The login's loopback listener under local attack (RFC 8252 section 8.3, RFC 6749
section 10.12): only the callback of the login in progress is accepted."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from twg.auth.loopback import CallbackServer, PortInUse, parse_redirect_uri
from twg.errors import EXIT_CONFIG, EXIT_TEMPFAIL, ConfigError

STATE = "s3cr3t-state_value"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_foreign_state_gets_400_and_the_real_callback_still_signs_in() -> None:
    with CallbackServer(STATE) as server:
        forged = httpx.get(server.redirect_uri, params={"state": "forged", "code": "evil"})
        assert forged.status_code == 400
        assert "does not belong to the twg login in progress" in forged.text
        assert server.wait(0) is None  # the slot is still free

        real = httpx.get(server.redirect_uri, params={"state": STATE, "code": "good"})
        assert real.status_code == 200
        assert "Signed in" in real.text
        assert server.wait(1) == {"state": STATE, "code": "good"}

        again = httpx.get(server.redirect_uri, params={"state": STATE, "code": "late"})
        assert "Already handled" in again.text
        assert server.wait(0) == {"state": STATE, "code": "good"}


def test_a_callback_without_state_is_refused() -> None:
    with CallbackServer(STATE) as server:
        answer = httpx.get(server.redirect_uri, params={"code": "evil"})
        assert answer.status_code == 400
        assert server.wait(0) is None


@pytest.mark.parametrize("state", ["é" * 8, "\u202e", "s3cr3t-state_valu\u00e9", "%ff"])
def test_a_non_ascii_state_is_a_mismatch_not_a_crash(state: str) -> None:
    with CallbackServer(STATE) as server:
        answer = httpx.get(server.redirect_uri, params={"state": state, "code": "x"})
        assert answer.status_code == 400
        assert server.wait(0) is None


def test_raw_invalid_utf8_in_the_query_is_refused() -> None:
    with CallbackServer(STATE) as server:
        port = server.server_address[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /callback?state=%FF%FE&code=x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            reply = sock.recv(4096)
        assert reply.startswith(b"HTTP/1.0 400 ")  # http.server's protocol version
        assert server.wait(0) is None


def test_an_idle_connection_does_not_block_the_real_callback() -> None:
    with CallbackServer(STATE) as server:
        port = server.server_address[1]
        idle = socket.create_connection(("127.0.0.1", port))
        idle.sendall(b"GET /callback?st")  # half a request line, then nothing
        try:
            real = httpx.get(server.redirect_uri, params={"state": STATE, "code": "c"}, timeout=3)
            assert real.status_code == 200
            assert server.wait(1) == {"state": STATE, "code": "c"}
        finally:
            idle.close()


def test_closing_the_listener_does_not_wait_for_an_idle_connection() -> None:
    server = CallbackServer(STATE).start()
    idle = socket.create_connection(("127.0.0.1", server.server_address[1]))
    try:
        done = threading.Event()

        def close() -> None:
            server.close()
            done.set()

        threading.Thread(target=close, daemon=True).start()
        # Handler threads are daemons: close() never waits out the idle client's 5 s.
        assert done.wait(4), "close() waited for an idle connection"
    finally:
        idle.close()


def test_other_paths_are_404_and_do_not_count() -> None:
    with CallbackServer(STATE) as server:
        base = server.redirect_uri.rsplit("/", 1)[0]
        assert httpx.get(f"{base}/", params={"state": STATE}).status_code == 404
        assert server.wait(0) is None


def test_the_page_is_accessible_and_private() -> None:
    with CallbackServer(STATE) as server:
        answer = httpx.get(server.redirect_uri, params={"state": STATE, "code": "c"})
    assert '<html lang="en">' in answer.text
    assert 'name="viewport"' in answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_denied_sign_in_shows_an_alert() -> None:
    with CallbackServer(STATE) as server:
        answer = httpx.get(server.redirect_uri, params={"state": STATE, "error": "access_denied"})
        assert server.wait(1) == {"state": STATE, "error": "access_denied"}
    assert 'role="alert"' in answer.text
    assert "Sign-in was not completed" in answer.text


def test_the_ephemeral_listener_binds_loopback_only() -> None:
    with CallbackServer(STATE) as server:
        assert server.server_address[0] == "127.0.0.1"
        assert server.redirect_uri.startswith("http://127.0.0.1:")
        assert server.redirect_uri.endswith("/callback")


def test_a_fixed_redirect_uri_binds_exactly_its_port_and_path() -> None:
    port = _free_port()
    uri = f"http://localhost:{port}/oauth/done"
    with CallbackServer(STATE, uri) as server:
        assert server.redirect_uri == uri
        assert server.server_address == ("127.0.0.1", port)
        answer = httpx.get(
            f"http://127.0.0.1:{port}/oauth/done", params={"state": STATE, "code": "c"}
        )
        assert answer.status_code == 200
        assert server.wait(1) == {"state": STATE, "code": "c"}


def test_a_taken_fixed_port_says_so_with_exit_75() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PortInUse) as caught:
            CallbackServer(STATE, f"http://localhost:{port}/callback")
    assert caught.value.exit_code == EXIT_TEMPFAIL
    assert f"Port {port} of TWG_REDIRECT_URI" in caught.value.message
    assert "in use by another program" in caught.value.message


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("https://localhost:8765/callback", "http:// loopback"),
        ("http://example.com:8765/callback", "http:// loopback"),
        ("http://0.0.0.0:8765/callback", "http:// loopback"),
        ("http://localhost/callback", "explicit port"),
        ("http://localhost:0/callback", "explicit port"),
        ("http://localhost:99999/callback", "not a valid URL"),
        ("http://localhost:8765/callback?x=1", "query or fragment"),
        ("localhost:8765", "http:// loopback"),
    ],
)
def test_a_bad_fixed_redirect_uri_is_a_config_error(value: str, needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_redirect_uri(value)
    assert caught.value.exit_code == EXIT_CONFIG
    assert needle in caught.value.message
    assert "TWG_REDIRECT_URI" in caught.value.message


def test_ipv6_loopback_fixed_redirect_binds_ipv6() -> None:
    assert parse_redirect_uri("http://[::1]:8765/cb") == ("::1", 8765, "/cb")
    assert parse_redirect_uri("http://127.0.0.1:8765") == ("127.0.0.1", 8765, "/")


def test_the_robot_browser_reports_a_refused_callback_as_a_failure(mock_server) -> None:
    from urllib.parse import urlencode

    from mock_idp.browser import Robot, RobotError
    from twg.auth.pkce import Pkce

    pkce = Pkce.new()
    with CallbackServer(STATE) as server:
        query = urlencode(
            {
                "client_id": "twg-cli",
                "response_type": "code",
                "redirect_uri": server.redirect_uri,
                "scope": "read:me offline_access",
                "state": "not-the-login-in-progress",
                "code_challenge": pkce.challenge,
                "code_challenge_method": "S256",
            }
        )
        with Robot(user="alice@example.com") as robot, pytest.raises(RobotError) as caught:
            robot.run(f"{mock_server.url}/authorize?{query}")
        assert server.wait(0) is None
    assert "callback got code, answered HTTP 400" in str(caught.value)
