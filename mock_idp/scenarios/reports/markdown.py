"""``report.md``: what happened, for a reviewer who does not rerun it. A summary table,
then per scenario its steps, the CLI's output and the mock's audit trail."""

from __future__ import annotations

import json
from typing import Any

from mock_idp.scenarios.results import FAILED, PASSED, SKIPPED, RunResult, ScenarioResult

MARK = {PASSED: "✅", FAILED: "❌", SKIPPED: "⏭️"}
FENCE = "````"  # outputs may hold ``` themselves


def render(run: RunResult) -> str:
    lines = [
        "# twg token scenarios",
        "",
        f"{run.count(PASSED)} passed, {run.count(FAILED)} failed, {run.count(SKIPPED)} skipped "
        f"in {run.seconds:.1f} s against {run.target}. Tokens are shown as `[redacted fp:…]`: "
        "the fingerprint the mock's audit log uses for the same token.",
        "",
        "| scenario | result | steps | seconds |",
        "|---|---|---:|---:|",
    ]
    for s in run.scenarios:
        done = sum(1 for step in s.steps if step.status == PASSED)
        lines.append(
            f"| [{s.name}](#{s.name}) | {MARK.get(s.status, '')} {s.status} | "
            f"{done}/{len(s.steps)} | {s.seconds:.1f} |"
        )
    for s in run.scenarios:
        lines += ["", f'<a id="{s.name}"></a>', "", scenario_transcript(s, heading="##")]
    return "\n".join(lines) + "\n"


def scenario_transcript(s: ScenarioResult, heading: str = "") -> str:
    """One scenario in Markdown; also the JUnit ``system-out`` (without a heading)."""
    out: list[str] = []
    if heading:
        out += [f"{heading} {s.name}: {s.title}", ""]
    out.append(f"{MARK.get(s.status, '')} **{s.status}** in {s.seconds:.1f} s ({s.file})")
    if s.description:
        out += ["", s.description]
    if s.message:
        out += ["", f"> {s.message}"]
    out += ["", "### Steps" if heading else "Steps:", ""]
    for step in s.steps:
        where = f" (line {step.line})" if step.line else ""
        out.append(f"{step.index}. **{step.status}** {step.title}{where}")
        if step.message:
            out.append(f"   - ❌ {step.message}")
        for note in step.notes:
            out.append(f"   - {note}")
        for command in step.commands:
            out.append(f"   - `{' '.join(command.argv)}` exited {command.exit}")
            for name, text in (("stdout", command.stdout), ("stderr", command.stderr)):
                if text.strip():
                    out += [f"     {name}:", "", _block(text, indent="     "), ""]
        for exchange in step.http:
            status = exchange.get("status")
            out.append(f"   - `{exchange.get('request')}` → HTTP {status}")
            if exchange.get("body") is not None:
                out += ["", "     sent:", "", _block(_json(exchange["body"]), indent="     "), ""]
            if exchange.get("location"):
                out.append(f"     Location: `{exchange['location']}`")
            if exchange.get("response") not in (None, ""):
                out += [
                    "     answered:",
                    "",
                    _block(_json(exchange["response"]), indent="     "),
                    "",
                ]
    out += ["", "### Audit trail at the mock" if heading else "Audit trail at the mock:", ""]
    if not s.audit:
        out.append("(none recorded)")
    else:
        out += ["| id | mock time | event | details |", "|---:|---|---|---|"]
        for event in s.audit:
            details = json.dumps(event.get("details") or {}, sort_keys=True).replace("|", "\\|")
            out.append(
                f"| {event.get('id')} | {event.get('at_iso', '')} | {event.get('event')} | "
                f"`{details}` |"
            )
    return "\n".join(out)


def _json(value: Any) -> str:
    if isinstance(value, str):
        return value
    compact = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return compact if len(compact) <= 100 else json.dumps(value, indent=2, sort_keys=True)


def _block(text: str, indent: str) -> str:
    body = "\n".join(indent + line for line in text.rstrip("\n").splitlines())
    return f"{indent}{FENCE}\n{body}\n{indent}{FENCE}"
