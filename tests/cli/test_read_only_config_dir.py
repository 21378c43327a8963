"""A coding agent's sandbox that cannot write the config dir: twg must not spend the
refresh token it could not save ("Nothing was sent"), and says which sandbox to leave.

The directory is made read-only for real: with a read-only bind mount in a private mount
namespace when running as root (root ignores file modes, and CI runs as root), with file
modes otherwise. Either way `twg` runs as a process, as an agent runs it.
"""

from __future__ import annotations

import pytest

from tests.cli.conftest import HOUR, count
from tests.cli.read_only import read_only


@pytest.mark.parametrize(
    ("agent_env", "agent"),
    [({"CLAUDECODE": "1"}, "Claude Code"), ({"CODEX_SANDBOX": "seatbelt"}, "Codex CLI")],
)
def test_a_read_only_config_dir_sends_no_refresh_and_names_the_sandbox(
    logged_in, twg, mock_idp, config_dir, agent_env, agent
):
    mock_idp.clock.advance(9 * HOUR)  # the access token has expired: a refresh is due
    before = len(mock_idp.audit())
    with read_only(config_dir) as wrapper:
        result = twg.run_subprocess("api", "/me", env=agent_env, wrapper=wrapper)

    assert result.code == 74, result.err
    assert "Nothing was sent" in result.err
    assert agent in result.err
    assert "normal terminal" in result.err
    assert [
        e for e in mock_idp.audit()[before:] if e["event"].startswith(("token.", "refresh."))
    ] == []
    # The refresh token is unspent: from a normal terminal the refresh works.
    again = twg.run("api", "/me")
    assert again.code == 0, again.err
    assert count(mock_idp, "token.rotated") == 1
