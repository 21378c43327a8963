"""twg with the real Secret Service: gnome-keyring on a private D-Bus session bus.

Linux desktop users keep secrets in gnome-keyring over D-Bus; these tests run the real
daemon (Debian's gnome-keyring, started unlocked with a password on stdin) and the real
`twg` against the in-process mock. They check that the tokens land in the Secret Service
and nowhere on disk, and that a locked keyring, a daemon that dies and one that never
answers each give a clear message within the timeout and lose nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import secretstorage
from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection

BIN = Path(sys.executable).parent
PASSWORD = b"twg-test-keyring-password"
BACKEND = "keyring.backends.SecretService.Keyring"

pytestmark = pytest.mark.skipif(
    not (shutil.which("dbus-daemon") and shutil.which("gnome-keyring-daemon")),
    reason="needs dbus-daemon and gnome-keyring-daemon (apt-get install dbus gnome-keyring)",
)


@dataclass
class SecretServiceBus:
    """A private session bus with gnome-keyring on it, for one test."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    bus_pid: int = 0
    daemon: subprocess.Popen[bytes] | None = None

    def start_bus(self) -> None:
        runtime = self.root / "run"
        runtime.mkdir(mode=0o700)
        (self.root / "data").mkdir()
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.root / "home"),
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_CONFIG_HOME": str(self.root / "home" / ".config"),
            "XDG_RUNTIME_DIR": str(runtime),
        }
        (self.root / "home").mkdir()
        out = subprocess.run(
            ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.split()
        self.env["DBUS_SESSION_BUS_ADDRESS"] = out[0]
        self.bus_pid = int(out[1])

    def start_keyring(self) -> None:
        """(Re)start gnome-keyring unlocked, replacing any daemon on the bus."""
        self.kill_all_keyrings()
        self.daemon = subprocess.Popen(
            [
                "gnome-keyring-daemon",
                "--replace",
                "--foreground",
                "--unlock",
                "--components=secrets",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self.env,
        )
        assert self.daemon.stdin is not None
        self.daemon.stdin.write(PASSWORD)
        self.daemon.stdin.close()
        # Wait until OUR daemon owns the Secret Service name. Asking the keyring anything
        # earlier would make D-Bus start a daemon of its own (locked) that wins the name.
        deadline = time.monotonic() + 30
        owner = None
        while time.monotonic() < deadline:
            owner = self.secrets_owner_pid()
            if owner == self.daemon.pid:
                break
            if owner is not None:  # one D-Bus started: not ours, so not unlocked
                self.kill_others(keep=self.daemon.pid)
            time.sleep(0.05)
        else:
            raise AssertionError(f"gnome-keyring did not take the bus name (owner: {owner})")
        with self.connection() as conn:
            assert not secretstorage.get_default_collection(conn).is_locked(), (
                "gnome-keyring came up locked"
            )

    @contextmanager
    def connection(self) -> Iterator[DBusConnection]:
        """A connection to this test's bus, from this process (no helper process)."""
        with open_dbus_connection(bus=self.env["DBUS_SESSION_BUS_ADDRESS"]) as conn:
            yield conn

    def secrets_owner_pid(self) -> int | None:
        """The pid owning org.freedesktop.secrets, without activating anything."""
        bus = DBusAddress(
            "/org/freedesktop/DBus",
            bus_name="org.freedesktop.DBus",
            interface="org.freedesktop.DBus",
        )
        call = new_method_call(bus, "GetConnectionUnixProcessID", "s", ("org.freedesktop.secrets",))
        with self.connection() as conn:
            reply = conn.send_and_get_reply(call, timeout=10)
        if reply.header.message_type == MessageType.error:  # nobody owns the name yet
            return None
        return int(reply.body[0])

    def kill_keyring(self) -> None:
        if self.daemon is not None:
            self.daemon.kill()
            self.daemon.wait(10)
            self.daemon = None

    def lock(self) -> None:
        with self.connection() as conn:
            secretstorage.get_default_collection(conn).lock()

    def twg_secrets(self) -> list[str]:
        """Every secret twg keeps in the Secret Service."""
        with self.connection() as conn:
            items = secretstorage.get_default_collection(conn).get_all_items()
            return [
                item.get_secret().decode()
                for item in items
                if "twg" in json.dumps(item.get_attributes())
            ]

    def kill_all_keyrings(self) -> None:
        """Every gnome-keyring-daemon of this bus, including ones D-Bus started itself."""
        self.kill_keyring()
        self.kill_others(keep=None)

    def kill_others(self, keep: int | None) -> None:
        marker = f"DBUS_SESSION_BUS_ADDRESS={self.env['DBUS_SESSION_BUS_ADDRESS']}".encode()
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if b"gnome-keyring" not in (proc / "cmdline").read_bytes():
                    continue
                if marker not in (proc / "environ").read_bytes().split(b"\0"):
                    continue
                if int(proc.name) != keep:
                    os.kill(int(proc.name), signal.SIGKILL)
            except (OSError, ValueError):
                continue

    def stop(self) -> None:
        self.kill_all_keyrings()
        if self.bus_pid:
            os.kill(self.bus_pid, signal.SIGKILL)


@pytest.fixture
def secret_service(tmp_path: Path) -> Iterator[SecretServiceBus]:
    bus = SecretServiceBus(tmp_path / "ss")
    bus.root.mkdir()
    bus.start_bus()
    try:
        bus.start_keyring()
        yield bus
    finally:
        bus.stop()


@pytest.fixture
def twg_env(secret_service: SecretServiceBus, mock_server) -> dict[str, str]:
    config = Path(secret_service.env["HOME"]) / ".config" / "twg"
    return {
        **secret_service.env,
        "TWG_CONFIG_DIR": str(config),
        "TWG_IDP_URL": mock_server.url,
        "TWG_LOGIN_TIMEOUT": "30",
        "TWG_KEYRING_TIMEOUT": "2",
        "PYTHON_KEYRING_BACKEND": BACKEND,
        "BROWSER": f"{BIN / 'twg-mock-idp'} browser --user alice@example.com %s",
    }


def twg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "twg"), *args], env=env, capture_output=True, text=True, timeout=60
    )


def all_files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                yield path


def active_at_the_mock(mock_url: str, token: str) -> bool:
    answer = httpx.post(
        f"{mock_url}/oauth/introspect", data={"token": token, "client_id": "twg-cli"}
    )
    return bool(answer.json().get("active"))


def test_tokens_land_in_the_secret_service_and_nowhere_on_disk(
    secret_service: SecretServiceBus, twg_env: dict[str, str], mock_server, tmp_path: Path
) -> None:
    login = twg(twg_env, "login")
    assert login.returncode == 0, login.stderr
    assert "keyring" in login.stderr.lower()

    # One entry per issuer holds the token set (one write is all or nothing).
    entries = [json.loads(s) for s in secret_service.twg_secrets() if s.startswith("{")]
    assert len(entries) == 1
    tokens = [entries[0]["access_token"], entries[0]["refresh_token"]]
    assert all(active_at_the_mock(mock_server.url, t) for t in tokens)
    for path in all_files_under(tmp_path):
        data = path.read_bytes()
        for token in tokens:
            assert token.encode() not in data, f"a token is on disk in {path}"
    assert not (Path(twg_env["TWG_CONFIG_DIR"]) / "credentials").exists()

    status = twg(twg_env, "auth", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert "SecretService" in status.stdout
    assert twg(twg_env, "api", "/me").returncode == 0


def test_a_locked_keyring_says_so_quickly_and_loses_nothing(
    secret_service: SecretServiceBus, twg_env: dict[str, str]
) -> None:
    assert twg(twg_env, "login").returncode == 0
    before = sorted(secret_service.twg_secrets())
    secret_service.lock()

    result = twg(twg_env, "api", "/me")

    assert result.returncode == 75
    assert "keyring is locked" in result.stderr
    assert "Traceback" not in result.stderr
    # Unlocked again (a new daemon with the password): the same session still works.
    secret_service.start_keyring()
    assert sorted(secret_service.twg_secrets()) == before
    again = twg(twg_env, "api", "/me")
    assert again.returncode == 0, again.stderr


def test_a_keyring_daemon_that_died_gives_a_clear_message_and_loses_nothing(
    secret_service: SecretServiceBus, twg_env: dict[str, str]
) -> None:
    assert twg(twg_env, "login").returncode == 0
    secret_service.kill_keyring()

    # D-Bus starts a fresh daemon on demand; it has not been unlocked.
    result = twg(twg_env, "auth", "refresh", "--force")

    assert result.returncode == 75
    assert "keyring is locked" in result.stderr
    assert "Traceback" not in result.stderr
    secret_service.start_keyring()
    again = twg(twg_env, "api", "/me")
    assert again.returncode == 0, again.stderr


def test_a_keyring_that_never_answers_times_out_and_loses_nothing(
    secret_service: SecretServiceBus, twg_env: dict[str, str]
) -> None:
    assert twg(twg_env, "login").returncode == 0
    daemon = secret_service.daemon
    assert daemon is not None
    daemon.send_signal(signal.SIGSTOP)
    try:
        result = twg(twg_env, "api", "/me")
    finally:
        daemon.send_signal(signal.SIGCONT)

    assert result.returncode == 75
    assert "did not answer within 2s" in result.stderr
    assert "Traceback" not in result.stderr
    again = twg(twg_env, "api", "/me")
    assert again.returncode == 0, again.stderr
