"""A crash right after the server rotated never costs the session: the whole token set
is saved in one atomic write, a killed save's temp files are removed by the next
command, and the keyring holds each issuer's set as one entry."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mock_idp.secrets_util import fingerprint
from tests.cli import stored
from tests.cli.real_mock import events, fault, logged_in_env, mock_env, twg

TWG = str(Path(sys.executable).with_name("twg"))
PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"


@pytest.fixture
def env(mock_server, config_dir) -> dict[str, str]:
    return logged_in_env(config_dir, mock_server.url)


def temp_files(config_dir: Path) -> list[str]:
    return sorted(p.name for p in config_dir.iterdir() if p.name.endswith(".tmp"))


def test_sigkill_right_after_the_rotation_loses_nothing(env, mock_server, idp, config_dir):
    # The mock rotates, then holds its answer back: the CLI is killed while waiting.
    fault(mock_server.url, path="/oauth/token", status=503, after=True, delay=5)
    proc = subprocess.Popen(
        [TWG, "auth", "refresh", "--force"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not events(idp, "token.rotated") and time.monotonic() < deadline:
            time.sleep(0.01)  # waiting for the mock's event, not timing anything
        assert events(idp, "token.rotated"), "the mock never rotated"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    httpx.delete(f"{mock_server.url}/_mock/faults")

    again = twg(env, "auth", "refresh", "--force")

    assert again.code == 0, again.err
    assert events(idp, "family.revoked") == []
    saved = stored.tokens(config_dir)["refresh_token"]
    assert fingerprint(saved) == events(idp, "token.rotated")[-1]["refresh_fp"]
    assert twg(env, "api", "/me").code == 0
    assert temp_files(config_dir) == []


def test_temp_files_a_killed_save_left_are_removed_by_the_next_command(env, config_dir):
    tokens = stored.tokens(config_dir)
    for name in (".credentials.0badc0de.tmp", ".auth.conf.deadbeef.tmp"):
        (config_dir / name).write_text(json.dumps(tokens), encoding="utf-8")
        os.chmod(config_dir / name, 0o600)

    result = twg(env, "api", "/me")  # a fresh token: no refresh needed

    assert result.code == 0, result.err
    assert temp_files(config_dir) == []
    assert stored.tokens(config_dir) == tokens


def test_a_refresh_saves_the_token_set_in_one_atomic_write(env, idp, config_dir, monkeypatch):
    import twg.auth.credentials as credentials

    writes: list[tuple[str, bytes]] = []
    real_write = credentials.atomic_write

    def recording_write(path: Path, data: bytes, mode: int = 0o600) -> None:
        writes.append((path.name, data))
        real_write(path, data, mode)

    monkeypatch.setattr(credentials, "atomic_write", recording_write)
    result = twg(env, "auth", "refresh", "--force")

    assert result.code == 0, result.err
    assert [name for name, _ in writes] == ["credentials"]
    (saved,) = json.loads(writes[0][1])["sessions"].values()
    rotated = events(idp, "token.rotated")[-1]
    assert fingerprint(saved["refresh_token"]) == rotated["refresh_fp"]
    assert fingerprint(saved["access_token"]) == rotated["access_fp"]


def test_the_keyring_holds_one_entry_per_issuer_and_a_half_finished_save_recovers(
    mock_server, idp, config_dir
):
    import keyring

    env = {**mock_env(config_dir, mock_server.url), "PYTHON_KEYRING_BACKEND": PLAINTEXT}
    env.pop("TWG_CREDENTIAL_STORE")
    assert twg(env, "login").code == 0
    backend = keyring.core.load_keyring(PLAINTEXT)
    entry = f"tokens:{mock_server.url}"
    saved = json.loads(backend.get_password("twg", entry))
    assert sorted(saved) == ["access_token", "refresh_token"]
    assert backend.get_password("twg", "refresh_token") is None
    assert not (config_dir / "credentials").exists()

    # A process refreshed, saved the new set, and died before auth.conf was written.
    with httpx.Client(base_url=mock_server.url) as http:
        answer = http.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": saved["refresh_token"],
                "client_id": "twg-cli",
            },
        ).json()
    newer = {"access_token": answer["access_token"], "refresh_token": answer["refresh_token"]}
    backend.set_password("twg", entry, json.dumps(newer))

    result = twg(env, "api", "/me")

    assert result.code == 0, result.err
    assert events(idp, "family.revoked") == []
    recovered = json.loads(backend.get_password("twg", entry))
    assert stored.conf(config_dir)["refresh_fp"] == fingerprint(recovered["refresh_token"])[:12]
    assert twg(env, "logout").code == 0
    assert backend.get_password("twg", entry) is None
