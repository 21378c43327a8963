"""The plugin's mock_idp_container fixture (docs/pytest-plugin.md) against the image the
Compose stack built: the same HTTP helpers as the in-process mock."""

from __future__ import annotations

import os

import pytest

from tests.e2e.harness import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


@pytest.fixture(scope="session")
def stack_image(stack: Stack) -> str:
    # compose.yaml tags the mock's build twg:local: reuse it instead of building again.
    os.environ.setdefault("TWG_MOCK_IDP_IMAGE", "twg:local")
    return os.environ["TWG_MOCK_IDP_IMAGE"]


def test_the_container_fixture_drives_the_image_over_http(stack_image, mock_idp_container):
    mock = mock_idp_container
    mock.reset()
    meta = mock.http.get("/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == mock.url
    assert mock.url.startswith("http://127.0.0.1:")
    before = mock.clock.now()
    assert mock.clock.advance(3600) == pytest.approx(before + 3600, abs=5)
    mock.faults.add("/me", status=503)
    assert mock.http.get("/me").status_code == 503
    assert [e["event"] for e in mock.audit("fault.")] == ["fault.queued", "fault.injected"]
    mock.reset()
    assert mock.faults.pending() == []
