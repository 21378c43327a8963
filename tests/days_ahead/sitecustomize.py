"""Every Python process started with this directory on ``PYTHONPATH`` runs with its wall
clock ``DAYS`` days ahead.

This is how the suite proves it does not depend on today's date (README.md, "Set up and
run"): pytest, its xdist workers, and the ``twg`` and ``twg-mock-idp`` processes the tests
start all inherit ``PYTHONPATH`` (tests drop ``TWG_*`` and most other variables from the
environments they build, so the switch is the path itself, and the offset lives here).
time-machine moves ``time.time``, ``datetime.now`` and friends; monotonic clocks, sleeps
and lock timeouts are left alone. libfaketime cannot do this for Python: its version
0.9.10 makes every timed lock wait hang, even at an offset of zero.
"""

import os
import shlex
import time

import time_machine

DAYS = 200

time_machine.travel(time.time() + DAYS * 86400, tick=True).start()

# pytest marks installed plugins (time_machine is one) for assertion rewriting and warns,
# as an error under this project's settings, that this one was imported first.
_IGNORE = "ignore:Module already imported so cannot be rewritten; time_machine:"
os.environ["PYTEST_ADDOPTS"] = shlex.join(
    [*shlex.split(os.environ.get("PYTEST_ADDOPTS", "")), "-W", _IGNORE]
)
