"""Read a scenario file: YAML with line numbers, checked against ``schema.json``.

Every problem becomes a ``ScenarioFileError`` naming the file, the line and the field
(``steps[2].expect.exit``), so a person who wrote a scenario by hand knows where to look.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

STEP_KINDS = (
    "login",
    "twg",
    "concurrent",
    "advance_clock",
    "fault",
    "settings",
    "call",
    "authorize",
    "audit",
    "mark",
    "set",
    "restart_mock",
)

Path_ = tuple[str | int, ...]
MAX_NODES = 50_000
MAX_DEPTH = 50


class ScenarioFileError(ValueError):
    """A scenario file that cannot be run; ``str()`` is one line: file:line: field: why."""

    def __init__(self, file: str, line: int | None, fld: str, message: str) -> None:
        self.file, self.line, self.field, self.message = file, line, fld, message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {fld}: {message}" if fld else f"{where}: {message}")


@dataclass(frozen=True)
class Step:
    index: int  # 1-based, as a person counts
    kind: str
    spec: dict[str, Any]  # the whole step mapping, as written
    line: int | None

    @property
    def title(self) -> str:
        named = self.spec.get("name")
        return str(named) if named else describe(self.kind, self.spec[self.kind])


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    file: Path
    description: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def needs_own_mock(self) -> bool:
        """Restarting the mock needs a mock the runner started itself."""
        return any(step.kind == "restart_mock" for step in self.steps)

    @property
    def needs_read_only_config(self) -> bool:
        """A step runs twg with its config directory read-only (a sandboxed agent)."""
        return any(
            isinstance(step.spec, dict) and step.spec.get("read_only_config") for step in self.steps
        )


def describe(kind: str, value: Any) -> str:
    """A one-line summary of a step for progress lines and reports."""
    if kind == "login":
        user = value if isinstance(value, str) else value.get("user", "alice@example.com")
        extra = "" if isinstance(value, str) else " " + " ".join(value.get("args", []))
        return f"twg login{extra.rstrip()} (robot browser as {user})"
    if kind == "twg":
        return "twg " + (value if isinstance(value, str) else " ".join(map(str, value)))
    if kind == "concurrent":
        inner = value["twg"]
        command = inner if isinstance(inner, str) else " ".join(map(str, inner))
        return f"{value['count']} x twg {command} at once"
    if kind == "advance_clock":
        if isinstance(value, dict):
            clocks = "the mock's and twg's clocks" if value.get("machine") else "the mock clock"
            return f"move {clocks} by {value['by']}"
        return f"move the mock clock by {value}"
    if kind == "fault":
        return "queue fault " + json.dumps(value, sort_keys=True)
    if kind == "settings":
        return "mock settings " + json.dumps(value, sort_keys=True)
    if kind == "call":
        return f"{value.get('method', 'GET').upper()} {value['path']}"
    if kind == "authorize":
        return f"authorize as {value.get('user', 'alice@example.com')} (robot, up to the code)"
    if kind == "audit":
        count = value.get("count")
        times = "at least once" if count is None else f"x{count}"
        return f"audit {value['event']} {times}"
    if kind == "mark":
        return f"mark audit position '{value}'"
    if kind == "set":
        return "set " + ", ".join(sorted(value))
    if kind == "restart_mock":
        return "restart the mock (SQLite state)"
    return kind


@cache
def schema() -> dict[str, Any]:
    text = resources.files("mock_idp.scenarios").joinpath("schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def load(path: str | Path) -> Scenario:
    path = Path(path)
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioFileError(shown, None, "", f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioFileError(shown, None, "", "not UTF-8 text") from None
    data, lines = parse_yaml(text, shown)
    _validate(data, lines, shown)
    steps = []
    for i, raw in enumerate(data["steps"]):
        kind = next(k for k in STEP_KINDS if k in raw)
        steps.append(Step(i + 1, kind, raw, lines.get(("steps", i))))
    name = str(data.get("name") or path.stem)
    return Scenario(
        name=name,
        title=str(data.get("title") or name),
        file=path,
        description=str(data.get("description") or "").strip(),
        settings=dict(data.get("settings") or {}),
        steps=tuple(steps),
        tags=tuple(data.get("tags") or ()),
    )


def parse_yaml(text: str, shown: str) -> tuple[Any, dict[Path_, int]]:
    """The document and the 1-based line of every mapping value and list item in it."""
    import yaml

    lines: dict[Path_, int] = {}
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioFileError(shown, 1, "", "the file is empty")
        data = _build(loader, node, (), lines, shown)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        why = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ScenarioFileError(shown, line, "", f"not valid YAML: {why}") from None
    except yaml.YAMLError as exc:
        raise ScenarioFileError(shown, None, "", f"not valid YAML: {exc}") from None
    except RecursionError:
        raise ScenarioFileError(shown, None, "", "the document is too deeply nested") from None
    finally:
        loader.dispose()
    lines[()] = 1
    return data, lines


def _build(loader: Any, node: Any, path: Path_, lines: dict[Path_, int], shown: str) -> Any:
    import yaml

    # Aliases can make a small file expand enormously ("billion laughs"); no scenario is
    # anywhere near this big.
    if len(lines) > MAX_NODES or len(path) > MAX_DEPTH:
        raise ScenarioFileError(
            shown, node.start_mark.line + 1, field_name(path), "the document is too large or deep"
        )
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        own = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
        loader.flatten_mapping(node)  # "<<: *anchor" merge keys, as SafeLoader does
        merged = len(node.value) - own  # these come first and may be overridden
        result: dict[str, Any] = {}
        written: set[str] = set()  # keys the mapping itself has (not from a merge)
        for n, (key_node, value_node) in enumerate(node.value):
            key = loader.construct_object(key_node, deep=True)
            where = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise ScenarioFileError(shown, where, field_name(path), f"key {key!r} is not text")
            if n >= merged and key in written:
                raise ScenarioFileError(
                    shown, where, field_name((*path, key)), "appears twice in the same mapping"
                )
            if n >= merged:
                written.add(key)
            result[key] = _build(loader, value_node, (*path, key), lines, shown)
            # A value's line is where its key is: what a person sees as "the field".
            lines[(*path, key)] = where
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), lines, shown) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def field_name(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def line_of(lines: dict[Path_, int], path: Path_) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _validate(data: Any, lines: dict[Path_, int], shown: str) -> None:
    import jsonschema

    full = schema()
    # The top level first, with steps as plain objects; then each step against the
    # schema of its own kind, so an error says "expect.exit", not "matches none of 12".
    top = json.loads(json.dumps(full))
    top["properties"]["steps"]["items"] = {"type": "object"}
    _check(jsonschema.Draft202012Validator(top), data, (), lines, shown)
    for i, step in enumerate(data["steps"]):
        kinds = [k for k in STEP_KINDS if k in step]
        if len(kinds) != 1:
            found = f"it has {', '.join(kinds)}" if kinds else "it has none"
            raise ScenarioFileError(
                shown,
                line_of(lines, ("steps", i)),
                field_name(("steps", i)),
                f"a step needs exactly one of {', '.join(STEP_KINDS)}; {found}",
            )
        sub = {"$defs": full["$defs"], "$ref": f"#/$defs/{kinds[0]}_step"}
        _check(jsonschema.Draft202012Validator(sub), step, ("steps", i), lines, shown)
    for i, step in enumerate(data["steps"]):
        _check_regexes(step, ("steps", i), lines, shown)


def _check(validator: Any, data: Any, base: Path_, lines: dict[Path_, int], shown: str) -> None:
    import jsonschema

    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return
    # Inside a documented choice ("a number or a duration"), say what the choice is
    # rather than why the first alternative did not fit.
    while error.parent is not None and error.parent.validator in ("oneOf", "anyOf"):
        if error.parent.schema.get("description"):
            error = error.parent
            break
        error = error.parent
    path: Path_ = (*base, *error.absolute_path)
    message = error.message
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            path = (*path, extra[0])
            known = ", ".join(sorted(allowed))
            message = f"unknown field (known here: {known})"
    elif error.validator == "required":
        message = error.message.replace("is a required property", "is required here")
    elif error.validator in ("oneOf", "anyOf") and error.schema.get("description"):
        message = f"{_short(error.instance)} is not valid: {error.schema['description']}"
    elif len(message) > 160:
        message = message[:157] + "..."
    raise ScenarioFileError(shown, line_of(lines, path), field_name(path), message)


def _check_regexes(step: dict[str, Any], base: Path_, lines: dict[Path_, int], shown: str) -> None:
    expect = step.get("expect")
    if not isinstance(expect, dict) or "output_matches" not in expect:
        return
    patterns = expect["output_matches"]
    for i, pattern in enumerate([patterns] if isinstance(patterns, str) else patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            path: Path_ = (*base, "expect", "output_matches")
            if not isinstance(patterns, str):
                path = (*path, i)
            raise ScenarioFileError(
                shown, line_of(lines, path), field_name(path), f"not a valid regex: {exc}"
            ) from None


def _short(value: Any) -> str:
    text = repr(value)  # as jsonschema quotes values in its own messages
    return text if len(text) <= 60 else text[:57] + "..."
