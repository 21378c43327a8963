"""A logging handler for command-line tools that may run more than once per process
(tests run them in-process, under captured streams)."""

from __future__ import annotations

import logging
import sys
from typing import Any


class CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is logged, not the stream of the
    moment it was set up: a run that has ended must not leave a closed stream behind."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def install(logger: logging.Logger, handler: CurrentStderrHandler) -> None:
    """Add ``handler``, replacing one this module added before (one line, not two)."""
    for old in [h for h in logger.handlers if isinstance(h, CurrentStderrHandler)]:
        logger.removeHandler(old)
    logger.addHandler(handler)
