"""When the secret store fails (a keyring that raises, a credentials path that cannot be
read or written, a lock file that cannot be opened), twg says which store and what to do,
exits 74, keeps what it had, and leaves no temp files behind. Through the CLI."""

from __future__ import annotations

import json
from typing import Any

import pytest
from keyring.backend import KeyringBackend

from tests.cli import stored
from tests.cli.conftest import HOUR, count
from twg.auth.atomic import atomic_write

KEYRING = {"TWG_CREDENTIAL_STORE": "keyring"}


class MemoryKeyring(KeyringBackend):
    """A working keyring that keeps its secrets in this process."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}
        self.failing: set[str] = set()

    def _maybe_fail(self, what: str) -> None:
        if what in self.failing:
            raise RuntimeError(f"the keyring daemon said no to {what}")

    def get_password(self, service: str, username: str) -> str | None:
        self._maybe_fail("get")
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._maybe_fail("set")
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._maybe_fail("delete")
        self.secrets.pop((service, username), None)


def leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_a_keyring_that_fails_to_save_is_exit_74_and_nothing_is_saved(twg, mock_idp, config_dir):
    keyring = MemoryKeyring()
    keyring.failing.add("set")
    result = twg.run("login", "--json", env=KEYRING, keyring_backend=keyring)

    assert result.code == 74
    error = result.json()["error"]
    # One keyring entry per issuer holds the whole token set (docs/design.md).
    assert error["message"] == (
        f"The system keyring failed while saving tokens:{mock_idp.url} (RuntimeError). "
        "Set TWG_CREDENTIAL_STORE=file to use a private file instead."
    )
    assert "the keyring daemon said no" not in result.out + result.err
    assert keyring.secrets == {}
    assert not (config_dir / "credentials").exists()


def test_a_keyring_that_fails_to_read_is_exit_74_and_keeps_the_session(twg, mock_idp, config_dir):
    keyring = MemoryKeyring()
    assert twg.run("login", env=KEYRING, keyring_backend=keyring).code == 0
    saved = dict(keyring.secrets)
    keyring.failing.add("get")

    result = twg.run("api", "/me", env=KEYRING, keyring_backend=keyring)

    assert result.code == 74
    assert "The system keyring failed while reading" in result.err
    assert mock_idp.audit("token.rotated") == []
    keyring.failing.clear()
    assert keyring.secrets == saved
    assert twg.run("api", "/me", env=KEYRING, keyring_backend=keyring).code == 0


def test_a_keyring_that_fails_to_delete_on_logout_does_not_claim_they_were_removed(
    twg, mock_idp, config_dir
):
    keyring = MemoryKeyring()
    assert twg.run("login", env=KEYRING, keyring_backend=keyring).code == 0
    keyring.failing.add("delete")

    result = twg.run("logout", env=KEYRING, keyring_backend=keyring)

    # Revoked at the server, so what is left in the keyring is dead; but the user must
    # not be told it is gone.
    assert count(mock_idp, "token.revoked") == 2
    assert keyring.secrets != {}
    assert "removed from this machine" not in result.err
    assert "The system keyring failed while removing" in result.err


def test_a_credentials_path_that_cannot_be_read_is_exit_74_naming_it(twg, config_dir):
    config_dir.mkdir(parents=True)
    (config_dir / "credentials").mkdir()  # not a file: reading it fails
    result = twg.run("login")

    assert result.code == 74
    assert f"Cannot read {config_dir / 'credentials'}: Is a directory." in result.err
    assert (config_dir / "credentials").is_dir()  # nothing was deleted
    assert not (config_dir / "auth.conf").exists()


def test_secrets_that_cannot_be_saved_are_exit_74_and_leave_no_temp_file(
    logged_in, twg, mock_idp, config_dir, monkeypatch
):
    old = stored.tokens(config_dir)
    mock_idp.clock.advance(9 * HOUR)

    def full_disk(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    # The disk fills up just as the rotated tokens are written.
    monkeypatch.setattr("os.fsync", full_disk)
    result = twg.run("api", "/me")
    monkeypatch.undo()

    assert result.code == 74
    assert f"Cannot save {config_dir / 'credentials'}: No space left on device." in result.err
    assert leftovers(config_dir) == []
    assert stored.tokens(config_dir) == old  # the old file is whole
    assert count(mock_idp, "token.rotated") == 1


def test_a_refresh_lock_that_cannot_be_opened_is_exit_74_and_sends_nothing(
    logged_in, twg, mock_idp, config_dir
):
    mock_idp.clock.advance(9 * HOUR)
    (config_dir / "refresh.lock").unlink()
    (config_dir / "refresh.lock").mkdir()  # something that cannot be opened as a file
    result = twg.run("api", "/me")

    assert result.code == 74
    assert f"Cannot open the refresh lock {config_dir / 'refresh.lock'}" in result.err
    assert mock_idp.audit("token.rotated") == []
    assert mock_idp.audit("refresh.") == []


def test_atomic_write_removes_its_temp_file_when_the_replace_fails(tmp_path):
    target = tmp_path / "secrets"
    target.mkdir()  # os.replace cannot put a file over a directory
    with pytest.raises(IsADirectoryError):
        atomic_write(target, b'{"refresh_token": "x"}')
    assert leftovers(tmp_path) == []
    assert target.is_dir()


def test_atomic_write_replaces_the_file_whole_and_private(tmp_path):
    target = tmp_path / "secrets"
    target.write_text("old")
    target.chmod(0o644)
    atomic_write(target, json.dumps({"a": "b"}).encode())

    assert json.loads(target.read_text()) == {"a": "b"}
    assert target.stat().st_mode & 0o777 == 0o600
    assert leftovers(tmp_path) == []
