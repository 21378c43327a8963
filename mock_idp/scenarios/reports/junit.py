"""JUnit XML (``junit.xml``): one test case per scenario, for CI dashboards."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mock_idp.scenarios.reports.markdown import scenario_transcript
from mock_idp.scenarios.results import FAILED, SKIPPED, RunResult

_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def _clean(text: str) -> str:
    """XML 1.0 cannot hold most control characters (a CLI's ANSI escapes, say)."""
    return text.translate(_CONTROL)


def render(run: RunResult) -> str:
    suite = ET.Element(
        "testsuite",
        name="twg scenarios",
        tests=str(len(run.scenarios)),
        failures=str(run.count(FAILED)),
        skipped=str(run.count(SKIPPED)),
        errors="0",
        time=f"{run.seconds:.3f}",
    )
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="target", value=run.target)
    for scenario in run.scenarios:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="scenarios",
            name=scenario.name,
            file=scenario.file,
            time=f"{scenario.seconds:.3f}",
        )
        if scenario.status == FAILED:
            step = scenario.failed_step
            message = (
                f"step {step.index} ({step.title}): {step.message}" if step else scenario.message
            )
            failure = ET.SubElement(case, "failure", message=_clean(message), type="ScenarioFailed")
            failure.text = _clean(message)
        elif scenario.status == SKIPPED:
            ET.SubElement(case, "skipped", message=_clean(scenario.message))
        out = ET.SubElement(case, "system-out")
        out.text = _clean(scenario_transcript(scenario))
    ET.indent(suite)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    )
