"""Wall time of the whole scenario catalogue against the in-process mock.

Runs ``twg-mock-idp scenario run`` (every ``scenarios/*.yaml``) as a user would, through
its own process, and reports the total and the slowest scenarios from report.json.
``--against URL`` times it against a running mock instead; ``--compose`` times
``docker compose run --rm scenarios`` in a Compose project of its own, once the images
are built and the mock is up (building and starting are not timed).

    python benchmarks/scenarios.py [--runs 1] [--against URL | --compose] [--json]

Target: the whole catalogue in under 60 s (in-process, and in Compose once the images
are built), on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 60.0


def run_once(against: str | None) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="twg-bench-scenarios-") as out:
        cmd = [
            str(Path(sys.executable).with_name("twg-mock-idp")),
            "scenario",
            "run",
            "--dir",
            str(REPO / "scenarios"),
            "--report",
            out,
        ]
        if against:
            cmd += ["--against", against]
        started = time.monotonic()
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        if done.returncode != 0:
            print(done.stdout + done.stderr, file=sys.stderr)
            raise SystemExit(f"the catalogue failed (exit {done.returncode})")
        report = json.loads((Path(out) / "report.json").read_text(encoding="utf-8"))
    per = sorted(((s["seconds"], s["name"]) for s in report["scenarios"]), reverse=True)
    return {"seconds": seconds, "scenarios": len(per), "slowest": per[:3]}


def run_compose(runs: int) -> list[dict[str, object]]:
    env = {**os.environ, "COMPOSE_PROJECT_NAME": f"twg-bench-{uuid.uuid4().hex[:8]}"}
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="twg-bench-scenarios-") as out:
        env["TWG_REPORTS_DIR"] = out
        compose = ["docker", "compose", "--profile", "scenarios"]
        try:
            subprocess.run(
                [*compose, "up", "-d", "--build", "--wait", "mock-idp"],
                cwd=REPO,
                env=env,
                check=True,
                capture_output=True,
            )
            subprocess.run(
                [*compose, "build", "scenarios"], cwd=REPO, env=env, check=True, capture_output=True
            )
            for _ in range(runs):
                started = time.monotonic()
                done = subprocess.run(
                    [*compose, "run", "--rm", "-T", "scenarios"],
                    cwd=REPO,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                seconds = time.monotonic() - started
                if done.returncode != 0:
                    print(done.stdout + done.stderr, file=sys.stderr)
                    raise SystemExit(f"the catalogue failed in Compose (exit {done.returncode})")
                report = json.loads((Path(out) / "report.json").read_text(encoding="utf-8"))
                per = sorted(((s["seconds"], s["name"]) for s in report["scenarios"]), reverse=True)
                results.append({"seconds": seconds, "scenarios": len(per), "slowest": per[:3]})
        finally:
            subprocess.run(
                [*compose, "down", "--volumes"], cwd=REPO, env=env, capture_output=True, check=False
            )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--against", help="a running mock instead of the in-process one")
    parser.add_argument("--compose", action="store_true", help="docker compose run scenarios")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.compose:
        runs = run_compose(args.runs)
    else:
        runs = [run_once(args.against) for _ in range(args.runs)]
    best = min(float(str(r["seconds"])) for r in runs)
    result = {
        "runs": runs,
        "best_seconds": round(best, 2),
        "target_seconds": TARGET_SECONDS,
        "met": best < TARGET_SECONDS,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for r in runs:
            slow = ", ".join(f"{name} {sec:.1f} s" for sec, name in r["slowest"])  # type: ignore[attr-defined]
            print(f"{r['scenarios']} scenarios in {r['seconds']:.1f} s (slowest: {slow})")
        print(
            f"best {best:.1f} s; target < {TARGET_SECONDS:.0f} s: "
            f"{'met' if best < TARGET_SECONDS else 'MISSED'}"
        )
    return 0 if best < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
