"""Signing in as a developer's own confidential OAuth app (how real Atlassian works: a
developer-console integration with a client id and a client secret), end to end against
the real mock IdP seeded with such a client.

The secret comes from `twg setup client` (hidden prompt / stdin, saved in the credential
store) or TWG_CLIENT_SECRET; it travels in a JSON token request body as Atlassian
documents, and is never printed nor written next to the non-secret settings.
"""

from __future__ import annotations

import json
import stat

import httpx
import pytest

CLIENT_ID = "acme-3lo-app"
SECRET = "s3cret-of-the-acme-app"


class RecordingTransport(httpx.HTTPTransport):
    """The real HTTP transport, keeping what was sent to the token endpoint."""

    def __init__(self) -> None:
        super().__init__()
        self.token_requests: list[tuple[str, bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            self.token_requests.append((request.headers.get("content-type", ""), request.read()))
        return super().handle_request(request)


@pytest.fixture(autouse=True)
def confidential_client(mock_idp) -> str:
    mock_idp.seed(
        {
            "clients": [
                {
                    "client_id": CLIENT_ID,
                    "name": "Acme's own twg app",
                    # One callback URL (loopback: any port matches, RFC 8252).
                    "redirect_uris": ["http://127.0.0.1/callback"],
                    "client_secret": SECRET,
                    "grant_types": ["authorization_code", "refresh_token"],
                }
            ]
        }
    )
    return CLIENT_ID


def test_setup_client_then_login_refresh_and_logout_with_the_secret_in_json(
    twg, config_dir, mock_idp
):
    setup = twg.run("setup", "client", "--client-id", CLIENT_ID, stdin=SECRET + "\n")
    assert setup.code == 0, setup.err
    assert f"OAuth client saved: client id {CLIENT_ID} in {config_dir}/client.json." in setup.err
    assert f"Its secret is stored in: file {config_dir}/credentials (mode 0600)" in setup.err

    recorder = RecordingTransport()
    login = twg.run("login", transport=recorder)
    refresh = twg.run("auth", "refresh", "--force", transport=recorder)
    api = twg.run("api", "/me")

    assert login.code == 0, login.err
    assert refresh.code == 0, refresh.err
    assert json.loads(api.out)["email"] == "alice@example.com"
    checks = {c["name"]: c for c in twg.run("doctor", "--json").json()["checks"]}
    assert checks["oauth client"] == {
        "name": "oauth client",
        "status": "ok",
        "detail": f"{CLIENT_ID} (confidential; secret in file {config_dir}/credentials "
        "(mode 0600))",
    }
    grants = []
    for content_type, body in recorder.token_requests:
        assert content_type == "application/json"
        sent = json.loads(body)
        assert (sent["client_id"], sent["client_secret"]) == (CLIENT_ID, SECRET)
        grants.append(sent["grant_type"])
    assert grants == ["authorization_code", "refresh_token"]
    issued = mock_idp.audit("token.issued")
    assert [e["details"]["client_id"] for e in issued] == [CLIENT_ID]

    # Never printed, never beside the non-secret settings; only in the 0600 store.
    for result in (setup, login, refresh, api):
        assert SECRET not in result.out + result.err
    assert SECRET not in (config_dir / "client.json").read_text()
    assert SECRET not in (config_dir / "auth.conf").read_text()
    assert json.loads((config_dir / "credentials").read_text())["client_secret"] == SECRET
    assert stat.S_IMODE((config_dir / "credentials").stat().st_mode) == 0o600

    # logout ends the session but keeps the app's secret for the next login.
    assert twg.run("logout").code == 0
    assert json.loads((config_dir / "credentials").read_text()) == {"client_secret": SECRET}


def test_client_secret_from_the_environment_is_used_without_setup(twg, mock_idp):
    result = twg.run("login", env={"TWG_CLIENT_ID": CLIENT_ID, "TWG_CLIENT_SECRET": SECRET})

    assert result.code == 0, result.err
    assert SECRET not in result.err
    issued = mock_idp.audit("token.issued")
    assert [e["details"]["client_id"] for e in issued] == [CLIENT_ID]


def test_a_wrong_secret_is_a_config_error_naming_the_client_not_the_secret(twg, config_dir):
    result = twg.run(
        "login", env={"TWG_CLIENT_ID": CLIENT_ID, "TWG_CLIENT_SECRET": "not-the-secret"}
    )

    assert result.code == 78
    assert result.err.splitlines()[-1].startswith(
        "error: The identity provider refused twg's client credentials for client id "
        f"{CLIENT_ID}: invalid_client"
    )
    assert "not-the-secret" not in result.err
    assert not (config_dir / "auth.conf").exists()


def test_setup_client_without_a_client_id_off_a_terminal_is_a_usage_error(twg):
    result = twg.run("setup", "client", stdin=SECRET + "\n")

    assert result.code == 2
    assert result.err == (
        "error: No client id given. Run `twg setup client --client-id YOUR_CLIENT_ID`.\n"
    )


def test_setup_client_on_a_terminal_asks_for_the_secret_hidden(twg, config_dir):
    result = twg.run("setup", "client", "--client-id", CLIENT_ID, tty=True, hidden=[SECRET])

    assert result.code == 0, result.err
    assert result.prompts == [
        "Client secret (input hidden; empty for a public client without one): "
    ]
    assert SECRET not in result.out + result.err
    assert json.loads((config_dir / "client.json").read_text()) == {
        "client_id": CLIENT_ID,
        "secret_store": "file",
    }
    assert twg.run("login").code == 0
