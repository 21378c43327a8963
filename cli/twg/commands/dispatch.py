"""What every command (``twg ...`` and ``twg admin ...``) shares: the ``--json`` flag,
the Factory a test may put on the root context, and running a command's ``run``.

Only click and the lean core are imported here, so ``twg --help`` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import click

from twg.errors import TwgError
from twg.factory import Factory
from twg.iostreams import IOStreams

json_flag = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document to stdout."
)


def factory(ctx: click.Context) -> Factory:
    obj = ctx.find_root().obj
    if isinstance(obj, Factory):
        return obj
    return Factory(IOStreams.system())


def execute(ctx: click.Context, module: Any, opts: Any, as_json: bool) -> None:
    """Run a command; turn a TwgError into its message (or JSON) and exit code."""
    f = factory(ctx)
    try:
        # Settings are checked up front (a malformed URL variable is a ConfigError).
        from twg.auth.redact import configure_debug_logging

        configure_debug_logging(f.settings.debug)
        code = module.run(opts, f)
    except TwgError as exc:
        if as_json:
            f.io.out_json(exc.to_json())
        else:
            f.io.err(f"{f.io.red('error:', f.io.stderr)} {exc.text()}")
        code = exc.exit_code
    ctx.exit(code)


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def simple_command(
    group: click.Group, name: str, module: str, help: str, *options: Decorator, **fixed: Any
) -> None:
    """Add ``NAME [OPTIONS] [--json] [ARGS]`` to ``group``: each option's or argument's
    value goes to the field of ``twg.commands.MODULE.Options`` with its name, with
    ``fixed`` fields set too.

    For commands whose parameters map one-to-one onto their Options; the module is
    imported only when the command runs."""

    def callback(ctx: click.Context, /, as_json: bool, **values: Any) -> None:
        command = importlib.import_module(f"twg.commands.{module}")
        execute(ctx, command, command.Options(**fixed, **values, json=as_json), as_json)

    decorated = json_flag(click.pass_context(callback))
    for option in reversed(options):  # listed in the help in the order given
        decorated = option(decorated)
    group.command(name, help=help)(decorated)
