"""The click classes behind every twg command.

Plain click, not typer: typer costs about 20 ms of every start-up (benchmarks/cli_startup.py)
for signatures that a few decorators state as clearly. What these classes add to click:
help goes to the injected streams (tests read it there, and it is printed like every other
line), and commands are listed in the order they were added, each with its whole summary.
"""

from __future__ import annotations

import click

from twg.commands.dispatch import factory


def _print_help(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    factory(ctx).io.out(ctx.get_help())
    ctx.exit(0)


class TwgCommand(click.Command):
    """``-h``/``--help`` print through the Factory's IOStreams, not click's echo."""

    _twg_help: click.Option | None = None

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        names = self.get_help_option_names(ctx)
        if not names or not self.add_help_option:
            return None
        if self._twg_help is None:  # one object: click orders eager callbacks by identity
            self._twg_help = click.Option(
                names,
                is_flag=True,
                is_eager=True,
                expose_value=False,
                callback=_print_help,
                help="Show this message and exit.",
            )
        return self._twg_help


class TwgGroup(TwgCommand, click.Group):
    command_class = TwgCommand
    group_class = type  # subgroups are TwgGroups too

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # as added, not sorted: the help reads in a useful order

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's whole first sentence, wrapped, where click cuts it off with "..."."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=200)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
