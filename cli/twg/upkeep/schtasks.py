"""Windows: a Scheduled Task defined in Task Scheduler XML, registered with
``schtasks /Create /XML``, that runs ``twg upkeep run`` every 12 minutes."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from twg.upkeep.policy import INTERVAL
from twg.upkeep.runner import CommandRunner
from twg.upkeep.scheduler import (
    Installed,
    Launcher,
    remove_files,
    write_and_enable,
)

TASK_NAME = "twg-upkeep"
XML_FILE = "upkeep-task.xml"
NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"


def _argument(word: str) -> str:
    # CommandLineToArgvW rules, enough for paths: quote words with spaces or quotes.
    if word and not any(c in word for c in ' \t"'):
        return word
    return '"' + word.replace('"', '\\"') + '"'


def task_xml(launcher: Launcher, interval: int = INTERVAL) -> str:
    program, *rest = launcher.command("upkeep", "run")
    arguments = " ".join(_argument(w) for w in rest)
    minutes = interval // 60
    # A Scheduled Task cannot carry environment variables: the run sees the user's
    # stored environment, so non-default TWG_* settings must be user variables (setx).
    return (
        '<?xml version="1.0" encoding="UTF-16"?>\n'
        f'<Task version="1.2" xmlns="{NS}">\n'
        "  <RegistrationInfo>\n"
        "    <Description>twg upkeep: refresh the twg session before it expires."
        "</Description>\n"
        "  </RegistrationInfo>\n"
        "  <Triggers>\n"
        "    <LogonTrigger>\n"
        "      <Enabled>true</Enabled>\n"
        "      <Repetition>\n"
        f"        <Interval>PT{minutes}M</Interval>\n"
        "        <StopAtDurationEnd>false</StopAtDurationEnd>\n"
        "      </Repetition>\n"
        "    </LogonTrigger>\n"
        "    <TimeTrigger>\n"
        "      <StartBoundary>2000-01-01T00:00:00</StartBoundary>\n"
        "      <Enabled>true</Enabled>\n"
        "      <Repetition>\n"
        f"        <Interval>PT{minutes}M</Interval>\n"
        "        <StopAtDurationEnd>false</StopAtDurationEnd>\n"
        "      </Repetition>\n"
        "    </TimeTrigger>\n"
        "  </Triggers>\n"
        "  <Principals>\n"
        '    <Principal id="Author">\n'
        "      <LogonType>InteractiveToken</LogonType>\n"
        "      <RunLevel>LeastPrivilege</RunLevel>\n"
        "    </Principal>\n"
        "  </Principals>\n"
        "  <Settings>\n"
        "    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n"
        "    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n"
        "    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n"
        "    <StartWhenAvailable>true</StartWhenAvailable>\n"
        "    <Hidden>true</Hidden>\n"
        "    <ExecutionTimeLimit>PT10M</ExecutionTimeLimit>\n"
        "  </Settings>\n"
        '  <Actions Context="Author">\n'
        "    <Exec>\n"
        f"      <Command>{escape(program)}</Command>\n"
        f"      <Arguments>{escape(arguments)}</Arguments>\n"
        "    </Exec>\n"
        "  </Actions>\n"
        "</Task>\n"
    )


class TaskScheduler:
    name = "schtasks"
    label = "Scheduled Task"

    def __init__(self, runner: CommandRunner, config_dir: Path) -> None:
        self.runner = runner
        # The definition is kept beside upkeep.json, so a person can read what runs.
        self.path = config_dir / XML_FILE

    def files(self, launcher: Launcher) -> dict[Path, bytes]:
        # schtasks /XML reads UTF-16 (with its byte order mark), as the declaration says.
        return {self.path: task_xml(launcher).encode("utf-16")}

    def enable_commands(self) -> list[list[str]]:
        return [["schtasks", "/Create", "/TN", TASK_NAME, "/XML", str(self.path), "/F"]]

    def enable(self, launcher: Launcher) -> Installed:
        return write_and_enable(
            self.runner,
            self.files(launcher),
            self.enable_commands(),
            self.name,
            self.label,
            TASK_NAME,
        )

    def disable(self) -> list[str]:
        problems: list[str] = []
        if not self.path.exists():
            return problems
        out = self.runner.run(["schtasks", "/Delete", "/TN", TASK_NAME, "/F"])
        if not out.ok:
            problems.append(f"schtasks /Delete: {out.problem()}")
        return problems + remove_files([self.path])

    def installed(self) -> bool:
        return self.path.exists()

    def repair_hint(self) -> str:
        return (
            "Scheduled Tasks need the Task Scheduler service; run `twg upkeep enable` from "
            f"your own logged-in session, or run `twg upkeep run --every {INTERVAL}` as a "
            "long-running process."
        )
