"""A malformed scenario file is refused before anything runs, with one line naming the
file, the line and the field, so its author knows where to look."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_idp.cli import main
from mock_idp.scenarios.loader import ScenarioFileError, load

GOOD_STEP = "  - login: alice@example.com\n"


def write(tmp_path: Path, text: str, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "title: t\nsteps:\n" + GOOD_STEP + "  - twg: api /me\n    expect:\n      exit: zero\n",
            ":6: steps[1].expect.exit: 'zero' is not of type 'integer'",
        ),
        (
            "title: t\nsteps:\n" + GOOD_STEP + "  - twg: api /me\n    expcet: {exit: 0}\n",
            ":5: steps[1].expcet: unknown field (known here: env, expect, name,"
            " read_only_config, save, stdin, timeout, twg, user)",
        ),
        (
            "title: t\nsteps:\n" + GOOD_STEP + "  - name: nothing to do\n",
            ":4: steps[1]: a step needs exactly one of login, twg, concurrent, advance_clock,"
            " fault, settings, call, authorize, audit, mark, set, restart_mock; it has none",
        ),
        (
            "title: t\nsteps:\n  - twg: api /me\n    login: bob@example.com\n",
            ":3: steps[0]: a step needs exactly one of login, twg, concurrent, advance_clock,"
            " fault, settings, call, authorize, audit, mark, set, restart_mock;"
            " it has login, twg",
        ),
        (
            "steps:\n" + GOOD_STEP,
            ":1: 'title' is required here",
        ),
        (
            "title: t\nsteps:\n" + GOOD_STEP + "  - advance_clock: 8 hours\n",
            ":4: steps[1].advance_clock: '8 hours' is not valid: seconds (a number) or a"
            " duration such as '8h 1m', '31d', '90s' (a leading '-' moves back)",
        ),
        (
            "title: t\nsteps:\n" + GOOD_STEP + "  - audit: {event: token.rotated, count: -1}\n",
            ":4: steps[1].audit.count: -1 is less than the minimum of 0",
        ),
        (
            "title: t\nsteps:\n" + GOOD_STEP + "  - twg: api /me\n    expect:\n"
            "      output_matches: 'unclosed ('\n",
            ":6: steps[1].expect.output_matches: not a valid regex: missing ), unterminated"
            " subpattern at position 9",
        ),
        (
            "title: t\nsteps:\n" + GOOD_STEP + "  - call: {path: /me}\n    call: {path: /x}\n",
            ":5: steps[1].call: appears twice in the same mapping",
        ),
        (
            "title: t\nsteps:\n  - login: [alice\n",
            ":4: not valid YAML: while parsing a flow sequence expected ',' or ']', but got"
            " '<stream end>'",
        ),
        ("", ":1: the file is empty"),
    ],
)
def test_a_malformed_file_names_the_file_line_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ScenarioFileError) as caught:
        load(path)

    assert str(caught.value) == f"{path}{message}"


def test_the_command_reports_every_malformed_file_and_runs_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, "title: t\nsteps:\n  - fault: {path: oauth/token}\n", "a.yaml")
    worse = write(tmp_path, "title: t\nsteps: []\n", "b.yaml")

    code = main(["scenario", "run", str(bad), str(worse)])

    err = capsys.readouterr()
    assert code == 2
    assert err.err.splitlines() == [
        f"twg-mock-idp scenario: {bad}:3: steps[0].fault.path: 'oauth/token' does not match '^/'",
        f"twg-mock-idp scenario: {worse}:2: steps: [] should be non-empty",
    ]
    assert "Running" not in err.out


def test_an_unknown_scenario_name_lists_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "title: t\nsteps:\n" + GOOD_STEP, "known.yaml")

    code = main(["scenario", "run", "--dir", str(tmp_path), "unknown"])

    assert code == 2
    assert capsys.readouterr().err == (
        f"twg-mock-idp scenario: no scenario named 'unknown' in {tmp_path} (known: known)\n"
    )


def test_yaml_anchors_and_merge_keys_may_override_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "title: t\nsteps:\n"
        "  - call: {path: /authorize, query: &q {a: '1', b: '2'}}\n"
        "  - call: {path: /authorize, query: {<<: *q, b: '3'}}\n",
    )

    scenario = load(path)

    assert scenario.steps[1].spec["call"]["query"] == {"a": "1", "b": "3"}
    assert scenario.name == "mine"
    assert [s.line for s in scenario.steps] == [3, 4]


def test_a_file_that_expands_without_bound_is_refused_quickly(tmp_path: Path) -> None:
    rows = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for name, prev in zip("bcdefg", "abcdef", strict=True):
        rows.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    path = write(tmp_path, "\n".join(rows) + "\n")

    with pytest.raises(ScenarioFileError) as caught:
        load(path)

    assert str(caught.value).endswith(": the document is too large or deep")
