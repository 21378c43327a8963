"""Real-browser tests: Playwright for Python driving the ``chromium`` Debian puts on PATH.

Nothing is downloaded (never ``playwright install``). Without Chromium or Playwright these
tests skip and say why; with ``CI`` set (to anything but 0/false) they fail instead, so CI
cannot pass by skipping them. A failed test keeps a screenshot of the page it was on,
named in the failure report.
"""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_idp.server import BackgroundServer

# Read at import: the root conftest removes CI from each test's environment.
STRICT = os.environ.get("CI", "").strip().lower() not in ("", "0", "false")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    if shutil.which("chromium") is None:
        return "no chromium on PATH (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    why = _unavailable()
    if why is not None:
        if STRICT:
            pytest.fail(f"real-browser tests cannot run with CI set: {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def context(chromium: Any) -> Iterator[Any]:
    """A fresh browser profile (its own cookies) per test."""
    ctx = chromium.new_context()
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any, tmp_path: Path) -> Any:
    return context.new_page()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    shown, tmp = funcargs.get("page"), funcargs.get("tmp_path")
    if shown is None or tmp is None:
        return
    saved: list[str] = []
    for n, open_page in enumerate(shown.context.pages):
        path = tmp / f"failure-{n}.png"
        try:
            open_page.screenshot(path=str(path), full_page=True)
        except Exception as exc:  # a report must never hide the real failure
            saved.append(f"(no screenshot of {open_page.url}: {exc})")
            continue
        saved.append(f"{path}  ({open_page.url})")
    report.sections.append(("screenshots of the browser at the failure", "\n".join(saved)))


@pytest.fixture
def mock(mock_server: BackgroundServer) -> Iterator[httpx.Client]:
    """A plain HTTP client of the mock, for its control API and token endpoint."""
    with httpx.Client(base_url=mock_server.url, timeout=10) as client:
        yield client


class OtherSite:
    """Serves one HTML page at ``http://localhost:PORT/`` while the mock is on 127.0.0.1:
    another site to the browser (another host), as an attacker's page would be."""

    def __init__(self) -> None:
        self.html = "<!doctype html><title>other site</title>"
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                body = site.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://localhost:{self._httpd.server_address[1]}/"

    def serve(self, html: str) -> str:
        self.html = html
        return self.url


@pytest.fixture
def other_site() -> Iterator[OtherSite]:
    site = OtherSite()
    site._thread.start()
    yield site
    site._httpd.shutdown()
    site._httpd.server_close()
