"""Fixtures for the mock IdP's tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from twg.lazy_tls import trust_store


@pytest.fixture
def http(mock_server) -> Iterator[httpx.Client]:
    """A client of the mock over its real loopback socket (redirects are not followed)."""
    with httpx.Client(base_url=mock_server.url, timeout=10, verify=trust_store()) as client:
        yield client


@pytest.fixture
def web(idp_app) -> Iterator[TestClient]:
    """The mock in-process (no socket), for fast protocol tests; redirects not followed.
    Host 127.0.0.1: the mock serves only loopback and configured hosts."""
    with TestClient(idp_app, base_url="http://127.0.0.1", follow_redirects=False) as client:
        yield client
