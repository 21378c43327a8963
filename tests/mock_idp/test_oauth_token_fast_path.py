"""The token endpoint's bare ASGI handler behaves like the rest of the mock: the Date
header follows the mock clock, faults apply, odd bodies get RFC 6749 errors."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from mock_idp.seed import CLI_CLIENT_ID
from tests.mock_idp.oauth_flow import browser_login, refresh


def test_token_responses_carry_the_mock_clock_date(http, idp) -> None:
    tokens = browser_login(http)
    idp.clock.advance(20 * 86400)
    answer = refresh(http, tokens["refresh_token"])
    assert answer.status_code == 200
    served = parsedate_to_datetime(answer.headers["date"]).timestamp()
    assert abs(served - idp.clock.now()) < 5


def test_a_queued_fault_still_hits_the_token_endpoint(http, idp) -> None:
    tokens = browser_login(http)
    queued = http.post("/_mock/faults", json={"path": "/oauth/token", "count": 1, "status": 503})
    assert queued.status_code == 201, queued.text
    failed = refresh(http, tokens["refresh_token"])
    assert failed.status_code == 503
    # The fault stopped the request before the grant: the token was not rotated.
    assert refresh(http, tokens["refresh_token"]).status_code == 200


def test_an_oversized_body_is_refused_without_running_a_grant(http) -> None:
    answer = http.post(
        "/oauth/token",
        content=b"grant_type=refresh_token&refresh_token=" + b"x" * 100_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"] == "invalid_request"
    assert answer.headers["cache-control"] == "no-store"


def test_a_chunked_body_is_read_whole(http) -> None:
    tokens = browser_login(http)
    body = (
        f"grant_type=refresh_token&refresh_token={tokens['refresh_token']}"
        f"&client_id={CLI_CLIENT_ID}"
    )

    def chunks():
        yield body[:10].encode()
        yield body[10:].encode()

    answer = http.post(
        "/oauth/token",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text


def test_success_and_error_answers_are_json_and_no_store(http) -> None:
    answer = refresh(http, "unknown")
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["pragma"] == "no-cache"
    assert int(answer.headers["content-length"]) == len(answer.content)


def test_other_methods_and_paths_still_reach_the_application(http) -> None:
    assert http.get("/oauth/token").status_code == 405
    slash = http.post("/oauth/token/")
    assert slash.status_code == 307
    assert slash.headers["location"].endswith("/oauth/token")


def test_the_routed_token_endpoint_gives_the_same_answers(idp_app) -> None:
    """Without the fast path (an app that mounts only the routes) nothing changes."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from mock_idp import oauth_routes

    bare = Starlette(routes=oauth_routes.router.routes)
    bare.state.oauth = idp_app.state.oauth
    loopback = "http://127.0.0.1"
    with (
        TestClient(idp_app, base_url=loopback, follow_redirects=False) as full,
        TestClient(bare, base_url=loopback) as routed,
    ):
        tokens = browser_login(full)
        answer = refresh(routed, tokens["refresh_token"])
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        garbage = routed.post(
            "/oauth/token", content=b"{", headers={"content-type": "Application/JSON"}
        )
        assert garbage.status_code == 400
        assert garbage.json()["error_description"] == "The JSON body is not valid JSON."
