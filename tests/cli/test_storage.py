"""Secret stores: keyring (real keyrings.alt backend), file store, timeouts, corruption."""

from __future__ import annotations

import logging
import stat
import threading

import pytest

from tests.cli import stored
from tests.cli.conftest import HOUR, count
from twg.auth.credentials import FileStore, KeyringStore, _unusable_reason, choose_store
from twg.auth.lock import LockTimeout, RefreshLock
from twg.auth.redact import RedactingFilter, redact
from twg.errors import KeyringTimeout

PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"


def test_keyring_store_keeps_secrets_out_of_the_config_dir(twg, mock_idp, config_dir):
    env = {"TWG_CREDENTIAL_STORE": None, "PYTHON_KEYRING_BACKEND": PLAINTEXT}
    result = twg.run("login", env=env)

    assert result.code == 0, result.err
    assert "Secrets stored in: system keyring (keyrings.alt.file.PlaintextKeyring)" in result.err
    assert not (config_dir / "credentials").exists()
    assert stored.conf(config_dir)["store"] == "keyring"
    status = twg.run("auth", "status", "--json", env=env)
    assert status.json()["token_source"] == "keyring"
    mock_idp.clock.advance(9 * HOUR)
    assert twg.run("api", "/me", env=env).code == 0
    assert count(mock_idp, "token.rotated") == 1
    logout = twg.run("logout", env=env)
    assert logout.code == 0
    import keyring

    backend = keyring.core.load_keyring(PLAINTEXT)
    assert backend.get_password("twg", "refresh_token") is None


def test_without_a_usable_keyring_the_file_store_is_used_and_named(twg, config_dir):
    env = {"TWG_CREDENTIAL_STORE": None, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = twg.run("login", env=env)
    # An explicitly chosen fail backend is still not usable: the file store is named.
    assert result.code == 0, result.err
    assert "Secrets stored in: file" in result.err
    assert (config_dir / "credentials").exists()


def test_keyrings_alt_is_used_only_when_chosen_by_name():
    import keyrings.alt.file

    backend = keyrings.alt.file.PlaintextKeyring()
    assert "fallback backend" in _unusable_reason(backend)
    assert _unusable_reason(backend, explicit=True) is None


def test_auto_selection_falls_back_to_the_file_store_and_says_why(isolated_env, monkeypatch):
    import keyring

    monkeypatch.setattr(keyring, "get_keyring", lambda: keyring.backends.fail.Keyring())
    store, reason = choose_store(isolated_env / "cfg", {}, timeout=5)
    assert isinstance(store, FileStore)
    assert reason == "no system keyring is available"


class HangingBackend:
    """A keyring whose every call hangs until the test ends (a locked D-Bus keyring)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def _hang(self) -> None:
        self.calls += 1
        self.release.wait(60)

    def get_password(self, service, key):
        self._hang()

    def set_password(self, service, key, value):
        self._hang()

    def delete_password(self, service, key):
        self._hang()


@pytest.fixture
def hanging():
    backend = HangingBackend()
    yield backend
    backend.release.set()


def test_keyring_timeout_is_an_error_not_a_silent_fallback(hanging):
    store = KeyringStore(hanging, timeout=0.2)
    with pytest.raises(KeyringTimeout) as err:
        store.get("refresh_token")
    # It gave up while the keyring was still hanging.
    assert not hanging.release.is_set()
    assert hanging.calls == 1
    assert "did not answer" in err.value.message


def test_login_with_a_hanging_keyring_fails_clearly_and_writes_no_file(twg, config_dir, hanging):
    result = twg.run(
        "login",
        "--json",
        env={"TWG_CREDENTIAL_STORE": "keyring", "TWG_KEYRING_TIMEOUT": "0.2"},
        keyring_backend=hanging,
    )
    assert result.code == 75
    assert result.json()["error"]["code"] == "KEYRING_TIMEOUT"
    assert not (config_dir / "credentials").exists()


def test_file_store_is_0600_and_replaced_atomically(isolated_env):
    store = FileStore(isolated_env / "cfg")
    store.set("refresh_token", "r1")
    inode = (isolated_env / "cfg" / "credentials").stat().st_ino
    store.set("refresh_token", "r2")
    path = isolated_env / "cfg" / "credentials"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.stat().st_ino != inode  # a new file was renamed over the old one
    assert store.get("refresh_token") == "r2"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_corrupt_auth_conf_is_moved_aside_with_a_clear_error(logged_in, twg, config_dir):
    (config_dir / "auth.conf").write_text("{not json")
    result = twg.run("auth", "status", "--json")

    assert result.code == 74
    assert result.json()["error"]["code"] == "CORRUPT_CONFIG"
    assert "moved aside" in result.json()["error"]["message"]
    moved = [p.name for p in config_dir.iterdir() if p.name.startswith("auth.conf.corrupt-")]
    assert len(moved) == 1
    assert (config_dir / "credentials").exists()  # nothing else lost
    assert twg.run("auth", "status").code == 77  # now simply not logged in


def test_corrupt_credentials_file_is_moved_aside(logged_in, twg, config_dir):
    (config_dir / "credentials").write_text("garbage")
    result = twg.run("api", "/me")

    assert result.code == 74
    assert "moved aside" in result.err
    assert any(p.name.startswith("credentials.corrupt-") for p in config_dir.iterdir())
    assert (config_dir / "auth.conf").exists()


def test_refresh_lock_excludes_a_second_holder_until_released(isolated_env):
    first = RefreshLock(isolated_env / "cfg", timeout=1)
    first.acquire()
    with pytest.raises(LockTimeout):
        RefreshLock(isolated_env / "cfg", timeout=0.2).acquire()
    released = threading.Timer(0.2, first.release)
    released.start()
    with RefreshLock(isolated_env / "cfg", timeout=3):
        pass
    released.join()


def test_redaction_hides_authorization_codes_and_token_fields():
    text = (
        "Authorization: Bearer at-SECRET123456 GET /callback?code=CODE999&state=s "
        'body {"refresh_token": "rt-XYZ", "access_token":"at-ABC"} refresh_token=rt-FORM&x=1'
    )
    clean = redact(text)
    for secret in ("at-SECRET123456", "CODE999", "rt-XYZ", "at-ABC", "rt-FORM"):
        assert secret not in clean
    assert "state=s" in clean


def test_debug_log_never_shows_tokens(twg, mock_idp, config_dir, capfd):
    result = twg.run("login", env={"TWG_DEBUG": "1"})
    assert result.code == 0
    first = stored.tokens(config_dir)
    mock_idp.clock.advance(9 * HOUR)
    assert twg.run("api", "/me", env={"TWG_DEBUG": "1"}).code == 0
    second = stored.tokens(config_dir)
    assert second["refresh_token"] != first["refresh_token"]
    captured = capfd.readouterr()
    logged = captured.err + captured.out
    assert "[twg debug]" in logged
    for secrets in (first, second):
        for name in ("access_token", "refresh_token"):
            assert secrets[name] not in logged
    for logger in ("twg", "httpx", "httpcore"):
        for handler in list(logging.getLogger(logger).handlers):
            if any(isinstance(f, RedactingFilter) for f in handler.filters):
                logging.getLogger(logger).removeHandler(handler)
