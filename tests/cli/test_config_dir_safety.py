"""A config directory someone else can change is refused (or tightened, when it is ours
and nothing in it was planted); a planted refresh-lock symlink is never followed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from twg.auth.lock import RefreshLock
from twg.errors import EXIT_CONFIG, EXIT_IOERR, ConfigError, StorageError
from twg.iostreams import IOStreams
from twg.main import main

OTHER_UID = 54321
needs_root = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0,
    reason="giving a file to another user needs root (CI runs as root)",
)


def run(config_dir: Path, *args: str) -> tuple[int, str]:
    io = IOStreams.for_test()
    environ = {
        "HOME": str(config_dir.parent),
        "TWG_CONFIG_DIR": str(config_dir),
        "TWG_CREDENTIAL_STORE": "file",
        "TWG_IDP_URL": "http://127.0.0.1:9",
    }
    code = main(list(args), io=io, environ=environ)
    return code, io.errors() + io.output()


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_world_writable_config_dir_of_ours_is_tightened_to_0700(tmp_path: Path) -> None:
    config = tmp_path / "twg"
    config.mkdir()
    config.chmod(0o777)
    (config / "auth.conf").write_text("not json")  # ours: kept as it is

    code, _ = run(config, "auth", "status")

    assert code != EXIT_CONFIG
    assert mode(config) == 0o700


def test_a_symlinked_config_dir_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "twg"
    link.symlink_to(real)

    code, text = run(link, "auth", "status")

    assert code == EXIT_CONFIG
    assert f"The config directory {link} is a symbolic link" in text
    assert "TWG_CONFIG_DIR" in text
    assert link.is_symlink()  # nothing removed


@needs_root
def test_a_config_dir_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "twg"
    config.mkdir(mode=0o700)
    os.chown(config, OTHER_UID, OTHER_UID)

    code, text = run(config, "auth", "status")

    assert code == EXIT_CONFIG
    assert f"belongs to another user (uid {OTHER_UID})" in text
    assert os.lstat(config).st_uid == OTHER_UID


@needs_root
def test_an_open_dir_with_a_planted_file_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    config = tmp_path / "twg"
    config.mkdir()
    config.chmod(0o777)
    planted = config / "auth.conf"
    planted.write_text('{"issuer": "https://evil.example"}')
    os.chown(planted, OTHER_UID, OTHER_UID)

    code, text = run(config, "auth", "status")

    assert code == EXIT_CONFIG
    assert "writable by others (mode 0777)" in text
    assert "auth.conf" in text
    assert mode(config) == 0o777  # not tightened over someone else's file
    assert planted.read_text() == '{"issuer": "https://evil.example"}'


def test_an_open_dir_with_a_planted_symlink_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "twg"
    config.mkdir()
    config.chmod(0o777)
    target = tmp_path / "victim"
    target.write_text("precious")
    (config / "refresh.lock").symlink_to(target)

    code, text = run(config, "auth", "status")

    assert code == EXIT_CONFIG
    assert "refresh.lock" in text
    assert target.read_text() == "precious"


def test_a_planted_refresh_lock_symlink_is_not_followed(tmp_path: Path) -> None:
    config = tmp_path / "twg"
    config.mkdir(mode=0o700)
    target = tmp_path / "victim"
    (config / "refresh.lock").symlink_to(target)

    with pytest.raises(ConfigError) as caught, RefreshLock(config, timeout=1):
        pass

    assert caught.value.exit_code == EXIT_CONFIG
    assert "is a symbolic link" in caught.value.message
    assert not target.exists()  # not created through the link


def test_a_refresh_lock_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "twg"
    config.mkdir(mode=0o700)
    (config / "refresh.lock").mkdir()

    with pytest.raises(StorageError) as caught, RefreshLock(config, timeout=1):
        pass

    assert caught.value.exit_code == EXIT_IOERR
    assert "Cannot open the refresh lock" in caught.value.message


def test_a_new_config_dir_is_created_private(tmp_path: Path) -> None:
    config = tmp_path / "a" / "twg"
    with RefreshLock(config, timeout=1):
        pass
    assert mode(config) == 0o700
    assert mode(config / "refresh.lock") == 0o600
