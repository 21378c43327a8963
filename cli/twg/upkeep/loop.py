"""The foreground loop: ``twg upkeep run --every N`` for containers and sidecars, where no
OS scheduler exists. One pass, wait, repeat, until stopped (SIGTERM, Ctrl-C)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable


class StopLoop(Exception):
    """Raised by an injected wait to end the loop (tests); SIGTERM sets the stop event."""


def run_loop(
    one_pass: Callable[[], int],
    every: float,
    wait: Callable[[float], None] | None = None,
) -> int:
    """Run ``one_pass`` every ``every`` seconds. A failed pass is recorded by the pass
    and the loop goes on: the next one may well succeed (network back, lock free)."""
    stop = threading.Event()
    previous = _stop_on_sigterm(stop)
    try:
        while not stop.is_set():
            one_pass()
            if stop.is_set():
                break
            try:
                if wait is not None:
                    wait(every)
                else:
                    stop.wait(every)
            except StopLoop:
                break
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _stop_on_sigterm(stop: threading.Event) -> signal.Handlers | Callable[..., object] | None:
    """`docker compose stop` sends SIGTERM: finish the pass in hand (a refresh is never
    cut between its two saves), then exit 0."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: object) -> None:
        stop.set()

    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, handler)
    return previous  # type: ignore[return-value]
