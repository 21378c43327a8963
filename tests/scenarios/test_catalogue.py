"""The catalogue (scenarios/*.yaml) is the project's own source of truth: every scenario
passes against the in-process mock, and the pending ones are at least well formed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mock_idp.cli import main
from mock_idp.scenarios.catalogue_doc import render
from mock_idp.scenarios.loader import load

CATALOGUE = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_every_catalogue_scenario_passes_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scenario", "run", "--dir", str(CATALOGUE), "--report", str(tmp_path)])

    out = capsys.readouterr().out
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    failed = {
        s["name"]: s["message"] or s["steps"]
        for s in report["scenarios"]
        if s["status"] != "passed"
    }
    assert failed == {}, out
    assert code == 0
    assert {s["name"] for s in report["scenarios"]} == {p.stem for p in CATALOGUE.glob("*.yaml")}


@pytest.mark.parametrize(
    "path",
    sorted((CATALOGUE / "pending").glob("*.yaml")),
    ids=lambda p: p.stem,
)
def test_pending_scenarios_are_well_formed_and_name_their_feature(path: Path) -> None:
    scenario = load(path)

    assert scenario.name == path.stem
    assert path.read_text(encoding="utf-8").startswith("# PENDING: issue ")


def test_the_catalogue_page_in_docs_is_generated_from_the_current_files() -> None:
    scenarios = [load(p) for p in sorted(CATALOGUE.glob("*.yaml"))]
    page = CATALOGUE.parent / "docs" / "scenario-catalogue.md"

    assert page.read_text(encoding="utf-8") == render(scenarios), (
        "docs/scenario-catalogue.md is stale: run "
        "`twg-mock-idp scenario list --markdown > docs/scenario-catalogue.md`"
    )
