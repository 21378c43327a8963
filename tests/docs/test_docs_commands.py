"""The docs do what they say: every runnable command block of README.md and docs/*.md
runs against a real mock IdP on loopback, and what it prints is checked.

A runnable block is a fenced ``sh`` block right after ``<!-- doc-test -->`` (or
``<!-- doc-test: docker -->`` when it needs Docker: run only where Docker answers). The
fenced ``text`` block right after it, if any, lists lines the block must print, in that
order (each line a substring of one output line). The blocks of one document run in
order in one bash session, so variables and helpers carry over, against a fresh mock
served in-process on a free loopback port, which stands in for ``127.0.0.1:8080`` in
the commands.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mock_idp.app import create_app
from mock_idp.server import BackgroundServer
from mock_idp.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARK = "<!-- doc-test -->"
DOCKER_MARK = "<!-- doc-test: docker -->"
DOC_ADDRESS = "127.0.0.1:8080"
BLOCK_TIMEOUT = 120
# Offline Docker builds (README.md) need these; read at import, before the autouse
# fixture clears TWG_* from the environment of each test.
DOCKER_BUILD_ENV = {k: v for k, v in os.environ.items() if k.startswith("TWG_DOCKER_")}


@dataclass
class Block:
    doc: Path
    line: int  # 1-based line of the opening fence
    code: str
    expected: list[str] = field(default_factory=list)
    docker: bool = False

    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"


def parse(doc: Path) -> list[Block]:
    lines = doc.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        mark = lines[i].strip()
        i += 1
        if mark not in (MARK, DOCKER_MARK):
            continue
        if i >= len(lines) or lines[i].strip() != "```sh":
            raise AssertionError(f"{doc.name}:{i}: {mark} must be followed by a ```sh block")
        start = i + 1
        end = lines.index("```", start)
        block = Block(doc, start, "\n".join(lines[start:end]), docker=mark == DOCKER_MARK)
        i = end + 1
        j = i
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j < len(lines) and lines[j].strip() == "```text":
            text_end = lines.index("```", j + 1)
            block.expected = [line for line in lines[j + 1 : text_end] if line.strip()]
            i = text_end + 1
        blocks.append(block)
    return blocks


def docs_with_blocks(docker: bool) -> list[Path]:
    return [doc for doc in DOCS if any(b.docker == docker for b in parse(doc))]


def check_tools() -> None:
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if missing:
        reason = f"the docs' commands need {', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def run_blocks(blocks: list[Block], address: str, tmp_path: Path, extra_env: dict[str, str]):
    """Run the blocks in one bash session; returns each block's output."""
    markers = [f"::doc-test-{uuid.uuid4().hex}::" for _ in blocks]
    script = ["exec 2>&1", "cd " + _quote(str(ROOT))]
    for marker, block in zip(markers, blocks, strict=True):
        script.append(f"echo {marker}")
        script.append(block.code.replace(DOC_ADDRESS, address))
    script.append(f"echo {markers[-1]}end")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TWG_")},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "NO_COLOR": "1",
        **extra_env,
    }
    env.pop("BROWSER", None)
    env.update(DOCKER_BUILD_ENV)
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT * len(blocks),
        check=False,
    )
    out = done.stdout
    for block in blocks:  # what they print names the address they were given
        block.expected = [line.replace(DOC_ADDRESS, address) for line in block.expected]
    outputs = []
    for n, marker in enumerate(markers):
        nxt = markers[n + 1] if n + 1 < len(markers) else markers[-1] + "end"
        assert marker in out, f"the docs' script stopped early:\n{out[-3000:]}"
        assert nxt in out, f"the docs' script stopped early:\n{out[-3000:]}"
        outputs.append(out.split(marker, 1)[1].split(nxt, 1)[0])
    return outputs


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def check_outputs(blocks: list[Block], outputs: list[str]) -> None:
    problems = []
    for block, output in zip(blocks, outputs, strict=True):
        lines = output.splitlines()
        for bad in ("Traceback", "internal error"):
            if bad in output:
                problems.append(f"{block.where()}: printed {bad!r}:\n{output}")
        pos = 0
        for want in block.expected:
            found = next((k for k in range(pos, len(lines)) if want.strip() in lines[k]), None)
            if found is None:
                problems.append(
                    f"{block.where()}: expected a line with {want.strip()!r} (in order); "
                    f"it printed:\n{output}"
                )
                break
            pos = found + 1
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("doc", docs_with_blocks(docker=False), ids=lambda p: p.name)
def test_doc_commands_print_what_the_doc_says(doc: Path, tmp_path: Path) -> None:
    check_tools()
    blocks = [b for b in parse(doc) if not b.docker]
    with BackgroundServer(create_app(Settings())) as server:
        address = server.url.split("://", 1)[1]
        outputs = run_blocks(blocks, address, tmp_path, {})
    check_outputs(blocks, outputs)


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.parametrize("doc", docs_with_blocks(docker=True), ids=lambda p: p.name)
def test_doc_docker_commands_print_what_the_doc_says(doc: Path, tmp_path: Path) -> None:
    if not _docker_answers():
        reason = "Docker does not answer here"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    check_tools()
    blocks = [b for b in parse(doc) if b.docker]
    project = f"twg-doctest-{uuid.uuid4().hex[:8]}"
    env = {"COMPOSE_PROJECT_NAME": project}
    try:
        outputs = run_blocks(blocks, DOC_ADDRESS, tmp_path, env)
    finally:
        subprocess.run(
            ["docker", "compose", "-p", project, "down", "-v", "--remove-orphans", "--rmi", "all"],
            cwd=ROOT,
            capture_output=True,
            timeout=120,
            check=False,
        )
    try:
        check_outputs(blocks, outputs)
    except AssertionError as exc:
        if "TWG_DOCKER_BASE_IMAGE" in DOCKER_BUILD_ENV:
            raise
        raise AssertionError(
            f"{exc}\nWithout registry/index access, build offline: set TWG_DOCKER_BASE_IMAGE "
            "and TWG_DOCKER_WHEELHOUSE (README 'Offline Docker'; .ci/run does)."
        ) from None


def test_every_marker_is_followed_by_a_runnable_block() -> None:
    # parse() raises for a marker without a ```sh block right after it.
    assert sum(len(parse(doc)) for doc in DOCS) > 0


def test_the_doc_address_appears_only_where_it_is_substituted() -> None:
    # Blocks must use the documented mock address so the test can point them elsewhere;
    # a different hard-coded port would silently talk to nothing.
    for doc in DOCS:
        for block in parse(doc):
            ports = set(re.findall(r"127\.0\.0\.1:(\d+)", block.code))
            assert ports <= {"8080"}, f"{block.where()}: uses 127.0.0.1:{ports}"
