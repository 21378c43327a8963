"""The runner against the real mock: a failing expectation fails its scenario and the
exit code, reports hide every token, JUnit XML parses, and --against drives a mock
started elsewhere with its control token."""

from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_idp.app import create_app
from mock_idp.cli import main
from mock_idp.server import BackgroundServer
from mock_idp.settings import Settings

PASSING = """\
title: Alice signs in
steps:
  - login: alice@example.com
  - twg: auth status --json
    expect:
      json: {account.email: alice@example.com}
"""

FAILING = """\
title: Expects the wrong person
steps:
  - login: alice@example.com
  - name: this expectation is wrong on purpose
    twg: auth status --json
    expect:
      json: {account.email: bob@example.com}
  - advance_clock: 1h
"""

TOKENS = """\
title: Tokens pass through the CLI and the answers
settings: {refresh_reuse_grace: 0}  # strict: a replay is reuse at once
steps:
  - login: alice@example.com
  - set: {old: "${credentials.refresh_token}"}
  - call:
      method: POST
      path: /oauth/token
      form: {grant_type: refresh_token, refresh_token: "${old}", client_id: twg-cli}
    expect: {status: 200}
  - call: {path: /_mock/sessions}
    expect: {status: 200}
  - name: the CLI's own copy is now a rotated one, so its next refresh is refused
    twg: auth refresh --force --json
    expect:
      exit: 77
"""

RESTART = """\
title: Restarts the mock
steps:
  - restart_mock: true
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_failing_expectation_fails_its_scenario_and_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path / "s", "good", PASSING)
    bad = write(tmp_path / "s", "bad", FAILING)

    code = main(["scenario", "run", str(good), str(bad), "--report", str(tmp_path / "out")])

    out = capsys.readouterr().out
    assert code == 1
    assert "[2/2] bad: FAILED" in out
    assert "    step 2 (line 4): this expectation is wrong on purpose\n" in out
    assert '    account.email is "alice@example.com", expected "bob@example.com"\n' in out
    assert re.search(r"^good +passed +2/2 ", out, re.M)
    assert re.search(r"^bad +FAILED +1/3 ", out, re.M)
    assert "1 passed, 1 failed, 0 skipped in" in out
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    steps = report["scenarios"][1]["steps"]
    assert [s["status"] for s in steps] == ["passed", "failed", "not run"]


def test_reports_show_fingerprints_the_audit_log_uses_never_a_token(tmp_path: Path) -> None:
    scenario = write(tmp_path / "s", "tokens", TOKENS)

    code = main(["scenario", "run", str(scenario), "--report", str(tmp_path / "out")])

    assert code == 0
    texts = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "out").iterdir()}
    assert sorted(texts) == ["junit.xml", "report.json", "report.md"]
    report = json.loads(texts["report.json"])["scenarios"][0]
    rotated = [e for e in report["audit"] if e["event"] == "token.rotated"]
    assert len(rotated) == 1
    old_fp = rotated[0]["details"]["old_refresh_fp"]
    # Fingerprints stay readable, in the audit trail and in answers that list them.
    assert re.fullmatch(r"[0-9a-f]{12}", rotated[0]["details"]["refresh_fp"])
    sessions = report["steps"][3]["http"][0]["response"]["sessions"]
    assert sessions[0]["refresh_token_fp"] == rotated[0]["details"]["refresh_fp"]
    for name, text in texts.items():
        # What the mock hands out is 43 URL-safe characters: none survives in a report.
        assert re.findall(r"[A-Za-z0-9_-]{40,}", text) == [], name
        assert f"[redacted fp:{old_fp}]" in text, name


def test_junit_xml_has_a_test_case_per_scenario_with_failures_and_skips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "control-token"
    token_file.write_text("the-control-token\n", encoding="utf-8")
    monkeypatch.setenv("TWG_MOCK_CONTROL_TOKEN_FILE", str(token_file))
    files = [
        write(tmp_path / "s", "good", PASSING),
        write(tmp_path / "s", "bad", FAILING),
        write(tmp_path / "s", "restart", RESTART),
    ]
    app = create_app(Settings(control_token="the-control-token"))

    with BackgroundServer(app) as server:
        code = main(
            [
                "scenario",
                "run",
                *map(str, files),
                "--against",
                server.url,
                "--report",
                str(tmp_path / "out"),
            ]
        )

    out = capsys.readouterr().out
    assert code == 1
    assert f"Running 3 scenario(s) against the mock at {server.url}" in out
    assert "[3/3] restart: skipped" in out
    suite = ET.fromstring((tmp_path / "out" / "junit.xml").read_text(encoding="utf-8"))  # noqa: S314
    assert (suite.tag, suite.get("tests"), suite.get("failures"), suite.get("skipped")) == (
        "testsuite",
        "3",
        "1",
        "1",
    )
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert sorted(cases) == ["bad", "good", "restart"]
    failure = cases["bad"].find("failure")
    assert failure is not None
    assert failure.get("message") == (
        'step 2 (this expectation is wrong on purpose): account.email is "alice@example.com",'
        ' expected "bob@example.com"'
    )
    skipped = cases["restart"].find("skipped")
    assert skipped is not None
    assert "needs the in-process mock" in (skipped.get("message") or "")
    assert cases["good"].find("failure") is None
    assert "twg auth status --json` exited 0" in (cases["good"].findtext("system-out") or "")


def test_a_mock_given_with_against_is_left_fresh_with_its_own_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write(
        tmp_path / "s",
        "moves",
        """\
title: Moves the clock and changes a setting
settings: {refresh_reuse_grace: 0}
steps:
  - login: alice@example.com
  - advance_clock: 31d
""",
    )
    app = create_app(Settings(access_token_ttl=600))
    with BackgroundServer(app) as server:
        code = main(["scenario", "run", str(scenario), "--against", server.url])
        control = httpx.Client(base_url=server.url)
        clock = control.get("/_mock/clock").json()
        settings = control.get("/_mock/settings").json()
        sessions = control.get("/_mock/sessions").json()["sessions"]
        control.close()

    assert code == 0, capsys.readouterr().out
    assert clock["offset"] == 0
    assert (settings["access_token_ttl"], settings["refresh_reuse_grace"]) == (600, 600)
    assert sessions == []


@pytest.fixture
def guarded_mock() -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app(Settings(control_token="the-control-token"))) as server:
        yield server


def test_against_a_mock_without_its_control_token_exits_69_and_says_which(
    tmp_path: Path, guarded_mock: BackgroundServer, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write(tmp_path / "s", "good", PASSING)

    code = main(["scenario", "run", str(scenario), "--against", guarded_mock.url])

    assert code == 69
    assert capsys.readouterr().err == (
        f"twg-mock-idp scenario: the mock at {guarded_mock.url} wants a control token: set "
        "TWG_MOCK_CONTROL_TOKEN or TWG_MOCK_CONTROL_TOKEN_FILE\n"
    )


def test_against_a_mock_nobody_runs_exits_69(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write(tmp_path / "s", "good", PASSING)
    with BackgroundServer(create_app()) as server:
        gone = server.url  # a loopback port that was just closed

    code = main(["scenario", "run", str(scenario), "--against", gone])

    assert code == 69
    assert capsys.readouterr().err.startswith(
        f"twg-mock-idp scenario: POST {gone}/_mock/reset failed: "
    )


def test_settings_the_mock_refuses_fail_the_scenario_with_its_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write(
        tmp_path / "s",
        "typo",
        "title: A setting with a typo\nsettings: {refresh_reuse_gracee: 0}\nsteps:\n"
        "  - advance_clock: 1h\n",
    )

    code = main(["scenario", "run", str(scenario)])

    assert code == 1
    out = capsys.readouterr().out
    assert "[1/1] typo: FAILED" in out
    assert (
        "    settings: PATCH /_mock/settings answered HTTP 400: "
        "Unknown setting 'refresh_reuse_gracee'.\n"
    ) in out


def test_against_something_that_is_not_a_url_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write(tmp_path / "s", "good", PASSING)

    code = main(["scenario", "run", str(scenario), "--against", "mock-idp:8080"])

    assert code == 2
    assert capsys.readouterr().err == (
        "twg-mock-idp scenario: --against 'mock-idp:8080' is not an http(s) URL, "
        "e.g. http://127.0.0.1:8080\n"
    )


def test_a_scenarios_settings_do_not_leak_into_the_next_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refresh = (
        "  - call:\n      method: POST\n      path: /oauth/token\n"
        "      form: {grant_type: refresh_token, refresh_token: nonsense, client_id: twg-cli}\n"
        "    expect: {status: STATUS, json: {error: invalid_grant}}\n"
    )
    first = write(
        tmp_path / "s",
        "a-changes",
        "title: RFC status\nsettings: {invalid_grant_status: 400}\nsteps:\n"
        + refresh.replace("STATUS", "400"),
    )
    second = write(
        tmp_path / "s",
        "b-inherits-nothing",
        "title: The mock's own status\nsteps:\n" + refresh.replace("STATUS", "403"),
    )
    third = write(
        tmp_path / "s",
        "c-changes-again",
        "title: RFC status again\nsettings: {invalid_grant_status: 400}\nsteps:\n"
        + refresh.replace("STATUS", "400"),
    )
    # A mock someone started the Atlassian way; the run must leave it (and each
    # scenario) with that setting, whatever an earlier scenario changed.
    app = create_app(Settings(invalid_grant_status=403))

    with BackgroundServer(app) as server:
        code = main(
            ["scenario", "run", str(first), str(second), str(third), "--against", server.url]
        )

    assert code == 0, capsys.readouterr().out
    # ... and the mock is left as it was found.
    assert app.state.idp.settings.invalid_grant_status == 403


def _can_make_read_only(directory: Path) -> bool:
    """Root ignores modes: the runner then needs chattr +i, which some file systems refuse."""
    if os.geteuid() != 0:
        return True
    probe = directory / "probe"
    probe.mkdir()
    done = subprocess.run(["chattr", "+i", str(probe)], capture_output=True, check=False)
    subprocess.run(["chattr", "-i", str(probe)], capture_output=True, check=False)
    return done.returncode == 0


def test_read_only_config_runs_a_command_as_a_sandbox_would_and_puts_the_directory_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not _can_make_read_only(tmp_path):
        pytest.skip("running as root on a file system without chattr +i")
    scenario = write(
        tmp_path / "s",
        "sandboxed",
        """\
title: A sandboxed refresh sends nothing
steps:
  - login: alice@example.com
  - twg: auth refresh --force
    read_only_config: true
    expect:
      exit: 74
      stderr_contains: Nothing was sent; your refresh token is unspent
  - audit: {event: token.rotated, count: 0}
  - name: afterwards the directory is writable again
    twg: auth refresh --force
  - audit: {event: token.rotated, count: 1}
""",
    )

    code = main(["scenario", "run", str(scenario)])

    assert code == 0, capsys.readouterr().out


def test_advance_clock_with_machine_moves_the_clock_twg_sees_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `upkeep status` asks no server: only twg's own clock decides whether 31 days
    # passed since the login.
    scenario = write(
        tmp_path / "s",
        "clocks",
        """\
title: Only machine true moves twg's clock
steps:
  - login: alice@example.com
  - advance_clock: 31d
  - twg: upkeep status --json
    expect: {json: {inactivity.stopped: false}}
  - advance_clock: {by: 31d, machine: true}
  - twg: upkeep status --json
    expect: {json: {inactivity.stopped: true}}
""",
    )

    code = main(["scenario", "run", str(scenario), "--report", str(tmp_path / "out")])

    assert code == 0, capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    steps = report["scenarios"][0]["steps"]
    assert steps[3]["title"] == "move the mock's and twg's clocks by 31d"
    assert steps[3]["notes"][1] == "twg's clock now +31d from the machine's"
