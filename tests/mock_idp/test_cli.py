"""``twg-mock-idp`` option errors, in-process: clear messages and exit 2, no traceback.

(The real ``serve`` process is tested in test_cli_serve.py.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_idp.cli import main


def test_a_bad_config_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    config = tmp_path / "mock.toml"
    config.write_text("no_such_setting = 1\n")
    assert main(["serve", "--config", str(config)]) == 2
    assert "unknown setting(s): no_such_setting" in capsys.readouterr().err


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
