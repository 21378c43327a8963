"""Fixtures for the mock IdP's tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient


@pytest.fixture
def http(mock_server) -> Iterator[httpx.Client]:
    """A client of the mock over its real loopback socket (redirects are not followed)."""
    with httpx.Client(base_url=mock_server.url, timeout=10) as client:
        yield client


@pytest.fixture
def web(idp_app) -> Iterator[TestClient]:
    """The mock in-process (no socket), for fast protocol tests; redirects not followed."""
    with TestClient(idp_app, follow_redirects=False) as client:
        yield client
