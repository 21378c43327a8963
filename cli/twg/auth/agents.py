"""Detecting a coding agent (or CI) from the environment.

Agents usually run commands in a sandbox that cannot write to ~/.config: refreshing
there would spend a single-use refresh token and lose its replacement.
"""

from __future__ import annotations

from collections.abc import Mapping

# Environment variable -> agent name, in the order we check them.
AGENT_MARKERS: tuple[tuple[str, str], ...] = (
    ("CLAUDECODE", "Claude Code"),
    ("CLAUDE_CODE_ENTRYPOINT", "Claude Code"),
    ("CODEX_SANDBOX", "Codex CLI"),
    ("CODEX_SANDBOX_NETWORK_DISABLED", "Codex CLI"),
    ("CURSOR_AGENT", "Cursor agent"),
    ("CURSOR_TRACE_ID", "Cursor"),
    ("GEMINI_CLI", "Gemini CLI"),
    ("AIDER_MODEL", "Aider"),
    ("CLINE_TASK_ID", "Cline"),
)

# What to change in each agent so the config directory becomes writable.
AGENT_FIXES: dict[str, str] = {
    "Claude Code": "add the twg config directory to the sandbox's allowed write paths",
    "Codex CLI": "run with a sandbox mode that allows writes to the twg config directory",
    "Cursor agent": "allow the agent to write to the twg config directory",
    "Gemini CLI": "allow the sandbox to write to the twg config directory",
}


def detect_agent(environ: Mapping[str, str]) -> str | None:
    for name, agent in AGENT_MARKERS:
        if environ.get(name):
            return agent
    return None


def is_ci(environ: Mapping[str, str]) -> bool:
    value = environ.get("CI", "").strip().lower()
    return value not in {"", "0", "false", "no"}


def agent_fix(agent: str) -> str:
    return AGENT_FIXES.get(agent, "allow it to write to the twg config directory")
