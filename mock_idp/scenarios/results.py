"""What a run produced: per scenario its steps, the CLI's output, the HTTP exchanges and
the mock's audit trail. Reports are written from these (already redacted)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_idp.scenarios.twg_process import CommandResult

PASSED, FAILED, SKIPPED, NOT_RUN = "passed", "failed", "skipped", "not run"


@dataclass
class StepResult:
    index: int
    kind: str
    title: str
    line: int | None
    status: str = NOT_RUN
    seconds: float = 0.0
    message: str = ""  # why it failed
    commands: list[CommandResult] = field(default_factory=list)
    http: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "title": self.title,
            "line": self.line,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "message": self.message,
            "commands": [c.to_json() for c in self.commands],
            "http": self.http,
            "notes": self.notes,
        }


@dataclass
class ScenarioResult:
    name: str
    title: str
    file: str
    description: str = ""
    status: str = PASSED
    seconds: float = 0.0
    message: str = ""
    steps: list[StepResult] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if s.status == FAILED), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "file": self.file,
            "description": self.description,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "message": self.message,
            "steps": [s.to_json() for s in self.steps],
            "audit": self.audit,
        }


@dataclass
class RunResult:
    target: str
    scenarios: list[ScenarioResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for s in self.scenarios if s.status == status)

    @property
    def ok(self) -> bool:
        return self.count(FAILED) == 0
