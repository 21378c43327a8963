"""``twg-mock-idp`` option errors, in-process: clear messages and exit 2, no traceback.

(The real ``serve`` process, its port handling and state across restarts, is tested in
test_cli_serve.py.)
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from mock_idp.cli import main


def test_a_bad_config_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    config = tmp_path / "mock.toml"
    config.write_text("no_such_setting = 1\n")
    assert main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "unknown setting(s): no_such_setting" in err
    assert "Traceback" not in err


def test_a_missing_config_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["serve", "--config", str(tmp_path / "absent.toml")]) == 2
    assert "cannot read config file" in capsys.readouterr().err


def test_a_bad_state_spec_is_a_clear_error(capsys) -> None:
    assert main(["serve", "--state", "redis:x"]) == 2
    assert "unknown state store" in capsys.readouterr().err


def test_unknown_subcommand_exits_with_usage(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["fly"])
    assert exited.value.code == 2
    assert "usage: twg-mock-idp" in capsys.readouterr().err


def test_a_busy_port_is_a_clear_error_without_a_url_line(capsys) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    captured = capsys.readouterr()
    assert f"cannot listen on 127.0.0.1:{port}" in captured.err
    assert "serving on" not in captured.out
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_an_impossible_port_is_a_usage_error(port: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", port])
    assert exited.value.code == 2
    assert "is not a TCP port" in capsys.readouterr().err


def test_an_unusable_sqlite_path_is_a_clear_error(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    assert main(["serve", "--state", f"sqlite:{blocker}/state.db"]) == 2
    err = capsys.readouterr().err
    assert "twg-mock-idp:" in err
    assert "Traceback" not in err
