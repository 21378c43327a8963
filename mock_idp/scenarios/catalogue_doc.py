"""The catalogue as a Markdown page (docs/scenario-catalogue.md), generated from the
scenario files so the documentation cannot drift from what is run:
``twg-mock-idp scenario list --markdown > docs/scenario-catalogue.md``."""

from __future__ import annotations

from mock_idp.scenarios.loader import Scenario


def render(scenarios: list[Scenario]) -> str:
    lines = [
        "# The scenario catalogue",
        "",
        "<!-- Generated from scenarios/*.yaml by"
        " `twg-mock-idp scenario list --markdown > docs/scenario-catalogue.md`;"
        " tests/scenarios/test_catalogue.py checks it is current. -->",
        "",
        "Every scenario below runs with the real `twg` against the mock"
        " (`./run-scenarios`, `docker compose run --rm scenarios`, and the test suite)."
        " The file is the source; this page only lists what each one shows."
        " Format: [scenarios-format.md](scenarios-format.md).",
        "",
        "| scenario | what it shows |",
        "|---|---|",
    ]
    lines += [f"| [{s.name}](#{s.name}) | {s.title} |" for s in scenarios]
    for s in scenarios:
        lines += ["", f'<a id="{s.name}"></a>', "", f"## {s.title}", ""]
        shown_path = f"{s.file.parent.name}/{s.file.name}"  # the same from any directory
        lines.append(f"`{shown_path}`" + (f": {s.description}" if s.description else ""))
        if s.settings:
            shown = ", ".join(f"`{k}: {v}`" for k, v in s.settings.items())
            lines += ["", f"Mock settings: {shown}."]
        lines.append("")
        lines += [f"{step.index}. {step.title}" for step in s.steps]
    return "\n".join(lines) + "\n"
