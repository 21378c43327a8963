"""Fuzzing: generated requests never make the mock answer 5xx.

schemathesis walks the mock's own OpenAPI document (``/_mock/openapi.json``) in process;
hypothesis drives the routes the document leaves out (OAuth, registration, pages) and the
body parsers directly. Example counts are bounded so the module runs in seconds.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mock_idp.app import create_app
from mock_idp.bodies import (
    MAX_JSON_DEPTH,
    BodyNotText,
    BodyTooDeep,
    json_depth_exceeds,
    loads,
)
from mock_idp.oauth.fast_token import BadBody, parse_params
from mock_idp.settings import Settings
from tests.mock_idp.helpers import BODY_ROUTES

FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


# One app for the module (schemathesis reads its schema at collection time). Starlette's
# in-process client sends "Host: testserver": this app allows it.
APP = create_app(Settings(allowed_hosts=["testserver"]))
schema = schemathesis.openapi.from_asgi("/_mock/openapi.json", APP)


@pytest.fixture(scope="module")
def fuzzed_app() -> Any:
    return APP


@schema.parametrize()
@FAST
def test_the_documented_api_never_answers_5xx(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text[:300])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def client(fuzzed_app: Any) -> Any:
    with TestClient(fuzzed_app, base_url="http://127.0.0.1", follow_redirects=False) as c:
        yield c


@FAST
@given(
    route=st.sampled_from(BODY_ROUTES),
    document=json_values,
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded"]),
)
def test_any_json_on_any_body_route_is_never_a_5xx(
    client: Any, route: tuple[str, str], document: Any, content_type: str
) -> None:
    method, path = route
    body = json.dumps(document).encode()
    response = client.request(method, path, content=body, headers={"Content-Type": content_type})
    assert response.status_code < 500, (path, body[:200], response.text[:300])
    client.post("/_mock/reset", json={})  # a fuzzed seed or setting must not leak


@FAST
@given(route=st.sampled_from(BODY_ROUTES), body=st.binary(max_size=300))
def test_any_bytes_on_any_body_route_are_never_a_5xx(
    client: Any, route: tuple[str, str], body: bytes
) -> None:
    method, path = route
    response = client.request(
        method, path, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, (path, body, response.text[:300])


@FAST
@given(query=st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=60))
def test_any_query_string_is_never_a_5xx(client: Any, query: str) -> None:
    for path in ("/_mock/audit", "/authorize", "/device", "/.well-known/openid-configuration"):
        response = client.get(path + "?" + query)
        assert response.status_code < 500, (path, query)


# the body parsers --------------------------------------------------------------------


@FAST
@given(body=st.binary(max_size=500), json_type=st.booleans())
def test_parse_params_answers_params_or_bad_body(body: bytes, json_type: bool) -> None:
    content_type = "application/json" if json_type else "application/x-www-form-urlencoded"
    try:
        params = parse_params(body, content_type)
    except BadBody:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())


@FAST
@given(document=st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_parse_params_keeps_every_json_string_and_encodes_the_rest(document: Any) -> None:
    params = parse_params(json.dumps(document).encode(), "application/json")
    assert set(params) == set(document)
    for name, value in document.items():
        assert params[name] == (value if isinstance(value, str) else json.dumps(value))


@FAST
@given(depth=st.integers(min_value=0, max_value=200), wrap=st.sampled_from(["[]", "{}"]))
def test_nesting_is_refused_exactly_beyond_the_depth_limit(depth: int, wrap: str) -> None:
    opener, closer = wrap
    inner = '"x"' if opener == "[" else ""
    text = opener * depth + inner + closer * depth
    if wrap == "{}":
        text = '{"k":' * depth + "1" + "}" * depth
    assert json_depth_exceeds(text.encode()) is (depth > MAX_JSON_DEPTH)
    if depth > MAX_JSON_DEPTH:
        with pytest.raises(BodyTooDeep):
            loads(text)
    else:
        assert json.dumps(loads(text)) == json.dumps(json.loads(text))


@FAST
@given(text=st.text(alphabet='[]{}"\\ab,:', max_size=200))
def test_brackets_inside_strings_do_not_count_as_nesting(text: str) -> None:
    quoted = json.dumps(text)  # one string: depth 0, whatever it holds
    assert json_depth_exceeds(("[" + quoted + "]").encode()) is False


@FAST
@given(
    text=st.text(
        st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010, exclude_categories=[]),
        max_size=6,
    )
)
def test_loads_refuses_exactly_the_strings_that_are_not_text(text: str) -> None:
    body = json.dumps({"k": text})  # ensure_ascii: surrogates become \\uXXXX escapes
    decoded = json.loads(body)  # an escaped high+low pair decodes to one character
    try:
        decoded["k"].encode("utf-8")
    except UnicodeEncodeError:
        with pytest.raises(BodyNotText):
            loads(body)
    else:
        assert loads(body) == decoded
