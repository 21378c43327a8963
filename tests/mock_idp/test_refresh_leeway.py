"""The refresh-token reuse leeway, as Atlassian's: by default a client whose answer was
lost can retry and gets the successor it missed; the leeway never yields a second
session, and the strict variant is a setting a scenario turns on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_idp.settings import Settings
from tests.mock_idp.helpers import events
from tests.mock_idp.oauth_flow import browser_login, refresh


@pytest.fixture
def tokens(http: httpx.Client) -> dict[str, Any]:
    return browser_login(http)


def lose_the_next_answer(http: httpx.Client) -> None:
    response = http.post(
        "/_mock/faults", json={"path": "/oauth/token", "drop": True, "after": True}
    )
    assert response.status_code == 201, response.text


def test_the_defaults_are_atlassians(http: httpx.Client) -> None:
    settings = http.get("/_mock/settings").json()
    assert settings["refresh_reuse_grace"] == 600
    assert settings["invalid_grant_status"] == 403
    dead = refresh(http, "never-issued")
    assert dead.status_code == 403
    assert dead.json() == {
        "error": "invalid_grant",
        "error_description": "Unknown or invalid refresh token.",
    }


def test_a_retry_after_a_lost_answer_gets_the_successor_the_answer_held(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    lose_the_next_answer(http)
    with pytest.raises(httpx.TransportError):
        refresh(http, tokens["refresh_token"])
    rotated = events(idp, "token.rotated")
    assert len(rotated) == 1

    retry = refresh(http, tokens["refresh_token"])

    assert retry.status_code == 200, retry.text
    successor = retry.json()["refresh_token"]
    assert successor != tokens["refresh_token"]
    # The very token the lost answer carried, not a second one.
    assert events(idp, "token.rotated")[-1]["refresh_fp"] == rotated[0]["refresh_fp"]
    assert events(idp, "refresh.reuse_within_grace")
    assert refresh(http, successor).status_code == 200


def test_replays_inside_the_leeway_never_make_a_second_lineage(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    first = refresh(http, tokens["refresh_token"]).json()["refresh_token"]
    idp.clock.advance(30)
    replayed = refresh(http, tokens["refresh_token"]).json()["refresh_token"]
    assert replayed == first

    # The lineage moves on: the successor is used ...
    current = refresh(http, first).json()["refresh_token"]
    # ... so the old token yields nothing more, even inside its leeway (a late copy of
    # a request its client gave up on must not kill the live session) ...
    late = refresh(http, tokens["refresh_token"])
    assert late.status_code == 403
    assert late.json()["error_description"] == "Unknown or invalid refresh token."
    assert events(idp, "refresh.rejected")[-1]["why"] == "superseded_within_grace"
    # ... and after the leeway presenting it is reuse: the family dies.
    idp.clock.advance(600)
    reuse = refresh(http, tokens["refresh_token"])
    assert reuse.json()["error_description"] == (
        "Refresh token reuse detected; the session was revoked."
    )
    assert refresh(http, current).status_code == 403
    assert [e["reason"] for e in events(idp, "family.revoked")] == ["reuse_detected"]


def test_an_hour_later_only_one_copy_still_rotates(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    legitimate = refresh(http, tokens["refresh_token"]).json()["refresh_token"]
    thief = refresh(http, tokens["refresh_token"]).json()["refresh_token"]  # inside the leeway
    for _ in range(6):
        idp.clock.advance(600)
        legitimate = refresh(http, legitimate).json()["refresh_token"]
    # The thief's copy was the same token, long since rotated: presenting it kills the family.
    assert refresh(http, thief).status_code == 403
    assert refresh(http, legitimate).status_code == 403


def test_after_the_leeway_a_replay_revokes_the_family(
    http: httpx.Client, tokens: dict[str, Any], idp
) -> None:
    successor = refresh(http, tokens["refresh_token"]).json()["refresh_token"]
    idp.clock.advance(601)
    reuse = refresh(http, tokens["refresh_token"])
    assert reuse.status_code == 403
    assert "reuse detected" in reuse.json()["error_description"]
    assert refresh(http, successor).status_code == 403


class TestStrictVariant:
    @pytest.fixture
    def idp_settings(self) -> Settings:
        return Settings(refresh_reuse_grace=0, invalid_grant_status=400)

    def test_a_retry_after_a_lost_answer_is_reuse(
        self, http: httpx.Client, tokens: dict[str, Any], idp
    ) -> None:
        lose_the_next_answer(http)
        with pytest.raises(httpx.TransportError):
            refresh(http, tokens["refresh_token"])
        retry = refresh(http, tokens["refresh_token"])
        assert retry.status_code == 400
        assert "reuse detected" in retry.json()["error_description"]
