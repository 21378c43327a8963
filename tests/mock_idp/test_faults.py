"""Fault injection over a real socket: status answers, delays, dropped connections."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from mock_idp.faults import FaultMiddleware
from tests.mock_idp.helpers import events, login


def queue(http: httpx.Client, **spec: object) -> dict[str, object]:
    response = http.post("/_mock/faults", json=spec)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_503_fault_answers_temporarily_unavailable_for_the_next_n_calls(http, idp):
    alice = login(idp)
    queue(http, path="/me", status=503, count=2)
    for _ in range(2):
        response = http.get("/me", headers=alice.headers)
        assert response.status_code == 503
        assert response.json()["error"] == "temporarily_unavailable"
        assert response.headers["content-type"] == "application/json"
        assert response.headers["cache-control"] == "no-store"
    assert http.get("/me", headers=alice.headers).status_code == 200


def test_a_500_fault_answers_server_error(http):
    queue(http, path="/oauth/token", status=500)
    response = http.post("/oauth/token", data={"grant_type": "refresh_token"})
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"
    assert http.post("/oauth/token", data={"grant_type": "x"}).status_code != 500


def test_a_custom_body_is_sent_as_given(http):
    queue(http, path="/me", status=429, body={"message": "slow down"})
    response = http.get("/me")
    assert response.status_code == 429
    assert response.json() == {"message": "slow down"}


def test_method_limits_which_calls_are_faulted(http, idp):
    alice = login(idp)
    queue(http, path="/me", method="post", status=503)
    assert http.get("/me", headers=alice.headers).status_code == 200
    assert http.get("/_mock/faults").json()["faults"][0]["remaining"] == 1
    assert http.post("/me").status_code == 503


def test_a_path_ending_in_star_matches_a_prefix(http, idp):
    alice = login(idp)
    queue(http, path="/ex/jira/*", status=503)
    assert http.get("/me", headers=alice.headers).status_code == 200
    response = http.get(f"/ex/jira/{alice.family.site_id}/rest/api/3/search", headers=alice.headers)
    assert response.status_code == 503


def test_faults_fire_in_the_order_they_were_queued(http):
    queue(http, path="/me", status=500)
    queue(http, path="/me", status=503)
    assert [http.get("/me").status_code for _ in range(3)] == [500, 503, 401]


def test_delay_stalls_then_lets_the_real_request_through(http, idp):
    alice = login(idp)
    queue(http, path="/me", delay=0.4)
    started = time.monotonic()
    response = http.get("/me", headers=alice.headers)
    assert time.monotonic() - started >= 0.4
    assert response.status_code == 200
    assert response.json()["email"] == "alice@example.com"


def test_delay_with_a_status_stalls_then_answers_the_status(http):
    queue(http, path="/me", delay=0.3, status=503)
    started = time.monotonic()
    response = http.get("/me")
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 503


def test_a_delayed_call_does_not_hold_up_other_calls(http, mock_server):
    queue(http, path="/me", delay=60)
    outcome: list[object] = []

    def slow_call() -> None:
        try:
            outcome.append(httpx.get(f"{mock_server.url}/me", timeout=90))
        except httpx.TransportError as exc:
            outcome.append(exc)

    slow = threading.Thread(target=slow_call)
    slow.start()
    fired = threading.Event()
    while not fired.is_set():  # until the stalled call has reached the mock
        fired.wait(0.01)
        if http.get("/_mock/faults").json()["faults"] == []:
            fired.set()
    # Another call is answered while the first one is still stalled.
    assert http.get("/_mock/clock").status_code == 200
    assert slow.is_alive()
    assert outcome == []
    mock_server.stop()  # cancels the stalled call after the stop grace
    slow.join()
    assert len(outcome) == 1


def test_a_client_timeout_during_a_delay_is_a_timeout(http, mock_server):
    queue(http, path="/me", delay=1.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{mock_server.url}/me", timeout=0.3)


def test_drop_cuts_the_connection_so_the_client_gets_a_transport_error(http, idp, mock_server):
    alice = login(idp)
    queue(http, path="/me", drop=True)
    # The contract is "no usable response": the kernel decides whether the client sees
    # the truncated answer and a close (RemoteProtocolError) or a reset (ReadError).
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{mock_server.url}/me", headers=alice.headers, timeout=5)
    assert len(events(idp, "fault.injected")) == 1
    # The next call is served normally, on a fresh connection.
    assert http.get("/me", headers=alice.headers).status_code == 200


def test_drop_works_for_a_posted_body_too(http):
    queue(http, path="/oauth/token", method="POST", drop=True)
    with pytest.raises(httpx.TransportError):
        http.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x"})


def test_the_control_api_is_never_faulted(http):
    response = http.post("/_mock/faults", json={"path": "/_mock/clock", "status": 503})
    assert response.status_code == 400
    assert "never faulted" in response.json()["error_description"]
    queue(http, path="/*", status=503, count=5)
    assert http.get("/_mock/clock").status_code == 200
    assert http.get("/_mock/faults").json()["faults"][0]["remaining"] == 5


def test_list_and_clear_faults(http):
    added = queue(http, path="/oauth/token", method="POST", status=503, count=3)
    listed = http.get("/_mock/faults").json()["faults"]
    assert listed == [added]
    assert added["remaining"] == 3
    assert added["method"] == "POST"
    assert http.delete("/_mock/faults").json() == {"cleared": 1}
    assert http.get("/_mock/faults").json() == {"faults": []}
    assert http.get("/me").status_code == 401


def test_every_fired_fault_is_audited(http, idp):
    fault = queue(http, path="/me", status=503, count=2)
    http.get("/me")
    http.get("/me")
    http.get("/me")
    audit = http.get("/_mock/audit?event=fault.injected").json()["events"]
    assert [e["details"]["fault"] for e in audit] == [fault["id"], fault["id"]]
    assert audit[0]["details"]["path"] == "/me"
    assert audit[0]["details"]["status"] == 503
    assert [e["details"]["remaining"] for e in audit] == [1, 0]
    assert [e["fault"] for e in events(idp, "fault.injected")] == [fault["id"], fault["id"]]


@pytest.mark.parametrize(
    ("spec", "text"),
    [
        ({}, "path"),
        ({"path": "oauth/token", "status": 503}, "path"),
        ({"path": "/me"}, "at least one"),
        ({"path": "/me", "status": 200}, "status"),
        ({"path": "/me", "status": "503"}, "status"),
        ({"path": "/me", "status": 503, "count": 0}, "count"),
        ({"path": "/me", "status": 503, "count": 1.5}, "count"),
        ({"path": "/me", "delay": -1}, "delay"),
        ({"path": "/me", "delay": 10_000}, "delay"),
        ({"path": "/me", "drop": "yes"}, "drop"),
        ({"path": "/me", "drop": True, "status": 503}, "drop"),
        ({"path": "/me", "body": {"x": 1}}, "body"),
        ({"path": "/me", "status": 503, "method": "BREW"}, "method"),
        ({"path": "/me", "status": 503, "colour": "red"}, "colour"),
        (["/me"], "object"),
    ],
)
def test_a_bad_fault_is_400_with_a_clear_reason_and_queues_nothing(http, spec, text):
    response = http.post("/_mock/faults", json=spec)
    assert response.status_code == 400
    assert text in response.json()["error_description"]
    assert http.get("/_mock/faults").json() == {"faults": []}


def test_with_no_fault_queued_the_middleware_hands_the_call_straight_through(idp):
    seen: list[tuple[object, object, object]] = []

    async def app(scope, receive, send):
        seen.append((scope, receive, send))

    middleware = FaultMiddleware(app, idp=idp)
    scope = {"type": "http", "method": "POST", "path": "/oauth/token"}

    async def receive():
        return {}

    async def send(message):
        return None

    # A thread of its own: a session-scoped Playwright (sync API) in the same
    # xdist worker leaves an event loop running on the main thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, middleware(scope, receive, send)).result()
    assert seen == [(scope, receive, send)]
    assert idp.faults is middleware.queue
    assert middleware.queue.pending == []
