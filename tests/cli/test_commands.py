"""logout, auth status, doctor, api and the Bitbucket token, in-process against the fake."""

from __future__ import annotations

import json

from tests.cli import stored


def test_logout_revokes_both_tokens_and_removes_local_files(logged_in, twg, fake, config_dir):
    creds = stored.tokens(config_dir)
    result = twg("logout")

    assert result.code == 0
    assert "server revoked your tokens" in result.err
    assert fake.revoked_tokens == [creds["refresh_token"], creds["access_token"]]
    assert not (config_dir / "auth.conf").exists()
    assert not (config_dir / "credentials").exists()
    status = twg("auth", "status", "--json")
    assert status.code == 77
    assert status.json()["error"]["code"] == "AUTH_REQUIRED"


def test_offline_logout_removes_locally_and_says_the_server_was_not_told(
    logged_in, twg, fake, config_dir
):
    fake.offline = True
    result = twg("logout", "--json")

    assert result.code == 0
    assert result.json()["revoked_at_server"] is False
    assert "server could not be told" in result.err
    assert not (config_dir / "auth.conf").exists()
    assert not (config_dir / "credentials").exists()


def test_logout_when_not_logged_in_says_so(twg):
    result = twg("logout")
    assert result.code == 0
    assert "not logged in" in result.err


def test_status_shows_account_site_scopes_store_and_source_without_network(logged_in, twg, fake):
    before = len(fake.requests)
    result = twg("auth", "status", "--json")

    assert result.code == 0
    data = result.json()
    assert data["account"]["email"] == "alice@example.com"
    assert data["site"]["name"] == "acme"
    assert "offline_access" in data["scopes"]
    assert data["storage"]["backend"] == "file"
    assert data["token_source"] == "file"
    assert data["bitbucket_token"] == "no"
    assert len(fake.requests) == before  # no network
    for token in [*fake.access, *fake.refresh]:
        assert token not in result.out


def test_status_text_names_the_file_store_plainly(logged_in, twg):
    result = twg("auth", "status")
    assert result.code == 0
    assert "Storage: file" in result.out
    assert "mode 0600" in result.out


def test_status_shows_env_source_for_the_override(twg):
    result = twg("auth", "status", "--json", env={"TWG_OAUTH_ACCESS_TOKEN": "delegated-xyz"})
    assert result.code == 0
    assert result.json()["token_source"] == "env"
    assert "delegated-xyz" not in result.out


def test_api_403_explains_permissions_and_the_server_reason(logged_in, twg):
    result = twg("api", "/forbidden")

    assert result.code == 1
    assert "your organization's CLI permissions do not allow this" in result.err
    assert "Delete is not allowed by your org" in result.err
    assert "Traceback" not in result.err


def test_api_403_in_json_mode_is_one_error_document(logged_in, twg):
    result = twg("api", "/forbidden", "--json")
    assert result.json()["error"]["code"] == "FORBIDDEN"


def test_api_sends_method_and_json_body(logged_in, twg):
    result = twg("api", "-X", "POST", "/ex/thing", "--data", '{"a": 1}')
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"path": "/ex/thing", "method": "POST", "body": {"a": 1}}


def test_api_bad_json_data_is_a_usage_error(logged_in, twg):
    result = twg("api", "-X", "POST", "/x", "--data", "{nope")
    assert result.code == 2


def test_unknown_flag_is_usage_error_exit_2(twg):
    result = twg("api", "/me", "--bogus")
    assert result.code == 2


def test_bitbucket_token_is_asked_hidden_validated_and_saved(twg, fake, config_dir):
    result = twg("login", tty=True, hidden=["wrong-token", "bb-secret-alice"])

    assert result.code == 0, result.err
    assert len(result.prompts) == 2
    assert all("hidden" in p for p in result.prompts)
    assert "refused the token" in result.err
    assert "Bitbucket token: saved" in result.err
    assert "bb-secret-alice" not in result.err + result.out
    assert json.loads((config_dir / "credentials").read_text())["bitbucket_token"] == (
        "bb-secret-alice"
    )
    api = twg("api", "--bitbucket", "/2.0/user")
    assert api.code == 0, api.err
    assert json.loads(api.out)["username"] == "alice"


def test_bitbucket_token_is_kept_across_force_login_unless_forced(twg, fake, config_dir):
    twg("login", tty=True, hidden=["bb-secret-alice"])
    again = twg("login", "--force", tty=True, hidden=[])
    # --force on login asks again; an empty answer skips and the old token is cleared? No:
    # the prompt was offered (force) and skipped, so nothing new is saved.
    assert again.code == 0
    assert len(again.prompts) == 1


def test_bitbucket_prompt_is_skipped_without_a_terminal(twg):
    result = twg("login")
    assert "skipped (no terminal" in result.err
    assert result.prompts == []


def test_setup_bitbucket_keeps_existing_token_unless_force(twg, config_dir):
    twg("login", tty=True, hidden=["bb-secret-alice"])
    kept = twg("setup", "bitbucket", tty=True, hidden=["other"])
    assert kept.code == 0
    assert "kept" in kept.err
    assert kept.prompts == []
    forced = twg("setup", "bitbucket", "--force", tty=True, hidden=["bb-secret-alice"])
    assert forced.code == 0
    assert "saved" in forced.err


def test_doctor_passes_when_everything_works(twg):
    twg("login", tty=True, hidden=["bb-secret-alice"])
    result = twg("doctor", "--json")

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


def test_doctor_fails_with_77_when_the_session_is_dead(logged_in, twg, fake):
    fake.revoke_all("org_admin")
    fake.now += 9 * 3600
    result = twg("doctor")

    assert result.code == 77
    assert "[FAIL]" in result.out
    assert "revoked by an organization admin" in result.out


def test_doctor_reports_a_bad_bitbucket_token(twg, fake):
    twg("login", tty=True, hidden=["bb-secret-alice"])
    fake.bitbucket_tokens.clear()
    result = twg("doctor")
    assert result.code == 1
    assert "[FAIL] bitbucket" in result.out


def test_twg_bbc_token_env_is_used_without_prompting(logged_in, twg):
    result = twg("api", "--bitbucket", "/2.0/user", env={"TWG_BBC_TOKEN": "bb-secret-alice"})
    assert result.code == 0, result.err
    status = twg("auth", "status", "--json", env={"TWG_BBC_TOKEN": "bb-secret-alice"})
    assert status.json()["bitbucket_token"] == "env"
