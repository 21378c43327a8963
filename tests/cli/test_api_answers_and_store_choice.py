"""What twg api prints for answers that are not JSON or empty, the device poller's answer
to an error it does not know, and how TWG_CREDENTIAL_STORE is checked. Through the CLI
against the real mock."""

from __future__ import annotations

from mock_idp.seed import ACME_SITE_ID
from tests.cli import stored

ISSUE = f"/ex/jira/{ACME_SITE_ID}/rest/api/3/issue"


def test_an_empty_answer_prints_nothing_or_its_status_in_json(logged_in, twg):
    # Jira answers an edit with 204 and no body.
    edit = ["-X", "PUT", f"{ISSUE}/ACME-1", "--data", '{"fields": {"summary": "Edited"}}']
    text = twg.run("api", *edit)
    assert text.code == 0, text.err
    assert text.out == ""

    js = twg.run("api", *edit, "--json")
    assert js.code == 0, js.err
    assert js.json() == {"status": 204}


def test_a_page_instead_of_json_is_printed_as_text_or_wrapped_in_json(logged_in, twg):
    text = twg.run("api", "/device")
    assert text.code == 0, text.err
    assert text.out.lstrip().lower().startswith("<!doctype html>")

    js = twg.run("api", "/device", "--json")
    assert js.code == 0, js.err
    body = js.json()
    assert body["status"] == 200
    assert body["body"].lstrip().lower().startswith("<!doctype html>")


def test_an_error_page_gives_its_text_as_the_reason(logged_in, twg):
    result = twg.run("api", "/authorize")

    assert result.code == 1
    assert result.err.startswith("error: The API answered HTTP 400 Bad Request: <!doctype html>")
    assert "<" in result.err  # the page's own text, cut short, is the reason


def test_an_unknown_device_error_is_reported_with_its_description(twg, mock_idp, device):
    body = {"error": "invalid_client", "error_description": "Client was disabled."}
    mock_idp.faults.add("/oauth/token", status=400, body=body)
    result = twg.run("login", "--device", "--no-browser")

    assert result.code == 1
    assert "Device login failed: invalid_client (Client was disabled.)." in result.err
    assert device.slept == [5]


def test_an_unknown_credential_store_is_refused(twg):
    result = twg.run("login", env={"TWG_CREDENTIAL_STORE": "vault"})

    assert result.code == 74
    assert "TWG_CREDENTIAL_STORE must be 'keyring' or 'file', not 'vault'." in result.err


def test_asking_for_the_keyring_where_there_is_none_is_a_clear_error(twg, config_dir):
    env = {
        "TWG_CREDENTIAL_STORE": "keyring",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    result = twg.run("login", "--json", env=env)

    assert result.code == 74
    message = result.json()["error"]["message"]
    assert message.startswith("TWG_CREDENTIAL_STORE=keyring, but no system keyring is available.")
    assert "TWG_CREDENTIAL_STORE=file" in message
    assert not (config_dir / "credentials").exists()


def test_keyrings_alt_chosen_by_name_is_used(twg, config_dir):
    env = {
        "TWG_CREDENTIAL_STORE": None,
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
    }
    result = twg.run("login", "--json", env=env)

    assert result.code == 0, result.err
    assert result.json()["secret_store"] == "keyring"
    assert stored.conf(config_dir)["store"] == "keyring"
