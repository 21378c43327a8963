"""Run scenarios one after another, each isolated: a fresh config directory for the CLI,
``POST /_mock/reset`` (or a fresh mock of its own), the scenario's settings, its steps."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Protocol, TextIO

from mock_idp.scenarios.loader import Scenario, Step
from mock_idp.scenarios.redaction import Redactor
from mock_idp.scenarios.results import (
    FAILED,
    NOT_RUN,
    PASSED,
    SKIPPED,
    RunResult,
    ScenarioResult,
    StepResult,
)
from mock_idp.scenarios.steps import Context, StepFailed, run_step
from mock_idp.scenarios.target import MockControl, TargetError
from mock_idp.scenarios.twg_process import TwgCli, read_only_unavailable
from mock_idp.scenarios.variables import Variables


class ScenarioSetupError(Exception):
    """The scenario's own set-up (its settings block) was refused by the mock."""


class Target(Protocol):
    in_process: bool
    description: str

    def start_scenario(self, own_mock: bool) -> MockControl: ...
    def restart(self) -> None: ...
    def end_scenario(self) -> None: ...


class Progress:
    """Progress on a terminal (the current step, rewritten in place); one line per
    scenario otherwise (CI logs)."""

    def __init__(self, stream: TextIO, live: bool) -> None:
        self.stream = stream
        self.live = live

    def scenario_started(self, number: int, total: int, scenario: Scenario) -> None:
        self._prefix = f"[{number}/{total}] {scenario.name}"
        if self.live:
            self._write(f"\r\033[K{self._prefix} ...")

    def step_started(self, step: Step, total: int) -> None:
        if self.live:
            self._write(f"\r\033[K{self._prefix}: step {step.index}/{total} {step.title[:60]}")

    def scenario_done(self, result: ScenarioResult) -> None:
        start = "\r\033[K" if self.live else ""
        mark = {PASSED: "ok", FAILED: "FAILED", SKIPPED: "skipped"}[result.status]
        self._write(f"{start}{self._prefix}: {mark} ({result.seconds:.1f} s)\n")
        failed = result.failed_step
        if failed is not None:
            where = f" (line {failed.line})" if failed.line else ""
            self._write(f"    step {failed.index}{where}: {failed.title}\n")
            self._write(f"    {failed.message}\n")
        elif result.message:
            self._write(f"    {result.message}\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def run_all(scenarios: list[Scenario], target: Target, progress: Progress) -> RunResult:
    run = RunResult(target=target.description)
    started = time.monotonic()
    for number, scenario in enumerate(scenarios, 1):
        progress.scenario_started(number, len(scenarios), scenario)
        result = run_scenario(scenario, target, progress)
        run.scenarios.append(result)
        progress.scenario_done(result)
    run.seconds = time.monotonic() - started
    return run


def run_scenario(scenario: Scenario, target: Target, progress: Progress | None) -> ScenarioResult:
    result = ScenarioResult(scenario.name, scenario.title, str(scenario.file), scenario.description)
    result.steps = [StepResult(s.index, s.kind, s.title, s.line) for s in scenario.steps]
    if scenario.needs_own_mock and not target.in_process:
        result.status = SKIPPED
        result.message = (
            "restart_mock needs the in-process mock (the runner cannot restart a mock it did "
            "not start); run it without --against"
        )
        return result
    why_not = read_only_unavailable() if scenario.needs_read_only_config else None
    if why_not:
        result.status = SKIPPED
        result.message = f"read_only_config: {why_not}; run it as a non-root user or in-process"
        return result
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="twg-scenario-"))
    redactor = Redactor()
    redactor.alias(str(workdir), "$SCENARIO_DIR")
    control: MockControl | None = None
    try:
        control = target.start_scenario(scenario.needs_own_mock)
        cli = TwgCli(workdir, control.url)
        ctx = Context(
            control=control,
            target=target,
            cli=cli,
            variables=Variables(
                {"mock_url": control.url, "python": sys.executable}, cli.credentials
            ),
            redactor=redactor,
        )
        if scenario.settings:
            try:
                control.control("PATCH", "/_mock/settings", scenario.settings)
            except TargetError as exc:
                raise ScenarioSetupError(f"settings: {exc}") from None
        ctx.start_audit_id = 0  # the reset emptied the audit log
        for step, step_result in zip(scenario.steps, result.steps, strict=True):
            if progress is not None:
                progress.step_started(step, len(scenario.steps))
            step_started = time.monotonic()
            try:
                run_step(step, ctx, step_result)
                step_result.status = PASSED
            except StepFailed as exc:
                step_result.status = FAILED
                step_result.message = str(exc)
                result.status = FAILED
            finally:
                step_result.seconds = time.monotonic() - step_started
            if result.status == FAILED:
                break
        result.audit = control.audit(0)
    except ScenarioSetupError as exc:
        result.status = FAILED
        result.message = str(exc)
    except TargetError as exc:
        result.status = FAILED
        result.message = f"the mock could not be used: {exc}"
    finally:
        if control is not None:
            control.close()
        target.end_scenario()
        shutil.rmtree(workdir, ignore_errors=True)
    result.seconds = time.monotonic() - started
    for step_result in result.steps:
        if step_result.status == NOT_RUN:
            step_result.message = ""
    return _redacted(result, redactor)


def _redacted(result: ScenarioResult, redactor: Redactor) -> ScenarioResult:
    result.message = redactor.text(result.message)
    for step in result.steps:
        step.message = redactor.text(step.message)
        step.notes = [redactor.text(n) for n in step.notes]
        step.http = redactor.deep(step.http)
        for command in step.commands:
            command.argv = [redactor.text(a) for a in command.argv]
            command.stdout = redactor.text(command.stdout)
            command.stderr = redactor.text(command.stderr)
    result.audit = redactor.deep(result.audit)
    return result


def summary_table(run: RunResult) -> str:
    """The table printed at the end: one row per scenario, then the totals."""
    rows = [("scenario", "result", "steps", "seconds")]
    for s in run.scenarios:
        done = sum(1 for step in s.steps if step.status == PASSED)
        rows.append(
            (
                s.name,
                s.status.upper() if s.status == FAILED else s.status,
                f"{done}/{len(s.steps)}",
                f"{s.seconds:.1f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) if i < 2 else row[i].rjust(widths[i]) for i in range(4)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    totals = (
        f"{run.count(PASSED)} passed, {run.count(FAILED)} failed, {run.count(SKIPPED)} skipped"
        f" in {run.seconds:.1f} s against {run.target}"
    )
    return "\n".join([*lines, "", totals])
