"""The upkeep policy (when a pass refreshes, when inactivity ends it) and upkeep.json,
each on its own."""

from __future__ import annotations

import json

import pytest

from twg.auth.tokens import TokenSet
from twg.errors import ConfigError
from twg.upkeep import state as upkeep_state
from twg.upkeep.policy import Action, Policy

T0 = 1_800_000_000.0
HOUR = 3600
DAY = 86400
# An 8 h token issued at T0: the 75 % threshold is T0 + 6 h, upkeep refreshes from 5 h 45.
TOKENS = TokenSet("at", "rt", issued_at=T0, expires_at=T0 + 8 * HOUR)


@pytest.mark.parametrize(
    ("server_now", "action"),
    [
        (T0 + 5 * HOUR + 44 * 60, Action.WAIT),
        (T0 + 5 * HOUR + 45 * 60, Action.REFRESH),
        (T0 + 9 * HOUR, Action.REFRESH),
    ],
)
def test_a_pass_refreshes_once_the_threshold_is_within_15_minutes(server_now, action):
    assert Policy().decide(TOKENS, server_now, last_use=T0, local_now=server_now) is action


def test_thirty_days_without_use_ends_the_session_even_when_a_refresh_is_due():
    policy = Policy()

    assert policy.decide(TOKENS, T0 + 30 * DAY, T0, T0 + 30 * DAY - 1) is Action.REFRESH
    assert policy.decide(TOKENS, T0 + 30 * DAY, T0, T0 + 30 * DAY) is Action.INACTIVE


def test_nothing_to_do_without_a_session_or_a_refresh_token():
    policy = Policy()
    no_refresh = TokenSet("at", None, issued_at=T0, expires_at=T0 + 8 * HOUR)

    assert policy.decide(None, T0, None, T0) is Action.NOT_LOGGED_IN
    assert policy.decide(no_refresh, T0 + 9 * HOUR, T0, T0) is Action.NO_SESSION


def test_the_window_comes_from_the_environment():
    assert Policy.from_environ({"TWG_UPKEEP_INACTIVITY_DAYS": "7"}).stops_at(T0) == T0 + 7 * DAY
    assert Policy.from_environ({}).stops_at(T0) == T0 + 30 * DAY
    for bad in ("0", "-3", "soon", "99999"):
        with pytest.raises(ConfigError, match="TWG_UPKEEP_INACTIVITY_DAYS"):
            Policy.from_environ({"TWG_UPKEEP_INACTIVITY_DAYS": bad})


def test_a_corrupt_upkeep_json_is_moved_aside_not_deleted(tmp_path):
    (tmp_path / "upkeep.json").write_text("{not json")

    state = upkeep_state.load(tmp_path)

    assert state == upkeep_state.UpkeepState()
    kept = list(tmp_path.glob("upkeep.json.corrupt-*"))
    assert [p.read_text() for p in kept] == ["{not json"]


def test_upkeep_json_round_trips_and_ignores_unknown_keys(tmp_path):
    upkeep_state.save(tmp_path, upkeep_state.UpkeepState(enabled=True, backend="launchd"))
    data = json.loads((tmp_path / "upkeep.json").read_text())
    data["from_a_newer_twg"] = 1
    (tmp_path / "upkeep.json").write_text(json.dumps(data))

    state = upkeep_state.load(tmp_path)

    assert (state.enabled, state.backend) == (True, "launchd")
