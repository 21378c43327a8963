"""All terminal I/O in one object: streams, is-a-terminal, and a hidden prompt.

Commands never touch sys.std* directly, so tests hand in a fake terminal.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable, Mapping
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
    stderr_tty: bool = False
    # Colour only on terminals, and never when NO_COLOR is set (https://no-color.org).
    color: bool = False
    _status_shown: bool = field(default=False, repr=False)
    # The exact colour-coded strings _paint made: the only escapes let through.
    _painted: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def system(cls, environ: Mapping[str, str] | None = None) -> IOStreams:
        import os

        env = os.environ if environ is None else environ
        return cls(
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdin_tty=_isatty(sys.stdin),
            stdout_tty=_isatty(sys.stdout),
            stderr_tty=_isatty(sys.stderr),
            color=not env.get("NO_COLOR") and env.get("TERM") != "dumb",
        )

    @classmethod
    def for_test(
        cls,
        stdin: str = "",
        *,
        tty: bool = False,
        hidden_answers: list[str] | None = None,
        color: bool = False,
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
            stderr_tty=tty,
            color=color,
        )
        streams.hidden_prompts = prompts  # type: ignore[attr-defined]
        return streams

    @property
    def interactive(self) -> bool:
        return self.stdin_tty and self.stdout_tty

    def err(self, message: str) -> None:
        """A message for the person (stderr); control characters are made visible."""
        self.clear_status()
        print(self._safe(message), file=self.stderr, flush=True)

    def _paint(self, code: str, text: str, stream: TextIO) -> str:
        tty = self.stdout_tty if stream is self.stdout else self.stderr_tty
        if not (self.color and tty):
            return text
        painted = f"\x1b[{code}m{printable(text)}\x1b[0m"
        self._painted.add(painted)
        return painted

    def red(self, text: str, stream: TextIO) -> str:
        """``text`` in red when ``stream`` is a colour terminal."""
        return self._paint("31", text, stream)

    def green(self, text: str, stream: TextIO) -> str:
        return self._paint("32", text, stream)

    def yellow(self, text: str, stream: TextIO) -> str:
        return self._paint("33", text, stream)

    @property
    def can_show_status(self) -> bool:
        return self.stderr_tty

    def status(self, text: str) -> None:
        """A one-line, rewritten-in-place status (a spinner, a countdown) on a terminal;
        nothing elsewhere, so logs and pipes get no carriage returns."""
        if not self.stderr_tty:
            return
        self.stderr.write(f"\r\x1b[2K{printable(text)}")
        self.stderr.flush()
        self._status_shown = True

    def clear_status(self) -> None:
        if self._status_shown:
            self.stderr.write("\r\x1b[2K")
            self.stderr.flush()
            self._status_shown = False

    def out(self, text: str) -> None:
        """Text for a person or a script (stdout); control characters made visible."""
        self.clear_status()  # the same terminal may show both streams
        print(self._safe(text), file=self.stdout, flush=True)

    def out_raw(self, data: str) -> None:
        """A body passed through (``twg api``): made visible on a terminal, as it is
        into a pipe, like curl."""
        self.clear_status()
        print(printable(data) if self.stdout_tty else data, file=self.stdout, flush=True)

    def _safe(self, text: str) -> str:
        """``text`` with control characters made visible, except the colour codes this
        object added itself (``red`` and friends)."""
        if not self._painted:
            return printable(text)
        ours = "|".join(re.escape(p) for p in sorted(self._painted, key=len, reverse=True))
        return "".join(
            part if part in self._painted else printable(part)
            for part in re.split(f"({ours})", text)
        )

    def out_json(self, data: Any) -> None:
        self.clear_status()
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
