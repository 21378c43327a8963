"""Broken files, read-only places and hostile answers: a specific message and exit code,
data kept or moved aside, never "internal error" (against the real mock)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator

import httpx
import pytest

from tests.cli.read_only import make_read_only, make_writable

# Every test starts logged in (the plugin's twg, the robot signing in as alice).
pytestmark = pytest.mark.usefixtures("logged_in")


def moved(config_dir, name: str) -> list[bytes]:
    return [p.read_bytes() for p in config_dir.iterdir() if p.name.startswith(f"{name}.corrupt-")]


NOT_UTF8 = b'{"sessions": {"\xff\xfe": 1}}\n'


def test_a_non_utf8_credentials_file_is_moved_aside_with_a_message(twg, config_dir):
    conf_before = (config_dir / "auth.conf").read_bytes()
    (config_dir / "credentials").write_bytes(NOT_UTF8)

    result = twg.run("api", "/me")

    assert result.code == 74
    assert "credentials was corrupt; it was moved aside to credentials.corrupt-" in result.err
    assert "internal error" not in result.err
    assert moved(config_dir, "credentials") == [NOT_UTF8]
    assert (config_dir / "auth.conf").read_bytes() == conf_before


@pytest.mark.parametrize(
    "content",
    [
        NOT_UTF8,
        b'{"version": 2, "sessions": []}',
        b'{"version": 2, "sessions": {"x": {"issuer": 5, "client_id": "c", "store": "file"}}}',
    ],
    ids=["not-utf8", "sessions-not-an-object", "issuer-not-a-string"],
)
def test_a_broken_auth_conf_is_moved_aside_with_a_message(twg, config_dir, content):
    creds_before = (config_dir / "credentials").read_bytes()
    (config_dir / "auth.conf").write_bytes(content)

    result = twg.run("auth", "status")

    assert result.code == 74
    assert "auth.conf was corrupt; it was moved aside to auth.conf.corrupt-" in result.err
    assert moved(config_dir, "auth.conf") == [content]
    assert (config_dir / "credentials").read_bytes() == creds_before
    assert twg.run("auth", "status").code == 77  # now simply not logged in


def test_wrongly_typed_times_in_auth_conf_are_ignored_not_a_crash(twg, config_dir, mock_idp):
    data = json.loads((config_dir / "auth.conf").read_text())
    section = data["sessions"][mock_idp.url]
    section.update(access_expires_at="soon", last_refresh_at=[1], clock_skew=float("nan"))
    (config_dir / "auth.conf").write_text(json.dumps(data))

    status = twg.run("auth", "status")
    me = twg.run("api", "/me")

    assert status.code == 0, status.err
    assert me.code == 0, me.err


@pytest.mark.parametrize(
    "content",
    [b'{"skew": NaN}', b'{"skew": Infinity}', b'{"skew": -Infinity}', b'{"skew": "x"}', NOT_UTF8],
    ids=["nan", "inf", "-inf", "string", "not-utf8"],
)
def test_a_server_time_file_with_a_non_finite_skew_is_ignored(twg, config_dir, content):
    (config_dir / "server-time.json").write_bytes(content)

    status = twg.run("auth", "status", "--json")
    me = twg.run("api", "/me")

    assert status.code == 0, status.err
    assert status.json()["access_token_state"].startswith("fresh")
    assert me.code == 0, me.err


def test_logout_in_a_read_only_config_dir_says_the_server_part_worked(twg, config_dir, mock_idp):
    before = {name: (config_dir / name).read_bytes() for name in ("auth.conf", "credentials")}
    make_read_only(config_dir)
    try:
        result = twg.run("logout")
        after = {name: (config_dir / name).read_bytes() for name in before}
    finally:
        make_writable(config_dir)

    assert result.code == 74
    assert "the server revoked your tokens, but the local copies could not be removed" in (
        result.err
    )
    assert str(config_dir) in result.err
    assert "internal error" not in result.err
    assert after == before  # nothing lost
    assert [e["details"]["reason"] for e in mock_idp.audit("family.revoked")] == ["logout"]
    # Once writable again, logout finishes the local part.
    again = twg.run("logout")
    assert again.code == 0, again.err
    assert not (config_dir / "credentials").exists()


class HtmlMe(httpx.BaseTransport):
    """The real mock, except that GET /me answers a web page (a proxy, a wrong URL)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/me":
            return httpx.Response(200, headers={"Content-Type": "text/html"}, text="<html/>")
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_doctor_names_an_html_answer_instead_of_an_internal_error(twg, mock_idp):
    result = twg.run("doctor", transport=HtmlMe())

    assert result.code == 1
    assert "internal error" not in result.err
    assert (
        f"[FAIL] site: {mock_idp.url}/me answered HTTP 200 with text/html, not JSON" in result.out
    )


@pytest.fixture
def loose_modes(config_dir) -> Iterator[None]:
    os.chmod(config_dir / "credentials", 0o644)
    os.chmod(config_dir, 0o755)  # noqa: S103 - the loose mode doctor must report
    yield
    os.chmod(config_dir, 0o700)


def test_doctor_reports_the_real_modes_and_how_to_fix_them(twg, config_dir, loose_modes):
    result = twg.run("doctor")

    creds = config_dir / "credentials"
    assert f"file {creds} (mode 0644)" in result.out
    assert f"fix with `chmod 600 {creds}`" in result.out
    assert f"fix with `chmod 700 {config_dir}`" in result.out
    assert "[warn] permissions" in result.out
    assert result.code == 0
    assert stat.S_IMODE(creds.stat().st_mode) == 0o644  # reported, not silently changed


def test_doctor_with_private_modes_says_so(twg, config_dir):
    result = twg.run("doctor")

    assert "[OK]   permissions: twg 0700, auth.conf 0600, credentials 0600" in result.out
    assert result.code == 0


@pytest.mark.parametrize("name", ["TWG_HTTP_TIMEOUT", "TWG_KEYRING_TIMEOUT"])
def test_a_malformed_timeout_setting_is_named(twg, name):
    result = twg.run("auth", "status", env={name: "soon"})

    assert result.code == 78
    assert f"{name} must be a number of seconds from 0 to 86400, not 'soon'." in result.err


class BadMetadata(httpx.BaseTransport):
    """The real mock, with its RFC 8414 metadata changed by ``changes``."""

    def __init__(self, **changes: object) -> None:
        self.inner = httpx.HTTPTransport()
        self.changes = changes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path.startswith("/.well-known/"):
            response.read()
            return httpx.Response(200, json={**response.json(), **self.changes})
        return response

    def close(self) -> None:
        self.inner.close()


def test_metadata_with_wrongly_typed_fields_is_no_crash(twg, config_dir):
    transport = BadMetadata(
        revocation_endpoint=5, code_challenge_methods_supported=5, scopes_supported=7
    )
    result = twg.run("logout", transport=transport)

    assert result.code == 0, result.err
    assert "internal error" not in result.err
    assert "the server could not be told (The identity provider publishes no revocation" in (
        result.err
    )


def test_metadata_without_a_token_endpoint_is_named_and_the_session_kept(twg, config_dir, mock_idp):
    before = (config_dir / "credentials").read_bytes()
    mock_idp.clock.advance(9 * 3600)

    result = twg.run("api", "/me", transport=BadMetadata(token_endpoint=None))

    # Metadata without a token endpoint means TWG_IDP_URL is wrong: a config error (78).
    assert result.code == 78
    assert result.err == (
        f"error: {twg.env['TWG_IDP_URL']}/.well-known/oauth-authorization-server is not usable "
        "OAuth metadata: The server's metadata has no 'token_endpoint'. Check TWG_IDP_URL: "
        "it must be the issuer URL of an OAuth 2.1 server.\n"
    )
    assert (config_dir / "credentials").read_bytes() == before
