"""All terminal I/O in one object: streams, is-a-terminal, and a hidden prompt.

Commands never touch sys.std* directly, so tests hand in a fake terminal.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from twg.textsafe import printable


def _hidden_prompt(prompt: str) -> str:
    import getpass  # only when a secret is actually asked for

    return getpass.getpass(prompt)


@dataclass
class IOStreams:
    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    stdin_tty: bool
    stdout_tty: bool
    # Reads a line without echo; never logs or returns the prompt text.
    hidden_prompt: Callable[[str], str] = field(default=_hidden_prompt)

    @classmethod
    def system(cls) -> IOStreams:
        return cls(
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdin_tty=_isatty(sys.stdin),
            stdout_tty=_isatty(sys.stdout),
        )

    @classmethod
    def for_test(
        cls,
        stdin: str = "",
        *,
        tty: bool = False,
        hidden_answers: list[str] | None = None,
    ) -> IOStreams:
        """Streams backed by StringIO; ``hidden_answers`` feeds the hidden prompt."""
        answers = list(hidden_answers or [])
        prompts: list[str] = []

        def hidden(prompt: str) -> str:
            prompts.append(prompt)
            if not answers:
                raise EOFError("no more input")
            return answers.pop(0)

        streams = cls(
            stdin=io.StringIO(stdin),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
            stdin_tty=tty,
            stdout_tty=tty,
            hidden_prompt=hidden,
        )
        streams.hidden_prompts = prompts  # type: ignore[attr-defined]
        return streams

    @property
    def interactive(self) -> bool:
        return self.stdin_tty and self.stdout_tty

    def err(self, message: str) -> None:
        """A message for the person (stderr); control characters are made visible."""
        print(printable(message), file=self.stderr, flush=True)

    def out(self, text: str) -> None:
        """Text for a person or a script (stdout); control characters made visible."""
        print(printable(text), file=self.stdout, flush=True)

    def out_raw(self, data: str) -> None:
        """A body passed through (``twg api``): made visible on a terminal, as it is
        into a pipe, like curl."""
        print(printable(data) if self.stdout_tty else data, file=self.stdout, flush=True)

    def out_json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
        self.stdout.flush()

    def prompt_line(self, prompt: str) -> str:
        self.stderr.write(printable(prompt))
        self.stderr.flush()
        line = self.stdin.readline()
        if not line:
            raise EOFError("end of input")
        return line.strip()

    def output(self) -> str:
        """What a test stream captured on stdout."""
        return self.stdout.getvalue()  # type: ignore[attr-defined,no-any-return]

    def errors(self) -> str:
        return self.stderr.getvalue()  # type: ignore[attr-defined,no-any-return]


def _isatty(stream: TextIO | None) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (ValueError, OSError):
        return False
