"""What a report shows of a secret: its fingerprint, never the secret; error codes and
fingerprints stay readable."""

from __future__ import annotations

import secrets

from mock_idp.scenarios.redaction import Redactor
from mock_idp.secrets_util import fingerprint


def test_a_known_token_becomes_its_audit_fingerprint_everywhere() -> None:
    token = secrets.token_urlsafe(32)
    redactor = Redactor()
    redactor.add_from({"access_token": "x", "nested": [{"refresh_token": token}]})

    shown = redactor.text(f"curl -d refresh_token={token} ... then {token} again")

    assert token not in shown
    assert shown.endswith(f"then [redacted fp:{fingerprint(token)}] again")


def test_unknown_token_shaped_text_goes_but_error_codes_and_fingerprints_stay() -> None:
    stray = secrets.token_urlsafe(32)
    redactor = Redactor()
    redactor.add_from({"refresh_token_fp": "0123456789ab"})

    shown = redactor.text(
        '{"error": {"code": "AUTH_INVALID"}, "refresh_token_fp": "0123456789ab", '
        f'"x": "{stray}"}}'
    )

    assert shown == (
        '{"error": {"code": "AUTH_INVALID"}, "refresh_token_fp": "0123456789ab", "x": "[redacted]"}'
    )


def test_a_temporary_directory_is_shown_by_its_label() -> None:
    redactor = Redactor()
    redactor.alias("/tmp/twg-scenario-k3j2h1", "$SCENARIO_DIR")

    assert redactor.text("saved to /tmp/twg-scenario-k3j2h1/twg-config") == (
        "saved to $SCENARIO_DIR/twg-config"
    )
