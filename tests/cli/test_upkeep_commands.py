# The fixtures come from test_upkeep_sessions: test functions name them as parameters.
# ruff: noqa: F811
"""`twg setup` and `twg upkeep enable|disable|status|run` as a user runs them, against the
real mock IdP, with scheduler commands recorded instead of run."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.cli import stored
from tests.cli.read_only import make_read_only, make_writable
from tests.cli.test_upkeep_sessions import (  # noqa: F401 - fixtures
    DAY,
    NO_BUS,
    runner,
    sim,
    stored_refresh_token,
    twg,
)
from twg.upkeep.state import iso
from twg.upkeep.usage import marker_dirs

BB_TOKEN = "mock-bitbucket-token-alice"


def test_setup_without_a_scheduler_completes_with_repair_guidance(twg, runner, config_dir):
    runner.answers["systemctl"] = NO_BUS

    result = twg("setup")

    assert result.code == 0, result.err
    assert "Logged in as Alice" in result.err
    assert "  done: Logged in as alice@example.com." in result.err
    assert "  needs you: Bitbucket token: not set. Run `twg setup bitbucket`" in result.err
    assert (
        "  needs you: Upkeep is not enabled: Could not enable the systemd user timer: "
        "`systemctl --user daemon-reload` failed: Failed to connect to bus: No medium found. "
        "To repair: systemd user timers need a running user instance" in result.err
    )
    state = json.loads((config_dir / "upkeep.json").read_text())
    assert state["enabled"] is False
    assert "No medium found" in state["last_error"]
    enable = twg("upkeep", "enable")
    assert enable.code == 69
    assert "Failed to connect to bus: No medium found" in enable.err
    assert json.loads((config_dir / "upkeep.json").read_text())["enabled"] is False


def test_setup_again_repairs_upkeep_and_asks_for_the_missing_bitbucket_token(
    twg, runner, config_dir
):
    runner.answers["systemctl"] = NO_BUS
    assert twg("setup").code == 0
    runner.answers.clear()
    runner.commands.clear()

    again = twg("setup", tty=True, hidden=[BB_TOKEN])

    assert again.code == 0, again.err
    assert "Already logged in as alice@example.com" in again.err
    assert "  done: Bitbucket token: saved." in again.err
    assert "  done: Upkeep enabled: the systemd user timer twg-upkeep.timer runs" in again.err
    assert "Nothing else needs you." in again.err
    assert runner.commands == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", "twg-upkeep.timer"],
    ]
    unit = twg.home / ".config" / "systemd" / "user" / "twg-upkeep.service"
    assert f'Environment="TWG_CONFIG_DIR={config_dir}"' in unit.read_text()
    state = json.loads((config_dir / "upkeep.json").read_text())
    assert state["enabled"] is True
    assert state["backend"] == "systemd"
    assert state["last_error"] is None


def test_setup_bitbucket_still_works_as_its_own_command(twg):
    assert twg("login").code == 0

    result = twg("setup", "bitbucket", tty=True, hidden=[BB_TOKEN])

    assert result.code == 0, result.err
    assert "Bitbucket token: saved" in result.err
    assert "setup summary" not in result.err


def test_upkeep_json_never_holds_a_secret(twg, sim, config_dir, runner):
    assert twg("setup", tty=True, hidden=[BB_TOKEN]).code == 0
    sim.advance(5 * 3600 + 50 * 60)
    assert twg("upkeep", "run").code == 0
    credentials = stored.tokens(config_dir)

    text = (config_dir / "upkeep.json").read_text()

    assert json.loads(text)["result"] == "refreshed"
    assert credentials["refresh_token"]
    for secret in credentials.values():
        assert secret not in text
    assert BB_TOKEN not in text
    assert stat.S_IMODE((config_dir / "upkeep.json").stat().st_mode) == 0o600


def test_status_explains_the_inactivity_rule_and_when_upkeep_stops(twg, sim):
    assert twg("login").code == 0
    sim.advance(2 * DAY)
    assert twg("api", "/me").code == 0
    used_at = sim.now

    status = twg("upkeep", "status")
    as_json = twg("upkeep", "status", "--json").json()

    assert status.code == 0, status.err
    assert "Upkeep: disabled. Turn it on with `twg upkeep enable` (or `twg setup`)." in status.out
    assert "only while someone uses twg on this machine" in status.out
    assert "After 30 days without any use it stops refreshing and ends the session" in status.out
    assert f"Stops keeping the session alive: {iso(used_at + 30 * DAY)}" in status.out
    assert as_json["inactivity"]["last_use"] == iso(used_at)
    assert as_json["inactivity"]["stops_at"] == iso(used_at + 30 * DAY)
    assert as_json["session"]["logged_in"] is True
    # Looking at upkeep is not a use: the stop date did not move.
    sim.advance(DAY)
    later = twg("upkeep", "status", "--json").json()
    assert later["inactivity"]["stops_at"] == iso(used_at + 30 * DAY)


def test_the_inactivity_window_is_configurable(twg, sim):
    assert twg("login").code == 0
    login_at = sim.now

    week = twg("upkeep", "status", "--json", env={"TWG_UPKEEP_INACTIVITY_DAYS": "7"}).json()
    bad = twg("upkeep", "run", env={"TWG_UPKEEP_INACTIVITY_DAYS": "soon"})

    assert week["inactivity"]["days"] == 7
    assert week["inactivity"]["stops_at"] == iso(login_at + 7 * DAY)
    assert bad.code == 78
    assert "TWG_UPKEEP_INACTIVITY_DAYS='soon' is not a number of days" in bad.err


def test_disable_removes_what_enable_installed(twg, runner, config_dir):
    assert twg("upkeep", "enable").code == 0
    runner.commands.clear()

    result = twg("upkeep", "disable")

    assert result.code == 0, result.err
    assert runner.commands == [
        ["systemctl", "--user", "disable", "--now", "twg-upkeep.timer"],
        ["systemctl", "--user", "daemon-reload"],
    ]
    assert not (twg.home / ".config" / "systemd" / "user" / "twg-upkeep.timer").exists()
    assert json.loads((config_dir / "upkeep.json").read_text())["enabled"] is False
    assert "Upkeep disabled: the systemd user timer is removed." in result.err


def test_disable_without_enable_says_there_was_nothing_to_stop(twg):
    result = twg("upkeep", "disable")

    assert result.code == 0, result.err
    assert result.err.strip() == (
        "Upkeep was not enabled: nothing to stop. Your session is unchanged."
    )


def test_run_every_takes_a_sane_number_of_seconds(twg):
    result = twg("upkeep", "run", "--every", "0")

    assert result.code == 2
    assert "--every takes 1 to 86400 seconds" in result.err


def test_upkeep_run_with_nobody_ever_logged_in_creates_nothing(twg, config_dir):
    result = twg("upkeep", "run")

    assert result.code == 0, result.err
    assert "upkeep: not_logged_in: nobody is logged in; nothing to do" in result.err
    assert not config_dir.exists()


def test_use_is_recorded_in_the_temp_dir_when_the_state_dir_is_read_only(twg, sim):
    assert twg("login").code == 0
    state_dir, tmp_dir = marker_dirs(twg.env)[0], marker_dirs(twg.env)[-1]
    state_dir.mkdir(parents=True, exist_ok=True)
    sim.advance(3600)
    make_read_only(state_dir)
    try:
        assert twg("api", "/me").code == 0
    finally:
        make_writable(state_dir)

    assert not (state_dir / "last-use").exists()
    assert json.loads((tmp_dir / "last-use").read_text()) == {"last_use": sim.now}
    status = twg("upkeep", "status", "--json").json()
    assert status["inactivity"]["last_use"] == iso(sim.now)
    assert status["inactivity"]["last_use_recorded_in"] == str(tmp_dir / "last-use")


def test_a_marker_others_can_write_is_ignored(twg, sim):
    assert twg("login").code == 0
    login_at = sim.now
    tmp_dir = marker_dirs(twg.env)[-1]
    tmp_dir.mkdir(parents=True)
    (tmp_dir / "last-use").write_text(json.dumps({"last_use": login_at + 20 * DAY}))
    os.chmod(tmp_dir, 0o777)  # noqa: S103 - as a shared /tmp directory planted by someone else

    status = twg("upkeep", "status", "--json").json()

    assert status["inactivity"]["last_use"] == iso(login_at)
    assert status["inactivity"]["last_use_recorded_in"] == "login"


@pytest.mark.parametrize("command", [["auth", "status"], ["upkeep", "status"]])
def test_commands_that_only_look_do_not_count_as_use(twg, sim, command):
    assert twg("login").code == 0
    sim.advance(3600)

    assert twg(*command).code == 0

    assert all(not (d / "last-use").exists() for d in marker_dirs(twg.env))


def test_an_unreachable_idp_is_recorded_and_the_session_kept(twg, sim, config_dir, mock_idp):
    assert twg("login").code == 0
    refresh_token = stored_refresh_token(config_dir)
    sim.advance(5 * 3600 + 50 * 60)
    sim.sync()
    mock_idp.stop()
    waits: list[float] = []

    result = twg("upkeep", "run", sleep=waits.append)

    assert result.code == 69
    assert waits == [0.5, 1.0]  # tried three times before giving up
    state = json.loads((config_dir / "upkeep.json").read_text())
    assert state["result"] == "error"
    assert stored_refresh_token(config_dir) == refresh_token
