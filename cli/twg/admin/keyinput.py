"""Reading an Admin API key: ``TWG_ADMIN_API_KEY``, a hidden prompt on a terminal, or
stdin when it is not one. Never a flag (argv is visible to every user of the machine).

Whatever comes in is checked before it goes anywhere: empty, too long, not UTF-8, or
holding spaces or control characters is refused with a one-line message that never
repeats the input.
"""

from __future__ import annotations

from collections.abc import Mapping

from twg.errors import UsageError
from twg.iostreams import IOStreams

ENV = "TWG_ADMIN_API_KEY"
MAX_KEY = 4096


def check_key(raw: str, source: str) -> str:
    key = raw.strip()
    if not key:
        raise UsageError(f"No Admin API key was given ({source} was empty).")
    if any("\udc80" <= c <= "\udcff" for c in key):  # stdin's surrogateescape
        raise UsageError(f"The Admin API key on {source} is not valid UTF-8.")
    if len(key) > MAX_KEY:
        raise UsageError(
            f"The Admin API key from {source} is too long (over {MAX_KEY} characters)."
        )
    if not key.isascii() or not key.isprintable() or any(c.isspace() for c in key):
        raise UsageError(
            f"The Admin API key from {source} holds spaces, control or non-ASCII characters; "
            "paste the key alone."
        )
    return key


def read_key(io: IOStreams, environ: Mapping[str, str], org_id: str) -> str:
    if environ.get(ENV) is not None:
        return check_key(environ[ENV], ENV)
    if io.stdin_tty:
        try:
            answer = io.hidden_prompt(f"Admin API key for organization {org_id}: ")
        except EOFError:
            raise UsageError("No Admin API key was given (end of input).") from None
        return check_key(answer, "the prompt")
    try:
        # One more than the limit tells "too long" from "exactly the limit".
        data = io.stdin.read(MAX_KEY + 2)
    except UnicodeDecodeError:
        raise UsageError("The Admin API key on stdin is not valid UTF-8.") from None
    except (OSError, ValueError):
        raise UsageError("No Admin API key could be read from stdin.") from None
    return check_key(data, "stdin")
