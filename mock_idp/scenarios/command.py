"""``twg-mock-idp scenario run|list``: the command line of the scenario runner.

Exit codes: 0 every scenario passed (or was skipped), 1 a scenario failed, 2 a bad
argument or a malformed scenario file, 69 the mock cannot be reached or controlled,
130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

EXIT_FAILED, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_INTERRUPTED = 1, 2, 69, 130
SUFFIXES = (".yaml", ".yml")


def add_parser(commands: Any) -> None:
    scenario = commands.add_parser("scenario", help="run token scenarios (YAML) against the mock")
    actions = scenario.add_subparsers(dest="scenario_command", required=True)
    run = actions.add_parser(
        "run",
        help="run scenarios (default: the whole catalogue)",
        description="Run scenarios against an in-process mock (default) or a running one.",
    )
    run.add_argument(
        "scenarios", nargs="*", metavar="FILE|NAME", help="files, directories or names"
    )
    run.add_argument("--report", metavar="DIR", help="write report.md, junit.xml, report.json here")
    run.add_argument(
        "--against",
        metavar="URL",
        help="a running mock (e.g. http://mock-idp:8080); its control token comes from "
        "TWG_MOCK_CONTROL_TOKEN or TWG_MOCK_CONTROL_TOKEN_FILE",
    )
    run.add_argument("--dir", metavar="DIR", help=_dir_help())
    listing = actions.add_parser("list", help="list the catalogue")
    listing.add_argument("--dir", metavar="DIR", help=_dir_help())
    listing.add_argument(
        "--markdown",
        action="store_true",
        help="print the catalogue page (docs/scenario-catalogue.md)",
    )


def _dir_help() -> str:
    return "the catalogue (default: $TWG_SCENARIOS_DIR, else ./scenarios)"


def catalogue_dir(given: str | None) -> Path:
    if given:
        return Path(given)
    if os.environ.get("TWG_SCENARIOS_DIR"):
        return Path(os.environ["TWG_SCENARIOS_DIR"])
    here = Path("scenarios")
    if here.is_dir():
        return here
    # Running from a source checkout elsewhere: the catalogue beside the package.
    return Path(__file__).resolve().parents[2] / "scenarios"


def main(args: argparse.Namespace) -> int:
    try:
        return _main(args)
    except BrokenPipeError:
        # Output piped into `head` and closed: stop quietly, as other CLIs do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED


def _main(args: argparse.Namespace) -> int:
    directory = catalogue_dir(args.dir)
    try:
        paths = resolve(getattr(args, "scenarios", None) or [], directory)
    except LookupError as exc:
        print(f"twg-mock-idp scenario: {exc}", file=sys.stderr)
        return EXIT_USAGE
    scenarios, errors = _load_all(paths)
    for error in errors:
        print(f"twg-mock-idp scenario: {error}", file=sys.stderr)
    if errors:
        return EXIT_USAGE
    if args.scenario_command == "list" and args.markdown:
        from mock_idp.scenarios.catalogue_doc import render

        print(render(scenarios), end="")
        return 0
    if args.scenario_command == "list":
        width = max((len(s.name) for s in scenarios), default=0)
        for s in scenarios:
            print(f"{s.name.ljust(width)}  {s.title}  ({s.file})")
        return 0
    return _run(scenarios, args)


def resolve(wanted: list[str], directory: Path) -> list[Path]:
    """Files for the arguments: a file, a directory (its *.yaml), or a catalogue name."""
    if not wanted:
        if not directory.is_dir():
            raise LookupError(
                f"no catalogue at {directory}: pass --dir, set TWG_SCENARIOS_DIR, or name files"
            )
        return _yaml_in(directory)
    paths: list[Path] = []
    for item in wanted:
        candidate = Path(item)
        if candidate.is_dir():
            paths += _yaml_in(candidate)
        elif candidate.is_file():
            paths.append(candidate)
        elif candidate.suffix in SUFFIXES or "/" in item:
            raise LookupError(f"{item}: no such file")
        else:
            named = [directory / f"{item}{suffix}" for suffix in SUFFIXES]
            found = next((p for p in named if p.is_file()), None)
            if found is None:
                known = ", ".join(p.stem for p in _yaml_in(directory)) if directory.is_dir() else ""
                raise LookupError(f"no scenario named {item!r} in {directory} (known: {known})")
            paths.append(found)
    return paths


def _yaml_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file())


def _load_all(paths: list[Path]) -> tuple[list[Any], list[str]]:
    from mock_idp.scenarios.loader import ScenarioFileError, load

    scenarios: list[Any] = []
    errors: list[str] = []
    seen: dict[str, Path] = {}
    for path in paths:
        try:
            scenario = load(path)
        except ScenarioFileError as exc:
            errors.append(str(exc))
            continue
        if scenario.name in seen:
            errors.append(
                f"{path}: name: {scenario.name!r} is also the name of {seen[scenario.name]}"
            )
            continue
        seen[scenario.name] = path
        scenarios.append(scenario)
    return scenarios, errors


def _run(scenarios: list[Any], args: argparse.Namespace) -> int:
    from mock_idp.scenarios.reports import write_all
    from mock_idp.scenarios.runner import Progress, run_all, summary_table
    from mock_idp.scenarios.target import (
        InProcessTarget,
        MockControl,
        RemoteTarget,
        TargetError,
        control_token_from_env,
    )

    if not scenarios:
        print("twg-mock-idp scenario: no scenarios to run", file=sys.stderr)
        return EXIT_USAGE
    if args.against and not _is_http_url(args.against):
        print(
            f"twg-mock-idp scenario: --against {args.against!r} is not an http(s) URL, "
            "e.g. http://127.0.0.1:8080",
            file=sys.stderr,
        )
        return EXIT_USAGE
    target: InProcessTarget | RemoteTarget
    try:
        if args.against:
            token = control_token_from_env()
            probe = MockControl(args.against, token)
            try:
                probe.reset()  # reachable, and the control token (if any) is right
            finally:
                probe.close()
            target = RemoteTarget(args.against, token)
        else:
            target = InProcessTarget()
    except TargetError as exc:
        print(f"twg-mock-idp scenario: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    progress = Progress(sys.stdout, live=sys.stdout.isatty())
    print(f"Running {len(scenarios)} scenario(s) against {target.description}", flush=True)
    try:
        with target:
            run = run_all(scenarios, target, progress)
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    print()
    print(summary_table(run))
    if args.report:
        try:
            written = write_all(run, Path(args.report), owner_of=scenarios[0].file.parent)
        except OSError as exc:
            print(
                f"twg-mock-idp scenario: cannot write reports to {args.report}: {exc}",
                file=sys.stderr,
            )
            return EXIT_FAILED
        print("Reports: " + ", ".join(str(p) for p in written))
    return 0 if run.ok else EXIT_FAILED


def _is_http_url(text: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
