"""The security review's findings on the control API, the issuer and the request log."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys

import pytest

from mock_idp.control_token import ControlTokenError, load_or_create
from mock_idp.settings import Settings
from tests.mock_idp.loopback import ServeProcess
from tests.mock_idp.oauth_flow import Pkce, authorize, authorize_params, redeem

TOKEN = "s3cret-control"


def test_a_text_plain_post_cannot_move_the_clock(web, idp):
    # What a cross-site <form> or no-cors fetch can send without a CORS preflight.
    response = web.post(
        "/_mock/clock/advance",
        content=b'{"seconds": 86400}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    assert idp.clock.offset == 0


def test_a_bodiless_control_post_without_json_type_is_refused(web, idp):
    idp.clock.advance(60)
    assert web.post("/_mock/reset").status_code == 415
    assert idp.clock.offset == 60


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:1"},  # another port is another origin
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_cross_site_control_requests_are_refused(web, idp, headers):
    response = web.post("/_mock/clock/advance", json={"seconds": 60}, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"
    assert idp.clock.offset == 0


def test_a_same_origin_control_request_is_accepted(web, idp):
    response = web.post(
        "/_mock/clock/advance", json={"seconds": 60}, headers={"Origin": "http://127.0.0.1"}
    )
    assert response.status_code == 200
    assert idp.clock.offset == 60


def test_registration_refuses_cross_site_and_non_json_requests(web):
    body = {"redirect_uris": ["https://rp.example/cb"]}
    foreign = web.post("/oauth/register", json=body, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    plain = web.post(
        "/oauth/register",
        content=b'{"redirect_uris": ["https://rp.example/cb"]}',
        headers={"Content-Type": "text/plain"},
    )
    assert plain.status_code == 415


@pytest.mark.parametrize("idp_settings", [Settings(control_token=TOKEN)])
@pytest.mark.parametrize("path", ["/_mock/docs", "/_mock/openapi.json", "/_mock/clock"])
def test_control_docs_and_schema_need_the_token_when_one_is_set(web, path):
    assert web.get(path).status_code == 401
    assert web.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_a_foreign_host_never_gets_an_id_token_with_its_issuer(web):
    pkce = Pkce.new()
    params = authorize_params(pkce, scope="openid read:me offline_access")
    code = authorize(web, params)["code"]
    evil = web.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": params["redirect_uri"],
            "client_id": params["client_id"],
            "code_verifier": pkce.verifier,
        },
        headers={"Host": "login.evil.example"},
    )
    assert evil.status_code == 421
    assert "id_token" not in evil.text
    assert redeem(web, code, pkce, redirect_uri=params["redirect_uri"]).status_code == 200


@pytest.mark.parametrize("idp_settings", [Settings(issuer="https://idp.example.test")])
def test_the_configured_issuers_host_is_served_with_that_issuer(web):
    answer = web.get(
        "/.well-known/oauth-authorization-server", headers={"Host": "idp.example.test"}
    )
    assert answer.json()["issuer"] == "https://idp.example.test"


# control token file ----------------------------------------------------------------------


def test_a_missing_token_file_is_created_0600_with_a_fresh_token(tmp_path):
    path = tmp_path / "run" / "control-token"
    token = load_or_create(path)
    assert len(token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == token + "\n"
    assert load_or_create(path) == token  # the next start reads the same one


def test_an_empty_token_file_is_a_clear_error(tmp_path):
    path = tmp_path / "control-token"
    path.write_text("\n")
    with pytest.raises(ControlTokenError, match="must hold one token"):
        load_or_create(path)


def test_serve_with_a_token_file_guards_the_control_api(tmp_path):
    path = tmp_path / "control-token"
    with ServeProcess("--control-token-file", str(path)) as served:
        import httpx

        token = path.read_text().strip()
        assert httpx.get(served.url + "/_mock/clock").status_code == 401
        authorized = httpx.get(
            served.url + "/_mock/clock", headers={"Authorization": f"Bearer {token}"}
        )
        assert authorized.status_code == 200


def test_serve_refuses_a_token_in_both_env_and_file(tmp_path):
    env = {**os.environ, "TWG_MOCK_CONTROL_TOKEN": "x"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mock_idp.cli",
            "serve",
            "--port",
            "0",
            "--control-token-file",
            str(tmp_path / "t"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("twg-mock-idp: give the control token once")


# request log -----------------------------------------------------------------------------


def test_the_request_log_has_method_path_status_and_never_the_query(web, caplog):
    caplog.set_level(logging.INFO, logger="mock_idp.access")
    web.get("/authorize", params={"state": "secret-state", "code_challenge": "c" * 43})
    lines = [r.getMessage() for r in caplog.records if r.name == "mock_idp.access"]
    assert len(lines) == 1
    method, path, status, duration = lines[0].split(" ")
    assert (method, path, status) == ("GET", "/authorize", "400")
    assert duration.endswith("ms")  # and the path has no query: "secret-state" is not logged


def test_serve_logs_requests_on_stderr_and_quiet_silences_them():
    loud = _serve_stderr()
    assert "twg-mock-idp: GET /.well-known/oauth-authorization-server 200" in loud
    assert "?" not in loud.split("GET", 1)[1]
    assert "GET " not in _serve_stderr("--quiet")


def _serve_stderr(*args: str) -> str:
    served = ServeProcess(*args)
    served.args.remove("--log-level")
    served.args.remove("warning")
    with served:
        import httpx

        httpx.get(served.url + "/.well-known/oauth-authorization-server?state=hidden")
        assert served.proc is not None
        served.proc.terminate()
        _, err = served.proc.communicate(timeout=20)
    return err


def test_serve_refuses_start_up_settings_a_patch_would_refuse(tmp_path):
    config = tmp_path / "mock.toml"
    config.write_text("access_token_ttl = 100000000000\n")
    done = subprocess.run(
        [sys.executable, "-m", "mock_idp.cli", "serve", "--port", "0", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "twg-mock-idp: 'access_token_ttl' must be a whole number of seconds from 1 to 316224000.\n"
    )
