"""tests/days_ahead really moves the clock of every process that has it on PYTHONPATH
(the README's test command runs the coverage step that way)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DAYS_AHEAD = Path(__file__).parent / "days_ahead"
NOW = (
    "import datetime, json, time\n"
    "print(json.dumps([time.time(), datetime.datetime.now().timestamp()]))"
)


def clocks(pythonpath: str | None) -> list[float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, "-c", NOW], env=env, capture_output=True, text=True, check=True
    )
    assert done.stderr == ""  # no "Error in sitecustomize"
    return json.loads(done.stdout)


def test_a_process_with_days_ahead_on_its_path_lives_200_days_ahead():
    plain = clocks(None)
    ahead = clocks(str(DAYS_AHEAD))

    for now, later in zip(plain, ahead, strict=True):
        assert abs((later - now) / 86400 - 200) < 0.01
