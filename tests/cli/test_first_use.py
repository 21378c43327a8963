"""What a newcomer sees on the first try: login messages, the browser and device paths,
errors that name what to fix, exit codes, --version/-h, help text and completion.

Against the real mock IdP on a loopback socket, with its robot browser as BROWSER.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_idp.pytest_plugin import robot_browser_command
from tests.cli import stored
from tests.mock_idp.loopback import free_port
from twg.iostreams import IOStreams
from twg.main import main

BIN = Path(sys.executable).parent
ROBOT = str(BIN / "twg-mock-idp")


robot = robot_browser_command


@pytest.fixture(autouse=True)
def newcomer_env(twg) -> None:
    """A one-minute login wait (the messages these tests read name it), and no
    TWG_API_URL: the API is the identity provider's, as a newcomer sets only TWG_IDP_URL."""
    twg.env["TWG_LOGIN_TIMEOUT"] = "60"
    del twg.env["TWG_API_URL"]


@pytest.fixture
def quick_device_polls(mock_idp) -> None:
    """One second between device polls (the CLI's floor) instead of five."""
    mock_idp.settings(device_poll_interval=1)


@pytest.fixture
def unused_port() -> int:
    return free_port()


# login ----------------------------------------------------------------------------------
def test_device_login_opens_the_verification_url_in_the_browser_and_prints_url_and_code(
    twg, mock_idp, quick_device_polls
):
    result = twg.run("login", "--device")

    assert result.code == 0, result.err
    assert f"To sign in, open {mock_idp.url}/device and enter the code: " in result.err
    assert f"{mock_idp.url}/device?user_code=" in result.err
    assert "Opening it in your browser." in result.err
    assert "Waiting up to 1 minute for approval. Press Ctrl-C to cancel." in result.err
    assert "Logged in as Alice Example (alice@example.com)." in result.err
    assert len(mock_idp.audit("token.issued")) == 1


def test_a_browser_command_that_fails_ends_the_login_at_once_with_its_reason(twg, mock_idp):
    # Bob is not on globex: the robot refuses and exits 1 without calling back. With a
    # 300 s login timeout, anything but an immediate end would hang this test.
    result = twg.run(
        "login",
        env={"BROWSER": robot("bob@example.com", "--site", "globex"), "TWG_LOGIN_TIMEOUT": "300"},
    )

    assert result.code == 1
    last = result.err.strip().splitlines()[-1]
    assert last.startswith("error: The sign-in did not complete: the browser command ")
    assert "exited with status 1: twg-mock-idp browser: no site matches 'globex'" in last
    assert "device login" not in result.err
    assert mock_idp.audit("token.issued") == []


def test_a_sign_in_page_refusing_the_client_id_points_at_the_client_setting(twg, mock_idp):
    result = twg.run(
        "login",
        # The robot as its own process: a BROWSER other than the fixture's default.
        env={"BROWSER": robot(twg.user, "--site", "acme"), "TWG_CLIENT_ID": "no-such-client"},
    )

    assert result.code == 1
    last = result.err.strip().splitlines()[-1]
    assert last.endswith(
        "invalid_client: The client does not exist on this server. The identity provider "
        "does not know client id no-such-client: check TWG_CLIENT_ID, or the client saved "
        "by `twg setup client`."
    )
    assert ".." not in last


def test_a_failing_browser_also_ends_a_device_login_at_once(twg, mock_idp):
    result = twg.run(
        "login",
        "--device",
        env={"BROWSER": robot("nobody@example.com"), "TWG_LOGIN_TIMEOUT": "300"},
    )

    assert result.code == 1
    assert "error: The sign-in did not complete: the browser command " in result.err
    assert mock_idp.audit("token.issued") == []


def test_a_5xx_while_polling_for_device_approval_is_unavailable_69(
    twg, mock_idp, quick_device_polls, device
):
    mock_idp.faults.add("/oauth/token", method="POST", status=503)
    result = twg.run("login", "--device", "--no-browser", "--json")

    assert result.code == 69
    assert result.json()["error"] == {
        "code": "UNAVAILABLE",
        "message": "The identity provider answered HTTP 503 while waiting for the device "
        "approval. Try `twg login --device` again later.",
    }
    assert device.slept == [1]  # the first poll's answer ends the login


def test_no_browser_prints_the_url_without_promising_to_open_one(twg):
    result = twg.run("login", "--no-browser", env={"TWG_LOGIN_TIMEOUT": "0.5"})

    assert result.code == 1
    assert "Opening your browser" not in result.err
    lines = result.err.splitlines()
    assert lines[0] == "Open this URL in a browser to sign in:"
    assert "/authorize?" in lines[1]
    assert (
        lines[2] == "Waiting up to 0.5 seconds for the sign-in to finish. Press Ctrl-C to cancel."
    )
    assert "\r" not in result.err  # no countdown when stderr is not a terminal


def test_a_terminal_gets_a_countdown_line(twg):
    result = twg.run("login", "--no-browser", env={"TWG_LOGIN_TIMEOUT": "0.5"}, tty=True)

    assert result.code == 1
    assert "\r\x1b[2K/ Waiting for the browser: 0:00 left (Ctrl-C cancels)" in result.err
    assert result.err.endswith(
        "\r\x1b[2Kerror: Login timed out after 0.5 seconds without a "
        "response from the browser. Run `twg login` again (or `twg login --device` on a "
        "machine without a browser).\n"
    )


def test_login_says_where_each_part_of_the_credentials_went(twg, config_dir):
    result = twg.run("login")

    assert result.code == 0, result.err
    assert (
        f"Credentials saved to {config_dir}/auth.conf: your account, site and token times "
        "(no secrets)." in result.err
    )
    assert (
        f"Secrets stored in: file {config_dir}/credentials (mode 0600), holding the access and "
        "refresh tokens." in result.err
    )


def test_a_site_the_account_cannot_use_fails_before_saving_and_lists_the_sites(
    twg, mock_idp, config_dir
):
    result = twg.run("login", "--site", "globex", env={"BROWSER": robot("bob@example.com")})

    assert result.code == 2
    assert "the sign-in granted no site matching --site 'globex'" in result.err
    assert "Sites it granted: acme (https://acme.atlassian.net)." in result.err
    assert not (config_dir / "auth.conf").exists()
    assert not (config_dir / "credentials").exists()
    revoked = mock_idp.audit("token.revoked")
    assert len(revoked) == 2  # the refresh and the access token just issued


def test_a_login_at_another_identity_provider_is_new_and_never_sends_it_the_old_token(
    twg, mock_idp, config_dir
):
    assert twg.run("login").code == 0
    old_refresh = stored.tokens(config_dir)["refresh_token"]
    other = mock_idp.url.replace("127.0.0.1", "localhost")  # another issuer URL

    result = twg.run("login", env={"TWG_IDP_URL": other})

    assert result.code == 0, result.err
    assert "Already logged in" not in result.err
    assert stored.conf(config_dir, other)["issuer"] == other
    assert mock_idp.audit("token.revoked") == []
    # Sessions are kept per issuer: the first one stays as it was, the new one is its own.
    assert stored.tokens(config_dir, mock_idp.url)["refresh_token"] == old_refresh
    assert stored.tokens(config_dir, other)["refresh_token"] != old_refresh


# settings and network errors ------------------------------------------------------------
@pytest.mark.parametrize("as_json", [False, True])
def test_an_idp_url_without_a_scheme_is_a_config_error_78(twg, as_json):
    args = ["auth", "status", *(["--json"] if as_json else [])]
    result = twg.run(*args, env={"TWG_IDP_URL": "127.0.0.1:8080"})

    assert result.code == 78
    message = (
        "TWG_IDP_URL='127.0.0.1:8080' is not a URL twg can use: it needs http:// or https:// "
        "and a host name. For example: TWG_IDP_URL=http://127.0.0.1:8080"
    )
    if as_json:
        assert result.json() == {"error": {"code": "CONFIG", "message": message}}
    else:
        assert result.err == f"error: {message}\n"


@pytest.mark.parametrize("name", ["TWG_LOGIN_TIMEOUT", "TWG_KEYRING_TIMEOUT"])
def test_a_malformed_timeout_is_a_config_error_before_any_sign_in(twg, mock_idp, name):
    result = twg.run("login", env={name: "soon"})

    assert result.code == 78
    # One line: no URL, no code, nothing was started.
    assert result.err == (
        f"error: {name} must be a number of seconds from 0 to 86400, not 'soon'. "
        f"Fix or unset {name}.\n"
    )
    assert mock_idp.audit() == []


def test_an_unreachable_api_names_the_url_and_the_variable_and_exits_69(twg, unused_port):
    url = f"http://127.0.0.1:{unused_port}"
    # A session is only sent to the API it was minted for: log in with TWG_API_URL set.
    assert twg.run("login", env={"TWG_API_URL": url}).code == 0
    result = twg.run("api", "/me", "--json", env={"TWG_API_URL": url})

    assert result.code == 69
    assert result.json()["error"] == {
        "code": "NETWORK",
        "message": f"Could not reach {url}/me (set by TWG_API_URL): the connection was "
        "refused or the host is unreachable. Check that the server is running and that "
        "TWG_API_URL is right.",
    }


# twg api --------------------------------------------------------------------------------
ISSUE_PATH = "/ex/jira/1f4c7a52-0000-4000-8000-0000000000a1/rest/api/3/issue"


def test_api_400_shows_the_server_error_in_text_and_json(twg):
    assert twg.run("login").code == 0
    text = twg.run("api", "-X", "POST", ISSUE_PATH, "--data", "{}")
    as_json = twg.run("api", "-X", "POST", ISSUE_PATH, "--data", "{}", "--json")

    reason = "fields: The request body must be an object with 'fields'."
    assert text.code == as_json.code == 1
    assert text.err == f"error: The API answered HTTP 400 Bad Request: {reason}\n"
    assert as_json.json()["error"] == {
        "code": "API_ERROR",
        "message": f"The API answered HTTP 400 Bad Request: {reason}",
        "status": 400,
        "body": {"errorMessages": [], "errors": {"fields": reason.split(": ", 1)[1]}},
    }


def test_api_404_message_ends_with_one_full_stop(twg):
    assert twg.run("login").code == 0
    result = twg.run("api", "/no/such/path")

    assert result.code == 1
    assert result.err == "error: The API answered HTTP 404 Not Found.\n"


def test_a_wrong_twg_bbc_token_is_named_in_the_advice(twg, mock_idp):
    assert twg.run("login").code == 0
    result = twg.run(
        "api",
        "--bitbucket",
        "/2.0/user",
        env={"TWG_BBC_TOKEN": "wrong", "TWG_BITBUCKET_URL": mock_idp.url},
    )

    assert result.code == 77
    assert "Bitbucket refused the token in TWG_BBC_TOKEN" in result.err
    assert "setup bitbucket --force" not in result.err


# doctor ---------------------------------------------------------------------------------
def test_doctor_checks_the_identity_provider_in_colour_on_a_terminal(twg, mock_idp):
    assert twg.run("login").code == 0
    result = twg.run("doctor", tty=True, color=True)

    assert result.code == 0, result.out
    first = result.out.splitlines()[0]
    assert first == (
        f"\x1b[32m[OK]  \x1b[0m identity provider: {mock_idp.url}/.well-known/"
        f"oauth-authorization-server answers; issuer {mock_idp.url} matches TWG_IDP_URL"
    )


def test_doctor_with_the_idp_down_fails_in_red_and_exits_69(twg, unused_port):
    result = twg.run(
        "doctor", env={"TWG_IDP_URL": f"http://127.0.0.1:{unused_port}"}, tty=True, color=True
    )

    assert result.code == 69
    assert result.out.startswith("\x1b[31m[FAIL]\x1b[0m identity provider: Could not reach ")


def test_errors_are_red_on_a_colour_terminal_and_plain_otherwise(twg):
    coloured = twg.run(
        "auth", "status", env={"TWG_IDP_URL": "127.0.0.1:8080"}, tty=True, color=True
    )
    plain = twg.run("auth", "status", env={"TWG_IDP_URL": "127.0.0.1:8080"}, tty=True, color=False)

    assert coloured.err.startswith("\x1b[31merror:\x1b[0m TWG_IDP_URL=")
    assert plain.err.startswith("error: TWG_IDP_URL=")


def test_no_color_turns_colour_off():
    assert IOStreams.system({"NO_COLOR": "1"}).color is False
    assert IOStreams.system({}).color is True


# speed ----------------------------------------------------------------------------------
def test_an_http_url_never_loads_the_tls_trust_store(twg, monkeypatch, unused_port):
    import ssl

    import httpx

    from twg.lazy_tls import LazyTLSTransport, trust_store

    loads: list[object] = []
    original = ssl.SSLContext.load_verify_locations

    def counting(self, *args, **kwargs):
        loads.append(args or kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    trust_store.cache_clear()  # as in a new process
    # The robot as its own process (a BROWSER other than the fixture's default, which
    # would run it in this process, where its own https client loads the trust store).
    browser = {"BROWSER": robot(twg.user, "--site", "acme")}
    assert twg.run("login", env=browser).code == 0
    assert twg.run("api", "/me").code == 0
    assert loads == []

    for _ in range(2):  # the context is built on the first https request, then shared
        transport = LazyTLSTransport()
        with pytest.raises(httpx.ConnectError):  # nothing listens there
            transport.handle_request(httpx.Request("GET", f"https://127.0.0.1:{unused_port}/"))
        transport.close()
    assert len(loads) == 1


# the command line itself ----------------------------------------------------------------
def test_version_and_short_help_work_for_both_tools():
    twg_version = subprocess.run(
        [str(BIN / "twg"), "--version"], capture_output=True, text=True, check=False
    )
    mock_version = subprocess.run([ROBOT, "--version"], capture_output=True, text=True, check=False)
    mock_help = subprocess.run([ROBOT, "-h"], capture_output=True, text=True, check=False)

    assert twg_version.returncode == mock_version.returncode == mock_help.returncode == 0
    assert twg_version.stdout.startswith("twg ")
    assert mock_version.stdout.startswith("twg-mock-idp ")
    assert mock_help.stdout.startswith("usage: twg-mock-idp")


def test_short_help_shows_whole_lines_and_no_placeholders():
    def helptext(*args: str) -> str:
        env = {**os.environ, "COLUMNS": "80"}
        done = subprocess.run(
            [str(BIN / "twg"), *args], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    top, api_help = helptext("-h"), helptext("api", "-h")

    assert "  logout      Revoke your tokens at the server and delete them here.\n" in top
    commands = top.split("Commands:", 1)[1]
    assert not [line for line in commands.splitlines() if line.endswith("...")]
    for text in (top, api_help):
        assert "<str>" not in text
        assert "{" not in text
    assert "Usage: twg api [OPTIONS] PATH" in api_help


def test_no_command_help_shows_a_type_placeholder():
    from twg.main import cli

    def command_paths(group: Any, prefix: list[str]) -> Iterator[list[str]]:
        for name, command in group.commands.items():
            yield [*prefix, name]
            if hasattr(command, "commands"):
                yield from command_paths(command, [*prefix, name])

    paths = list(command_paths(cli, []))
    assert ["admin", "permissions", "set"] in paths
    for path in paths:
        io = IOStreams.for_test(tty=False)
        assert main([*path, "--help"], io=io, environ={"COLUMNS": "80"}) == 0
        text = io.stdout.getvalue()
        assert text.startswith(f"Usage: twg {' '.join(path)} [OPTIONS]"), (path, text)
        assert not re.search(r"<[a-z]+>", text), (path, text)
        assert "{" not in text, (path, text)
        if "Commands:" in text:  # each command's summary is whole, never cut with "..."
            listing = text.split("Commands:", 1)[1]
            assert not [line for line in listing.splitlines() if line.endswith("...")], text
    assert "Usage: twg admin users suspend [OPTIONS] EMAIL\n" in io_help("admin users suspend")
    assert "Usage: twg admin allowlist set [OPTIONS] CIDR...\n" in io_help("admin allowlist set")


def io_help(command: str) -> str:
    io = IOStreams.for_test(tty=False)
    assert main([*command.split(), "-h"], io=io, environ={}) == 0
    return io.stdout.getvalue()


def test_version_goes_to_the_injected_stdout():
    streams = IOStreams.for_test()

    assert main(["--version"], io=streams, environ={}) == 0
    assert streams.output().startswith("twg ")


def test_bare_twg_prints_help_and_exits_2():
    streams = IOStreams.for_test()

    assert main([], io=streams, environ={}) == 2
    assert "Usage: twg [OPTIONS] COMMAND" in streams.output() + streams.errors()


def test_a_usage_error_with_json_is_a_json_document_too():
    streams = IOStreams.for_test()

    assert main(["auth", "status", "--json", "--jsn"], io=streams, environ={}) == 2
    assert json.loads(streams.output()) == {
        "error": {"code": "USAGE", "message": "No such option '--jsn'. Did you mean '--json'?"}
    }
    assert "Try 'twg auth status --help' for help." in streams.errors()


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_ctrl_c_while_login_waits_exits_130_and_saves_nothing(twg, as_json):
    proc = twg.popen("login", "--no-browser", *(["--json"] if as_json else []))
    assert proc.stderr is not None
    for line in proc.stderr:
        if "Press Ctrl-C to cancel" in line:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 130
    assert err.strip() == "Interrupted."
    if as_json:
        assert json.loads(out) == {"error": {"code": "INTERRUPTED", "message": "Interrupted."}}
    assert not (twg.config_dir / "auth.conf").exists()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_a_script_that_calls_twg_back(shell):
    streams = IOStreams.for_test()

    assert main(["completion", shell], io=streams, environ={}) == 0
    assert "_TWG_COMPLETE" in streams.output()


def test_bash_completion_offers_the_commands_that_match():
    script = subprocess.run(
        [str(BIN / "twg"), "completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    # What bash does on TAB after "twg lo": call the function the script registered.
    ask = 'COMP_WORDS=(twg lo); COMP_CWORD=1; _twg_completion twg lo twg; echo "${COMPREPLY[@]}"'
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "--norc", "-c", f"{script}\n{ask}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["login", "logout"]
