"""One function per step type. Each does what the step says and raises ``StepFailed``
with a sentence when an expectation does not hold."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import secrets
import shlex
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from mock_idp.scenarios.loader import Step
from mock_idp.scenarios.redaction import Redactor
from mock_idp.scenarios.results import StepResult
from mock_idp.scenarios.target import MockControl, TargetError
from mock_idp.scenarios.twg_process import (
    DEFAULT_TIMEOUT,
    CommandResult,
    ReadOnlyUnavailable,
    TwgCli,
    robot_browser,
)
from mock_idp.scenarios.variables import MISSING, VariableError, Variables, dig

DEFAULT_USER = "alice@example.com"
AUTHORIZE_REDIRECT = "http://127.0.0.1:53682/callback"
BODY_SHOWN = 4000  # characters of an HTTP answer kept in the report
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_UNIT = {"d": 86_400, "h": 3600, "m": 60, "s": 1}


class StepFailed(Exception):
    """An expectation did not hold, or the step could not be done; the message says which."""


class Restartable(Protocol):
    def restart(self) -> None: ...


@dataclass
class Context:
    control: MockControl
    target: Restartable
    cli: TwgCli
    variables: Variables
    redactor: Redactor
    start_audit_id: int = 0
    marks: dict[str, int] = field(default_factory=dict)


def seconds_of(value: int | float | str) -> float:
    if not isinstance(value, str):
        return float(value)
    text = value.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    return sign * sum(float(n) * _UNIT[u] for n, u in _DURATION.findall(text))


def span(seconds: float) -> str:
    """Seconds as a signed duration in the scenario files' units: +31d, -1h 30m."""
    left, parts = round(abs(seconds)), list[str]()
    for unit, size in _UNIT.items():
        if left >= size or (size == 1 and not parts):
            parts.append(f"{left // size}{unit}")
            left %= size
    return ("-" if seconds < 0 else "+") + " ".join(parts)


# twg ---------------------------------------------------------------------------------


def _argv(value: str | list[Any], ctx: Context) -> list[str]:
    args = shlex.split(value) if isinstance(value, str) else [str(a) for a in value]
    if args and args[0] == "twg":
        args = args[1:]  # "twg api /me" reads naturally; the runner adds twg itself
    return [str(ctx.variables.expand(a)) for a in args]


def _env(spec: dict[str, Any], ctx: Context) -> dict[str, str]:
    env = {k: str(ctx.variables.expand(v)) for k, v in (spec.get("env") or {}).items()}
    for value in env.values():
        ctx.redactor.add(value)  # a token handed to the CLI through its environment
    return env


def _run_twg(spec: dict[str, Any], args: list[str], ctx: Context) -> CommandResult:
    stdin = spec.get("stdin")
    done = ctx.cli.run(
        args,
        user=str(ctx.variables.expand(spec.get("user", DEFAULT_USER))),
        env=_env(spec, ctx),
        stdin=None if stdin is None else str(ctx.variables.expand(stdin)),
        timeout=float(spec.get("timeout", DEFAULT_TIMEOUT)),
    )
    ctx.redactor.add_from(ctx.cli.credentials())
    return done


@contextlib.contextmanager
def _config_access(spec: dict[str, Any], ctx: Context) -> Iterator[None]:
    """The config directory read-only for the step's commands when it asks for that."""
    if not spec.get("read_only_config"):
        yield
        return
    try:
        with ctx.cli.read_only_config():
            yield
    except ReadOnlyUnavailable as exc:
        raise StepFailed(
            f"read_only_config: cannot make the config directory read-only here ({exc}); "
            "as root that needs a file system with chattr +i"
        ) from None


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def twg_problems(expect: dict[str, Any], done: CommandResult, ctx: Context) -> list[str]:
    """Every way ``done`` differs from ``expect`` (empty: it matches)."""
    problems = []
    want_exit = expect.get("exit", 0)
    if done.timed_out:
        problems.append("timed out")
    elif done.exit != want_exit:
        problems.append(f"exit {done.exit}, expected {want_exit}")
    output = done.stdout + done.stderr
    for where, text in (("stdout", done.stdout), ("stderr", done.stderr), ("output", output)):
        for wanted in _as_list(expect.get(f"{where}_contains")):
            wanted = str(ctx.variables.expand(wanted))
            if wanted not in text:
                problems.append(f"{where} does not contain {wanted!r}")
    for unwanted in _as_list(expect.get("output_not_contains")):
        unwanted = str(ctx.variables.expand(unwanted))
        if unwanted in output:
            problems.append(f"output contains {unwanted!r}")
    for pattern in _as_list(expect.get("output_matches")):
        if not re.search(pattern, output):
            problems.append(f"output does not match /{pattern}/")
    if "json" in expect:
        problems += _json_problems(expect["json"], _parse(done.stdout), ctx, "stdout")
    return problems


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return MISSING


def _json_problems(wanted: dict[str, Any], document: Any, ctx: Context, what: str) -> list[str]:
    if document is MISSING:
        return [f"{what} is not JSON"]
    problems = []
    for path, value in wanted.items():
        value = ctx.variables.expand(value)
        actual = dig(document, path)
        if actual is MISSING:
            problems.append(f"{what} has no {path}")
        elif actual != value:
            problems.append(f"{path} is {json.dumps(actual)}, expected {json.dumps(value)}")
    return problems


def _save(spec: dict[str, Any], document: Any, ctx: Context, what: str) -> None:
    for name, path in (spec.get("save") or {}).items():
        value = MISSING if document is MISSING else dig(document, path)
        if value is MISSING:
            raise StepFailed(f"save {name}: {what} has no {path}")
        ctx.variables.values[name] = value


def _fail_on(problems: list[str]) -> None:
    if problems:
        raise StepFailed("; ".join(problems))


def run_login(step: Step, ctx: Context, result: StepResult) -> None:
    value = step.spec["login"]
    spec: dict[str, Any] = {"user": value} if isinstance(value, str) else dict(value)
    user = str(ctx.variables.expand(spec.get("user", DEFAULT_USER)))
    env = _env(spec, ctx)
    if spec.get("site") or spec.get("deny"):
        env["BROWSER"] = robot_browser(user, spec.get("site"), bool(spec.get("deny")))
    args = ["login", *[str(ctx.variables.expand(a)) for a in spec.get("args", [])]]
    done = ctx.cli.run(args, user=user, env=env)
    ctx.redactor.add_from(ctx.cli.credentials())
    result.commands.append(done)
    _fail_on(twg_problems(step.spec.get("expect") or {}, done, ctx))


def run_twg(step: Step, ctx: Context, result: StepResult) -> None:
    args = _argv(step.spec["twg"], ctx)
    with _config_access(step.spec, ctx):
        done = _run_twg(step.spec, args, ctx)
    result.commands.append(done)
    _fail_on(twg_problems(step.spec.get("expect") or {}, done, ctx))
    if step.spec.get("save"):
        _save(step.spec, _parse(done.stdout), ctx, "stdout")


def run_concurrent(step: Step, ctx: Context, result: StepResult) -> None:
    spec = step.spec["concurrent"]
    args = _argv(spec["twg"], ctx)
    count = int(spec["count"])
    with _config_access(spec, ctx), ThreadPoolExecutor(max_workers=count) as pool:
        runs = list(pool.map(lambda _: _run_twg(spec, args, ctx), range(count)))
    expect = step.spec.get("expect") or {}
    failures = [(i, p) for i, done in enumerate(runs) if (p := twg_problems(expect, done, ctx))]
    exits: dict[int, int] = {}
    for done in runs:
        exits[done.exit] = exits.get(done.exit, 0) + 1
    result.notes.append(
        "exit codes: " + ", ".join(f"{code} x{n}" for code, n in sorted(exits.items()))
    )
    # The report keeps one run of each distinct outcome, not 32 copies.
    shown: set[tuple[int, str]] = set()
    for done in runs:
        key = (done.exit, done.stderr.strip()[:200])
        if key not in shown:
            shown.add(key)
            result.commands.append(done)
    if failures:
        first, problems = failures[0]
        raise StepFailed(
            f"{len(failures)} of {count} did not match (run {first + 1}: {'; '.join(problems)})"
        )


# the mock's control API ------------------------------------------------------------------


def _control(ctx: Context, result: StepResult, method: str, path: str, body: Any) -> Any:
    try:
        answer = ctx.control.control(method, path, body)
    except TargetError as exc:
        raise StepFailed(str(exc)) from None
    result.http.append(
        {"request": f"{method} {path}", "body": body, "status": 200, "response": answer}
    )
    return answer


def run_advance_clock(step: Step, ctx: Context, result: StepResult) -> None:
    value = ctx.variables.expand(step.spec["advance_clock"])
    spec = value if isinstance(value, dict) else {"by": value}
    seconds = seconds_of(spec["by"])
    state = _control(ctx, result, "POST", "/_mock/clock/advance", {"seconds": seconds})
    result.notes.append(f"mock clock now {state.get('iso')}")
    if spec.get("machine"):
        # Real time moves both clocks; rules twg judges by the machine's clock (upkeep's
        # inactivity window, the last-use marker) need this one moved too.
        ctx.cli.clock_offset += seconds
        result.notes.append(f"twg's clock now {span(ctx.cli.clock_offset)} from the machine's")


def run_fault(step: Step, ctx: Context, result: StepResult) -> None:
    _control(ctx, result, "POST", "/_mock/faults", ctx.variables.expand(step.spec["fault"]))


def run_settings(step: Step, ctx: Context, result: StepResult) -> None:
    _control(ctx, result, "PATCH", "/_mock/settings", ctx.variables.expand(step.spec["settings"]))


def run_restart_mock(step: Step, ctx: Context, result: StepResult) -> None:
    try:
        ctx.target.restart()
    except TargetError as exc:
        raise StepFailed(str(exc)) from None
    result.notes.append(f"restarted; serving again on {ctx.control.url}")


# any endpoint ------------------------------------------------------------------------


def run_call(step: Step, ctx: Context, result: StepResult) -> None:
    spec = ctx.variables.expand(step.spec["call"])
    method = str(spec.get("method", "GET")).upper()
    path = str(spec["path"])
    headers = dict(spec.get("headers") or {})
    if spec.get("bearer"):
        ctx.redactor.add(spec["bearer"])
        headers["Authorization"] = f"Bearer {spec['bearer']}"
    kwargs: dict[str, Any] = {"headers": headers}
    if spec.get("query"):
        kwargs["params"] = {k: v for k, v in spec["query"].items() if v is not None}
    body: Any = None
    if "json" in spec:
        kwargs["json"] = body = spec["json"]
    elif "form" in spec:
        kwargs["data"] = body = {k: str(v) for k, v in spec["form"].items()}
    ctx.redactor.add_from(body)
    try:
        response = ctx.control.request(method, path, **kwargs)
    except TargetError as exc:
        raise StepFailed(str(exc)) from None
    document = _parse(response.text)
    ctx.redactor.add_from(document if document is not MISSING else None)
    query = f"?{urlencode(kwargs['params'])}" if "params" in kwargs else ""
    result.http.append(
        {
            "request": f"{method} {path}{query}",
            "body": body,
            "status": response.status_code,
            "location": response.headers.get("location"),
            "response": document if document is not MISSING else response.text[:BODY_SHOWN],
        }
    )
    _fail_on(_call_problems(step.spec.get("expect") or {}, response, document, ctx))
    if step.spec.get("save"):
        _save(step.spec, document, ctx, "the answer")


def _call_problems(expect: dict[str, Any], response: Any, document: Any, ctx: Context) -> list[str]:
    problems = []
    if "status" in expect and response.status_code != expect["status"]:
        problems.append(f"HTTP {response.status_code}, expected {expect['status']}")
    if "json" in expect:
        problems += _json_problems(expect["json"], document, ctx, "the answer")
    for wanted in _as_list(expect.get("body_contains")):
        wanted = str(ctx.variables.expand(wanted))
        if wanted not in response.text:
            problems.append(f"the answer does not contain {wanted!r}")
    for unwanted in _as_list(expect.get("body_not_contains")):
        unwanted = str(ctx.variables.expand(unwanted))
        if unwanted in response.text:
            problems.append(f"the answer contains {unwanted!r}")
    for name, wanted in (expect.get("headers") or {}).items():
        actual = response.headers.get(name)
        if wanted is None and actual is not None:
            problems.append(f"header {name} is present ({actual!r}), expected none")
        elif wanted is not None:
            wanted = str(ctx.variables.expand(wanted))
            if actual is None or wanted not in actual:
                problems.append(f"header {name} is {actual!r}, expected it to contain {wanted!r}")
    return problems


def run_authorize(step: Step, ctx: Context, result: StepResult) -> None:
    """A browser login without the CLI: the robot signs in and consents, and the step
    keeps what the client would get (code, state, iss) plus the PKCE verifier it used."""
    from mock_idp.browser import Robot, RobotError

    spec = ctx.variables.expand(step.spec["authorize"])
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": "twg-cli",
        "redirect_uri": AUTHORIZE_REDIRECT,
        "scope": "read:me offline_access",
        "state": "st-" + secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(spec.get("params") or {})
    query = {k: v for k, v in params.items() if v is not None}
    url = f"{ctx.control.url}/authorize?{urlencode(query)}"
    try:
        with Robot(user=spec.get("user", DEFAULT_USER), site=spec.get("site")) as robot:
            location = robot.final_redirect(url)
    except (RobotError, OSError, httpx.HTTPError) as exc:
        raise StepFailed(f"the robot could not finish the sign-in: {exc}") from None
    answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    document = {
        **answer,
        "code_verifier": verifier,
        "redirect_uri": query.get("redirect_uri"),
        "sent_state": query.get("state"),
        "location": location.split("?")[0],
    }
    ctx.redactor.add_from(document)
    result.http.append({"request": "GET /authorize (robot)", "status": 302, "response": answer})
    if "code" not in answer:
        raise StepFailed(f"no code in the redirect: {answer}")
    # What every client relies on: state comes back unchanged (RFC 6749 section 4.1.2)
    # and iss names this issuer (RFC 9207).
    if answer.get("state") != query.get("state"):
        raise StepFailed(f"the mock changed state: sent {query.get('state')!r}")
    if answer.get("iss") != ctx.control.url:
        raise StepFailed(f"iss is {answer.get('iss')!r}, expected {ctx.control.url!r}")
    _save(step.spec, document, ctx, "the redirect")


# audit -------------------------------------------------------------------------------


def _subset(wanted: Any, actual: Any) -> bool:
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(
            k in actual and _subset(v, actual[k]) for k, v in wanted.items()
        )
    return bool(wanted == actual)


def run_audit(step: Step, ctx: Context, result: StepResult) -> None:
    spec = ctx.variables.expand(step.spec["audit"])
    since = ctx.start_audit_id
    if spec.get("since"):
        if spec["since"] not in ctx.marks:
            raise StepFailed(f"since: no mark named {spec['since']!r} before this step")
        since = ctx.marks[spec["since"]]
    try:
        events = ctx.control.audit(since)
    except TargetError as exc:
        raise StepFailed(str(exc)) from None
    name = str(spec["event"])
    if name.endswith("*"):
        named = [e for e in events if str(e["event"]).startswith(name[:-1])]
    else:
        named = [e for e in events if e["event"] == name]
    details = spec.get("details") or {}
    matching = [e for e in named if _subset(details, e.get("details") or {})]
    count = spec.get("count")
    result.notes.append(f"{len(matching)} matching event(s) of {len(named)} named {name}")
    if (count is None and not matching) or (count is not None and len(matching) != count):
        wanted = "at least one" if count is None else str(count)
        seen = "; ".join(
            f"#{e['id']} {e['event']} {json.dumps(e.get('details'), sort_keys=True)}"
            for e in named[:5]
        )
        raise StepFailed(
            f"expected {wanted} {name} event(s)"
            + (f" with details {json.dumps(details, sort_keys=True)}" if details else "")
            + f", found {len(matching)}"
            + (f" (events named {name}: {seen})" if seen else "")
        )


def run_mark(step: Step, ctx: Context, result: StepResult) -> None:
    try:
        ctx.marks[str(step.spec["mark"])] = ctx.control.last_audit_id()
    except TargetError as exc:
        raise StepFailed(str(exc)) from None


def run_set(step: Step, ctx: Context, result: StepResult) -> None:
    for name, value in step.spec["set"].items():
        expanded = ctx.variables.expand(value)
        ctx.variables.values[name] = expanded
        result.notes.append(f"{name} set")


RUNNERS: dict[str, Callable[[Step, Context, StepResult], None]] = {
    "login": run_login,
    "twg": run_twg,
    "concurrent": run_concurrent,
    "advance_clock": run_advance_clock,
    "fault": run_fault,
    "settings": run_settings,
    "call": run_call,
    "authorize": run_authorize,
    "audit": run_audit,
    "mark": run_mark,
    "set": run_set,
    "restart_mock": run_restart_mock,
}


def run_step(step: Step, ctx: Context, result: StepResult) -> None:
    try:
        RUNNERS[step.kind](step, ctx, result)
    except StepFailed:
        raise
    except VariableError as exc:
        raise StepFailed(str(exc)) from None
    except Exception as exc:  # a bug, or input no check foresaw: fail this step, not the run
        raise StepFailed(
            f"the runner could not do this step: {type(exc).__name__}: {exc}"
        ) from None
