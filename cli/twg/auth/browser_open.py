"""Opening a URL in the user's browser, with a reason when that fails.

With BROWSER set we run the command ourselves (as Python's ``webbrowser`` would: each
``os.pathsep``-separated entry, ``%s`` replaced by the URL or the URL appended) so that a
command that exits non-zero (the mock's robot refusing a user, a typo) ends the login at
once with the command's own last words, instead of a silent wait for a callback that will
never come. Without BROWSER, ``webbrowser`` picks the desktop's browser.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from twg.auth.redact import redact

TICK = 0.25  # seconds between checks on the browser and the countdown


class BrowserUnavailable(Exception):
    """No browser could be opened (the caller may offer the device flow)."""


class BrowserFailed(Exception):
    """The browser command ran and failed; ``reason`` says how, for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _argv(entry: str, url: str) -> list[str]:
    parts = shlex.split(entry)
    if any("%s" in part for part in parts):
        return [part.replace("%s", url) for part in parts]
    return [*parts, url]


def open_in_browser(url: str, environ: Mapping[str, str], timeout: float) -> bool:
    """True when a browser took the URL; False when none could be found; BrowserFailed
    when the BROWSER command failed or did not finish within ``timeout`` seconds."""
    browser = environ.get("BROWSER", "").strip()
    if not browser:
        import webbrowser

        try:
            return webbrowser.open(url)
        except webbrowser.Error:
            return False
    missing: list[str] = []
    for entry in browser.split(os.pathsep):
        if not entry.strip():
            continue
        try:
            argv = _argv(entry, url)
        except ValueError as exc:  # unbalanced quotes
            raise BrowserFailed(f"BROWSER={entry!r} cannot be parsed ({exc})") from None
        name = os.path.basename(argv[0])
        try:
            done = subprocess.run(  # noqa: S603 (the user's own BROWSER setting)
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            missing.append(name)
            continue  # like webbrowser: try the next entry
        except subprocess.TimeoutExpired:
            raise BrowserFailed(
                f"the browser command {name!r} did not finish within {timeout:g} seconds"
            ) from None
        except OSError as exc:
            raise BrowserFailed(f"the browser command {name!r} could not run ({exc})") from None
        if done.returncode == 0:
            return True
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        said = f": {redact(lines[-1].strip())}" if lines else ""
        raise BrowserFailed(
            f"the browser command {name!r} exited with status {done.returncode}{said}"
        )
    raise BrowserFailed(f"BROWSER names no command that exists here ({', '.join(missing)})")


class BrowserLaunch:
    """Runs an opener in a background thread, so the caller keeps waiting for the callback
    (a headless browser follows the redirect and waits for our answer) and can ask, while
    it waits, whether the browser already gave up."""

    def __init__(self, opener: Callable[[str], bool], url: str) -> None:
        self._result: list[bool] = []
        self._error: list[BaseException] = []

        def target() -> None:
            try:
                self._result.append(opener(url))
            except BaseException as exc:  # handed to the waiting thread by check()
                self._error.append(exc)

        self._thread = threading.Thread(target=target, name="twg-browser", daemon=True)
        self._thread.start()

    def check(self) -> bool:
        """False when no browser could be opened; raises what the opener raised (e.g.
        BrowserFailed); True while it runs or after it succeeded."""
        if self._error:
            raise self._error[0]
        return not self._result or self._result[0]


class CallbackWaiter(Protocol):
    def wait(self, timeout: float) -> dict[str, str] | None: ...


def wait_for_callback(
    server: CallbackWaiter,
    url: str,
    open_browser: Callable[[str], bool] | None,
    timeout: float,
    tick: Callable[[float], None] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> dict[str, str] | None:
    """Open ``url`` (unless ``open_browser`` is None: --no-browser) and wait up to
    ``timeout`` seconds for the callback's parameters; None on timeout. A browser that
    fails before the callback arrives ends the wait at once (BrowserFailed), one that
    cannot be opened raises BrowserUnavailable. ``tick`` gets the seconds left, about
    once a second (a countdown on a terminal)."""
    launch = BrowserLaunch(open_browser, url) if open_browser is not None else None
    deadline = monotonic() + timeout
    while True:
        left = deadline - monotonic()
        if left <= 0:
            return None
        if tick is not None:
            tick(left)
        params = server.wait(min(TICK, left))
        if params is not None:
            return params  # a browser that fails after the callback does not matter
        if launch is not None and not launch.check():
            raise BrowserUnavailable
