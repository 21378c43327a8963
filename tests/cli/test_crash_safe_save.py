"""A crash right after the server rotated never costs the session: the whole token set
is saved in one atomic write, a killed save's temp files are removed by the next
command, and the keyring holds each issuer's set as one entry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from mock_idp.secrets_util import fingerprint
from tests.cli import stored
from tests.mock_idp.oauth_flow import refresh

PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"


def rotated_fp(mock, name: str = "refresh_fp") -> str:
    """The fingerprint of the token the mock's latest rotation issued."""
    return str(mock.audit("token.rotated")[-1]["details"][name])


def temp_files(config_dir: Path) -> list[str]:
    return sorted(p.name for p in config_dir.iterdir() if p.name.endswith(".tmp"))


def test_sigkill_right_after_the_rotation_loses_nothing(logged_in, twg, mock_idp, config_dir):
    # The mock rotates, then holds its answer back: the CLI is killed while waiting.
    mock_idp.faults.add("/oauth/token", status=503, after=True, delay=5)
    proc = twg.popen(
        "auth", "refresh", "--force", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while not mock_idp.audit("token.rotated") and time.monotonic() < deadline:
            time.sleep(0.01)  # waiting for the mock's event, not timing anything
        assert mock_idp.audit("token.rotated"), "the mock never rotated"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    mock_idp.faults.clear()

    again = twg.run("auth", "refresh", "--force")

    assert again.code == 0, again.err
    assert mock_idp.audit("family.revoked") == []
    saved = stored.tokens(config_dir)["refresh_token"]
    assert fingerprint(saved) == rotated_fp(mock_idp)
    assert twg.run("api", "/me").code == 0
    assert temp_files(config_dir) == []


def test_temp_files_a_killed_save_left_are_removed_by_the_next_command(logged_in, twg, config_dir):
    tokens = stored.tokens(config_dir)
    for name in (".credentials.0badc0de.tmp", ".auth.conf.deadbeef.tmp"):
        (config_dir / name).write_text(json.dumps(tokens), encoding="utf-8")
        os.chmod(config_dir / name, 0o600)

    result = twg.run("api", "/me")  # a fresh token: no refresh needed

    assert result.code == 0, result.err
    assert temp_files(config_dir) == []
    assert stored.tokens(config_dir) == tokens


def test_a_refresh_saves_the_token_set_in_one_atomic_write(
    logged_in, twg, mock_idp, config_dir, monkeypatch
):
    import twg.auth.credentials as credentials

    writes: list[tuple[str, bytes]] = []
    real_write = credentials.atomic_write

    def recording_write(path: Path, data: bytes, mode: int = 0o600) -> None:
        writes.append((path.name, data))
        real_write(path, data, mode)

    monkeypatch.setattr(credentials, "atomic_write", recording_write)
    result = twg.run("auth", "refresh", "--force")

    assert result.code == 0, result.err
    assert [name for name, _ in writes] == ["credentials"]
    (saved,) = json.loads(writes[0][1])["sessions"].values()
    assert fingerprint(saved["refresh_token"]) == rotated_fp(mock_idp)
    assert fingerprint(saved["access_token"]) == rotated_fp(mock_idp, "access_fp")


def test_the_keyring_holds_one_entry_per_issuer_and_a_half_finished_save_recovers(
    twg, mock_idp, config_dir
):
    import keyring

    env = {"PYTHON_KEYRING_BACKEND": PLAINTEXT, "TWG_CREDENTIAL_STORE": None}
    assert twg.run("login", env=env).code == 0
    backend = keyring.core.load_keyring(PLAINTEXT)
    entry = f"tokens:{mock_idp.url}"
    saved = json.loads(backend.get_password("twg", entry))
    assert sorted(saved) == ["access_token", "refresh_token"]
    assert backend.get_password("twg", "refresh_token") is None
    assert not (config_dir / "credentials").exists()

    # A process refreshed, saved the new set, and died before auth.conf was written.
    answer = refresh(mock_idp.http, saved["refresh_token"]).json()
    newer = {"access_token": answer["access_token"], "refresh_token": answer["refresh_token"]}
    backend.set_password("twg", entry, json.dumps(newer))

    result = twg.run("api", "/me", env=env)

    assert result.code == 0, result.err
    assert mock_idp.audit("family.revoked") == []
    recovered = json.loads(backend.get_password("twg", entry))
    assert stored.conf(config_dir)["refresh_fp"] == fingerprint(recovered["refresh_token"])[:12]
    assert twg.run("logout", env=env).code == 0
    assert backend.get_password("twg", entry) is None
