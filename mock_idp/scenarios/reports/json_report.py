"""The run as one JSON document (``report.json``), for tools."""

from __future__ import annotations

import json

from mock_idp.scenarios.results import FAILED, PASSED, SKIPPED, RunResult

FORMAT_VERSION = 1


def render(run: RunResult) -> str:
    document = {
        "format": "twg-scenarios-report",
        "version": FORMAT_VERSION,
        "target": run.target,
        "seconds": round(run.seconds, 3),
        "passed": run.count(PASSED),
        "failed": run.count(FAILED),
        "skipped": run.count(SKIPPED),
        "scenarios": [s.to_json() for s in run.scenarios],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
