"""What upkeep tells people: ``twg upkeep status`` and the line a blocked sandbox adds."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from twg.upkeep import state as upkeep_state
from twg.upkeep import usage
from twg.upkeep.policy import Policy
from twg.upkeep.state import UpkeepState, iso, parse_iso


def loop_active(state: UpkeepState, local_now: float) -> bool:
    """A foreground loop ran within two of its intervals."""
    last = parse_iso(state.last_run)
    every = state.interval_seconds or 0
    return state.backend == "loop" and last is not None and local_now - last < 2 * every


def blocked_hint(config_dir: Path) -> str | None:
    """Appended to "cannot refresh here": whether upkeep should be doing it, and how to
    turn it on when it is off."""
    state = upkeep_state.load(config_dir)
    if state.enabled or state.backend == "loop":
        last = f"; last run {state.last_run}: {state.result}" if state.last_run else ""
        return (
            f"Upkeep is on ({state.backend}{last}) and refreshes the session before it "
            "expires while twg is in use; if this keeps happening, check "
            "`twg upkeep status` in a normal terminal."
        )
    return (
        "Upkeep is off: run `twg setup` (or `twg upkeep enable`) once in a normal terminal "
        "and twg keeps the session fresh for sandboxed agents."
    )


def inactivity_rule(policy: Policy) -> str:
    days = f"{policy.inactivity_days:g}"
    return (
        "Upkeep keeps the session alive only while someone uses twg on this machine. "
        f"After {days} days without any use it stops refreshing and ends the session, "
        "so an abandoned machine's session expires; the next `twg login` starts a new one."
    )


def last_use_seen(
    environ: Mapping[str, str], logged_in_at: float | None
) -> tuple[float | None, str | None]:
    """The newest use: a marker, or the login itself (which is a use)."""
    seen = usage.last_use(environ)
    if seen is not None and (logged_in_at is None or seen[0] >= logged_in_at):
        return seen[0], str(seen[1])
    if logged_in_at is not None:
        return logged_in_at, "login"
    return None, None


def status_document(
    state: UpkeepState,
    scheduler_installed: bool | None,
    policy: Policy,
    logged_in: bool,
    session_note: str | None,
    access_expires_at: float | None,
    refresh_at: float | None,
    last_use: float | None,
    last_use_where: str | None,
    local_now: float,
) -> dict[str, Any]:
    stops = policy.stops_at(last_use) if last_use is not None else None
    return {
        "enabled": state.enabled,
        "backend": state.backend,
        "scheduler_installed": scheduler_installed,
        "loop_active": loop_active(state, local_now),
        "interval_seconds": state.interval_seconds or int(policy.interval),
        "launcher": state.launcher,
        "last_error": state.last_error,
        "last_run": state.last_run,
        "result": state.result,
        "detail": state.detail,
        "next_due": state.next_due,
        "session": {
            "logged_in": logged_in,
            "note": session_note,
            "access_token_expires_at": iso(access_expires_at),
            "upkeep_refreshes_at": iso(refresh_at),
        },
        "inactivity": {
            "days": policy.inactivity_days,
            "rule": inactivity_rule(policy),
            "last_use": iso(last_use),
            "last_use_recorded_in": last_use_where,
            "stops_at": iso(stops),
            "stopped": stops is not None and local_now >= stops,
        },
    }


def status_lines(doc: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if doc["enabled"]:
        lines.append(f"Upkeep: enabled ({doc['backend']}, every {doc['interval_seconds']} s).")
        if doc["scheduler_installed"] is False:
            lines.append("  The scheduler's files are missing: run `twg upkeep enable` to repair.")
    elif doc["loop_active"]:
        lines.append(f"Upkeep: running as a foreground loop (every {doc['interval_seconds']} s).")
    else:
        lines.append("Upkeep: disabled. Turn it on with `twg upkeep enable` (or `twg setup`).")
    if doc["last_error"]:
        lines.append(f"  Last problem: {doc['last_error']}")
    if doc["last_run"]:
        lines.append(f"Last run: {doc['last_run']}: {doc['result']} ({doc['detail']})")
    else:
        lines.append("Last run: never.")
    session = doc["session"]
    if session["logged_in"]:
        lines.append(
            f"Session: access token expires {session['access_token_expires_at']}; "
            f"upkeep refreshes it from {session['upkeep_refreshes_at']}."
        )
    else:
        lines.append(f"Session: {session['note'] or 'not logged in'}.")
    inactivity = doc["inactivity"]
    lines.append(inactivity["rule"])
    if inactivity["last_use"]:
        where = inactivity["last_use_recorded_in"]
        lines.append(f"Last use of twg: {inactivity['last_use']} (recorded in {where}).")
        verb = "Stopped" if inactivity["stopped"] else "Stops"
        lines.append(
            f"{verb} keeping the session alive: {inactivity['stops_at']}, unless twg is used."
        )
    else:
        lines.append("Last use of twg: none recorded.")
    return lines
