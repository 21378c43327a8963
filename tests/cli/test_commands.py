"""logout, auth status, doctor, api and the Bitbucket token, in-process against the real
mock IdP."""

from __future__ import annotations

import json

from mock_idp.seed import ACME_ORG_ID, ACME_SITE_ID, ALICE_BITBUCKET_TOKEN
from tests.cli import stored
from tests.cli.conftest import HOUR, count
from tests.mock_idp.oauth_flow import refresh

ISSUES = f"/ex/jira/{ACME_SITE_ID}/rest/api/3/issue"

# logout ----------------------------------------------------------------------------------


def test_logout_revokes_at_the_mock_and_removes_local_files(logged_in, twg, mock_idp, config_dir):
    creds = stored.tokens(config_dir)
    result = twg.run("logout")

    assert result.code == 0
    assert "server revoked your tokens" in result.err
    assert count(mock_idp, "token.revoked") == 2  # the refresh token, then the access token
    assert not (config_dir / "auth.conf").exists()
    assert not (config_dir / "credentials").exists()
    assert refresh(mock_idp.http, creds["refresh_token"]).json()["error"] == "invalid_grant"
    me = mock_idp.http.get("/me", headers={"Authorization": f"Bearer {creds['access_token']}"})
    assert me.status_code == 401
    status = twg.run("auth", "status", "--json")
    assert status.code == 77
    assert status.json()["error"]["code"] == "AUTH_REQUIRED"


def test_logout_with_the_idp_gone_removes_locally_and_says_the_server_was_not_told(
    logged_in, twg, mock_idp, config_dir
):
    mock_idp.stop()
    result = twg.run("logout", "--json")

    assert result.code == 0
    assert result.json()["revoked_at_server"] is False
    assert "server could not be told" in result.err
    assert not (config_dir / "auth.conf").exists()
    assert not (config_dir / "credentials").exists()


def test_logout_when_the_revocation_endpoint_fails_still_logs_out_locally(
    logged_in, twg, mock_idp, config_dir
):
    mock_idp.faults.add("/oauth/revoke", status=503, count=2)
    result = twg.run("logout", "--json")

    assert result.code == 0
    assert result.json()["revoked_at_server"] is False
    assert "server could not be told" in result.err
    assert not (config_dir / "credentials").exists()


def test_logout_when_not_logged_in_says_so(twg):
    result = twg.run("logout")
    assert result.code == 0
    assert "not logged in" in result.err


# status ----------------------------------------------------------------------------------


def test_status_shows_account_site_scopes_store_and_source_without_network(
    logged_in, twg, mock_idp, config_dir
):
    before = len(mock_idp.audit())
    result = twg.run("auth", "status", "--json")

    assert result.code == 0
    data = result.json()
    assert data["account"]["email"] == "alice@example.com"
    assert data["site"]["name"] == "acme"
    assert "offline_access" in data["scopes"]
    assert data["storage"]["backend"] == "file"
    assert data["token_source"] == "file"
    assert data["bitbucket_token"] == "no"
    assert len(mock_idp.audit()) == before  # no network
    secrets = stored.tokens(config_dir)
    assert secrets["access_token"] not in result.out
    assert secrets["refresh_token"] not in result.out


def test_status_text_names_the_file_store_plainly(logged_in, twg):
    result = twg.run("auth", "status")
    assert result.code == 0
    assert "Storage: file" in result.out
    assert "mode 0600" in result.out


def test_status_shows_env_source_for_the_override(twg):
    result = twg.run("auth", "status", "--json", env={"TWG_OAUTH_ACCESS_TOKEN": "delegated-xyz"})
    assert result.code == 0
    assert result.json()["token_source"] == "env"
    assert "delegated-xyz" not in result.out


# api -------------------------------------------------------------------------------------


def test_api_403_explains_permissions_and_the_server_reason(twg, mock_idp):
    twg.user = "bob@example.com"  # a read-only member of acme
    assert twg.run("login").code == 0
    body = json.dumps({"fields": {"summary": "x"}})
    result = twg.run("api", "-X", "POST", ISSUES, "--data", body)

    assert result.code == 1
    assert "your organization's CLI permissions do not allow this" in result.err
    assert "Traceback" not in result.err
    assert api_call(mock_idp, "POST", ISSUES) == 403

    js = twg.run("api", "-X", "POST", ISSUES, "--data", body, "--json")
    assert js.code == 1
    assert js.json()["error"]["code"] == "FORBIDDEN"


def api_call(mock_idp, method: str, path: str) -> int:
    [status] = [
        e["details"]["status"]
        for e in mock_idp.audit("api.call")
        if e["details"]["method"] == method and e["details"]["path"] == path
    ][-1:]
    return int(status)


def test_api_sends_method_and_json_body(logged_in, twg, mock_idp):
    body = {"fields": {"summary": "Sent by twg api"}}
    result = twg.run("api", "-X", "POST", ISSUES, "--data", json.dumps(body))

    assert result.code == 0, result.err
    created = json.loads(result.out)
    fetched = twg.run("api", f"{ISSUES}/{created['key']}")
    assert fetched.code == 0, fetched.err
    assert json.loads(fetched.out)["fields"]["summary"] == "Sent by twg api"
    assert api_call(mock_idp, "POST", ISSUES) == 201


def test_api_bad_json_data_is_a_usage_error_and_sends_nothing(logged_in, twg, mock_idp):
    before = len(mock_idp.audit("api.call"))
    result = twg.run("api", "-X", "POST", ISSUES, "--data", "{nope")

    assert result.code == 2
    assert len(mock_idp.audit("api.call")) == before


def test_unknown_flag_is_usage_error_exit_2(twg):
    result = twg.run("api", "/me", "--bogus")
    assert result.code == 2
    assert "--bogus" in result.err


# the Bitbucket token ---------------------------------------------------------------------


def test_bitbucket_token_is_asked_hidden_validated_and_saved(twg, mock_idp, config_dir):
    result = twg.run("login", tty=True, hidden=["wrong-token", ALICE_BITBUCKET_TOKEN])

    assert result.code == 0, result.err
    assert len(result.prompts) == 2
    assert all("hidden" in p for p in result.prompts)
    assert "refused the token" in result.err
    assert "Bitbucket token: saved" in result.err
    assert ALICE_BITBUCKET_TOKEN not in result.err + result.out
    assert stored.bitbucket_token(config_dir) == ALICE_BITBUCKET_TOKEN
    assert count(mock_idp, "bitbucket.auth_failed") == 1
    api = twg.run("api", "--bitbucket", "/2.0/user")
    assert api.code == 0, api.err
    assert json.loads(api.out)["username"] == "alice"


def test_a_forced_login_offers_the_bitbucket_prompt_again_and_an_empty_answer_keeps_it(
    twg, config_dir
):
    assert twg.run("login", tty=True, hidden=[ALICE_BITBUCKET_TOKEN]).code == 0
    again = twg.run("login", "--force", tty=True, hidden=[""])

    assert again.code == 0, again.err
    assert len(again.prompts) == 1
    assert stored.bitbucket_token(config_dir) == ALICE_BITBUCKET_TOKEN


def test_bitbucket_prompt_is_skipped_without_a_terminal(twg):
    result = twg.run("login")
    assert "skipped (no terminal" in result.err
    assert result.prompts == []


def test_setup_bitbucket_keeps_existing_token_unless_force(twg, config_dir):
    assert twg.run("login", tty=True, hidden=[ALICE_BITBUCKET_TOKEN]).code == 0
    kept = twg.run("setup", "bitbucket", tty=True, hidden=["other"])
    assert kept.code == 0
    assert "kept" in kept.err
    assert kept.prompts == []
    forced = twg.run("setup", "bitbucket", "--force", tty=True, hidden=[ALICE_BITBUCKET_TOKEN])
    assert forced.code == 0
    assert "saved" in forced.err
    assert len(forced.prompts) == 1


def test_twg_bbc_token_env_is_used_without_prompting(logged_in, twg):
    env = {"TWG_BBC_TOKEN": ALICE_BITBUCKET_TOKEN}
    result = twg.run("api", "--bitbucket", "/2.0/user", env=env)
    assert result.code == 0, result.err
    assert result.prompts == []
    status = twg.run("auth", "status", "--json", env=env)
    assert status.json()["bitbucket_token"] == "env"


# doctor ----------------------------------------------------------------------------------


def test_doctor_passes_when_everything_works(twg):
    assert twg.run("login", tty=True, hidden=[ALICE_BITBUCKET_TOKEN]).code == 0
    result = twg.run("doctor", "--json")

    assert result.code == 0, result.out
    checks = {c["name"]: c["status"] for c in result.json()["checks"]}
    assert checks == {
        "identity provider": "ok",
        "oauth client": "ok",
        "credentials": "ok",
        "auth method": "ok",
        "storage": "ok",
        "token": "ok",
        "site": "ok",
        "bitbucket": "ok",
        "permissions": "ok",
    }


def test_doctor_fails_with_77_when_the_session_is_dead(logged_in, twg, mock_idp):
    mock_idp.idp.sessions.revoke_sessions(org_id=ACME_ORG_ID, reason="org_admin")
    mock_idp.clock.advance(9 * HOUR)
    result = twg.run("doctor")

    assert result.code == 77
    assert "[FAIL]" in result.out
    assert "revoked by an organization admin" in result.out


def test_doctor_reports_a_bitbucket_token_the_server_refuses(twg, mock_idp):
    assert twg.run("login", tty=True, hidden=[ALICE_BITBUCKET_TOKEN]).code == 0
    mock_idp.faults.add("/2.0/user", status=401)
    result = twg.run("doctor")

    assert result.code == 1
    assert "[FAIL] bitbucket" in result.out
