"""Each scheduler backend: the files it writes and the exact commands it runs (through a
recording runner), what happens when the OS scheduler is missing, and the systemd units
checked by systemd-analyze itself."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from twg.upkeep import install
from twg.upkeep import state as upkeep_state
from twg.upkeep.launchd import LaunchdScheduler
from twg.upkeep.runner import CommandResult, SubprocessRunner
from twg.upkeep.scheduler import Launcher, SchedulerUnavailable, find_launcher
from twg.upkeep.schtasks import TaskScheduler
from twg.upkeep.systemd import SystemdScheduler, service_unit, timer_unit

IN_CI = os.environ.get("CI", "").strip().lower() == "true"
TWG = "/opt/twg tools/bin/twg"
LAUNCHER = Launcher((TWG,), {"TWG_CONFIG_DIR": "/home/u/.config/twg", "TWG_IDP_URL": "http://x"})
NO_BUS = CommandResult(1, stderr="Failed to connect to bus: No medium found\n")


class RecordingRunner:
    def __init__(self, answers: dict[str, CommandResult] | None = None) -> None:
        self.commands: list[list[str]] = []
        self.answers = answers or {}

    def run(self, argv):  # type: ignore[no-untyped-def]
        self.commands.append(list(argv))
        return self.answers.get(" ".join(argv[:3]), CommandResult(0))


def test_systemd_service_runs_the_launcher_with_the_users_settings():
    assert service_unit(LAUNCHER) == (
        "# Written by `twg upkeep enable`; `twg upkeep disable` removes it.\n"
        "[Unit]\n"
        "Description=twg upkeep: refresh the twg session before it expires\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        'ExecStart="/opt/twg tools/bin/twg" upkeep run\n'
        'Environment="TWG_CONFIG_DIR=/home/u/.config/twg"\n'
        'Environment="TWG_IDP_URL=http://x"\n'
    )


def test_systemd_escapes_percent_dollar_and_quotes():
    launcher = Launcher(('/tmp/50%"$HOME"/twg',), {"TWG_SCOPES": 'a%b "c"'})
    text = service_unit(launcher)
    assert 'ExecStart="/tmp/50%%\\"$$HOME\\"/twg" upkeep run\n' in text
    assert 'Environment="TWG_SCOPES=a%%b \\"c\\""\n' in text


def test_systemd_timer_every_12_minutes():
    text = timer_unit()
    assert "OnUnitActiveSec=12min\n" in text
    assert "OnActiveSec=1min\n" in text
    assert text.endswith("[Install]\nWantedBy=timers.target\n")


def test_systemd_enable_writes_units_and_runs_daemon_reload_then_enable_now(tmp_path):
    runner = RecordingRunner()
    scheduler = SystemdScheduler(runner, tmp_path / ".config")

    installed = scheduler.enable(LAUNCHER)

    unit_dir = tmp_path / ".config" / "systemd" / "user"
    assert runner.commands == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", "twg-upkeep.timer"],
    ]
    assert installed.files == (unit_dir / "twg-upkeep.service", unit_dir / "twg-upkeep.timer")
    assert (unit_dir / "twg-upkeep.service").read_text() == service_unit(LAUNCHER)
    assert scheduler.installed()


def test_systemd_without_a_user_bus_reports_the_error_and_leaves_nothing(tmp_path):
    runner = RecordingRunner({"systemctl --user daemon-reload": NO_BUS})
    scheduler = SystemdScheduler(runner, tmp_path / ".config")
    config_dir = tmp_path / "twg"

    with pytest.raises(SchedulerUnavailable) as caught:
        install.enable(scheduler, LAUNCHER, config_dir, 1_800_000_000.0)

    assert caught.value.message == (
        "Could not enable the systemd user timer: `systemctl --user daemon-reload` failed: "
        "Failed to connect to bus: No medium found."
    )
    assert "loginctl enable-linger" in (caught.value.remedy or "")
    assert "twg upkeep run --every 720" in (caught.value.remedy or "")
    assert runner.commands == [["systemctl", "--user", "daemon-reload"]]
    assert not scheduler.installed()
    assert list((tmp_path / ".config" / "systemd" / "user").iterdir()) == []
    state = upkeep_state.load(config_dir)
    assert state.enabled is False
    assert state.last_error == caught.value.message


def test_systemd_disable_stops_removes_and_reloads(tmp_path):
    runner = RecordingRunner()
    scheduler = SystemdScheduler(runner, tmp_path / ".config")
    config_dir = tmp_path / "twg"
    install.enable(scheduler, LAUNCHER, config_dir, 1_800_000_000.0)
    runner.commands.clear()

    disabled = install.disable(scheduler, config_dir)

    assert disabled.problems == []
    assert disabled.was_enabled is True
    assert runner.commands == [
        ["systemctl", "--user", "disable", "--now", "twg-upkeep.timer"],
        ["systemctl", "--user", "daemon-reload"],
    ]
    assert not (tmp_path / ".config" / "systemd" / "user" / "twg-upkeep.timer").exists()
    assert upkeep_state.load(config_dir).enabled is False


def test_launchd_plist_and_bootstrap_into_the_gui_domain(tmp_path):
    runner = RecordingRunner()
    scheduler = LaunchdScheduler(runner, tmp_path, 501)

    scheduler.enable(LAUNCHER)

    path = tmp_path / "Library" / "LaunchAgents" / "dev.twg.upkeep.plist"
    agent = plistlib.loads(path.read_bytes())
    assert agent == {
        "Label": "dev.twg.upkeep",
        "ProgramArguments": [TWG, "upkeep", "run"],
        "StartInterval": 720,
        "RunAtLoad": True,
        "ProcessType": "Background",
        "StandardOutPath": str(tmp_path / "Library" / "Logs" / "twg" / "upkeep.log"),
        "StandardErrorPath": str(tmp_path / "Library" / "Logs" / "twg" / "upkeep.log"),
        "EnvironmentVariables": {
            "TWG_CONFIG_DIR": "/home/u/.config/twg",
            "TWG_IDP_URL": "http://x",
        },
    }
    assert runner.commands == [
        ["launchctl", "bootout", "gui/501/dev.twg.upkeep"],
        ["launchctl", "bootstrap", "gui/501", str(path)],
    ]
    runner.commands.clear()
    assert scheduler.disable() == []
    assert runner.commands == [["launchctl", "bootout", "gui/501", str(path)]]
    assert not path.exists()


def test_launchd_bootstrap_failure_is_reported_and_the_plist_removed(tmp_path):
    failed = CommandResult(5, stderr="Bootstrap failed: 5: Input/output error\n")
    runner = RecordingRunner({"launchctl bootstrap gui/501": failed})
    scheduler = LaunchdScheduler(runner, tmp_path, 501)

    with pytest.raises(SchedulerUnavailable, match="Bootstrap failed: 5: Input/output error"):
        scheduler.enable(LAUNCHER)

    assert not scheduler.installed()


def test_windows_task_xml_and_schtasks_create(tmp_path):
    runner = RecordingRunner()
    scheduler = TaskScheduler(runner, tmp_path)
    launcher = Launcher((r"C:\Program Files\twg\twg.exe",), {})

    scheduler.enable(launcher)

    path = tmp_path / "upkeep-task.xml"
    raw = path.read_bytes()
    assert raw[:2] in (b"\xff\xfe", b"\xfe\xff")  # UTF-16 with a byte order mark
    xml = raw.decode("utf-16")
    assert "<Command>C:\\Program Files\\twg\\twg.exe</Command>" in xml
    assert "<Arguments>upkeep run</Arguments>" in xml
    assert xml.count("<Interval>PT12M</Interval>") == 2
    assert "<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>" in xml
    ET.fromstring(xml.split("\n", 1)[1])  # noqa: S314 - our own output: well-formed
    assert runner.commands == [
        ["schtasks", "/Create", "/TN", "twg-upkeep", "/XML", str(path), "/F"]
    ]
    runner.commands.clear()
    assert scheduler.disable() == []
    assert runner.commands == [["schtasks", "/Delete", "/TN", "twg-upkeep", "/F"]]
    assert not path.exists()


def test_secrets_in_the_environment_never_reach_a_schedule():
    environ = {
        "TWG_CONFIG_DIR": "/c",
        "TWG_OAUTH_ACCESS_TOKEN": "secret-access",
        "TWG_BBC_TOKEN": "secret-bb",
        "TWG_ADMIN_API_KEY": "secret-admin",
    }

    launcher = find_launcher(environ, argv0="/usr/bin/python3", which="/usr/bin/env")

    assert launcher.environment == {"TWG_CONFIG_DIR": "/c"}


def test_launcher_is_the_twg_this_process_runs_as(tmp_path):
    script = tmp_path / "bin" / "twg"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")

    assert find_launcher({}, argv0=str(script)).argv == (str(script),)
    assert find_launcher({}, argv0="pytest", which=str(script)).argv == (str(script),)
    assert find_launcher({}, argv0="pytest", which="").argv == (sys.executable, "-m", "twg")


def test_the_real_runner_reports_a_missing_program():
    result = SubprocessRunner().run(["twg-no-such-scheduler-tool", "--user"])

    assert result.returncode == 127
    assert result.problem() == "twg-no-such-scheduler-tool: command not found"


def test_generated_systemd_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        message = "systemd-analyze is not installed (apt-get install -y systemd)"
        if IN_CI:
            pytest.fail(f"{message}; CI must not skip this check")
        pytest.skip(message)
    twg = Path(sys.executable).parent / "twg"
    launcher = Launcher((str(twg),), {"TWG_CONFIG_DIR": str(tmp_path / "cfg dir")})
    scheduler = SystemdScheduler(RecordingRunner(), tmp_path / ".config")
    scheduler.enable(launcher)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)

    done = subprocess.run(
        [analyze, "verify", "--user", *map(str, scheduler.paths)],
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # not even a warning (unknown keys only warn)
