"""The typer app: it only fills Options and hands them to a command's ``run``.

Command modules (and httpx, keyring) are imported inside the command functions, so
``twg --help`` stays fast.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer

# typer 0.29 vendors click: its exceptions are not the top-level click package's.
from typer._click import exceptions as click_exc
from typer.core import TyperCommand, TyperGroup

from twg.commands.admin_app import admin_app
from twg.commands.dispatch import JsonFlag
from twg.commands.dispatch import execute as _execute
from twg.commands.dispatch import factory as _factory
from twg.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE
from twg.factory import Factory
from twg.iostreams import IOStreams

CONTEXT = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(
    name="twg",
    # Our own `twg completion SHELL` instead: typer's adds two options to every --help.
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=CONTEXT,
)
auth_app = typer.Typer(
    help="Inspect and refresh your session.", no_args_is_help=True, context_settings=CONTEXT
)
# `twg setup` runs the full setup; `twg setup bitbucket|client` one part of it.
setup_app = typer.Typer(
    help="Log in, save the Bitbucket token, enable upkeep.",
    invoke_without_command=True,
    context_settings=CONTEXT,
)
upkeep_app = typer.Typer(
    help="Keep the session fresh for sandboxed agents.",
    no_args_is_help=True,
    context_settings=CONTEXT,
)
app.add_typer(auth_app, name="auth")
app.add_typer(setup_app, name="setup")
# `admin` (about 20 commands) is added by _command(): built only when it is run.
app.add_typer(upkeep_app, name="upkeep")


# The sign-in options of `login`, which `setup` offers too (it logs in when needed).
NoBrowserFlag = Annotated[
    bool, typer.Option("--no-browser", help="Print the sign-in URL instead of opening it.")
]
DeviceFlag = Annotated[
    bool, typer.Option("--device", help="Sign in with a code on another device.")
]
SiteOption = Annotated[
    str | None, typer.Option("--site", metavar="SITE", help="Site to use: id, name or URL.")
]


class _PlainUsage(TyperCommand):
    """Usage lines show arguments as PATH, not typer's ``{PATH}``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [piece.strip("{}") for piece in super().collect_usage_pieces(ctx)]


def _version(ctx: typer.Context, value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("twg")
        except PackageNotFoundError:
            number = "unknown"
        _factory(ctx).io.out(f"twg {number}")
        raise typer.Exit(0)


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Teamwork Graph CLI: sign in to Atlassian and call its APIs.

    Run without a command, it shows this help and exits 2."""


@app.command()
def login(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Log in again even if logged in.")] = False,
    no_browser: NoBrowserFlag = False,
    device: DeviceFlag = False,
    site: SiteOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Sign in with your browser (OAuth 2.1 + PKCE) or a device code."""
    from twg.commands import login as cmd

    opts = cmd.Options(force=force, no_browser=no_browser, device=device, site=site)
    opts.json = as_json
    _execute(ctx, cmd, opts, as_json)


@app.command()
def logout(
    ctx: typer.Context,
    every: Annotated[
        bool, typer.Option("--all", help="Log out of every issuer, not only the current one.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Revoke your tokens at the server and delete them here."""
    from twg.commands import logout as cmd

    _execute(ctx, cmd, cmd.Options(json=as_json, all=every), as_json)


@app.command(cls=_PlainUsage)
def api(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(metavar="PATH", help="API path, e.g. /me")],
    method: Annotated[
        str, typer.Option("-X", "--method", metavar="METHOD", help="HTTP method.")
    ] = "GET",
    bitbucket: Annotated[
        bool, typer.Option("--bitbucket", help="Call the Bitbucket API with your API token.")
    ] = False,
    data: Annotated[
        str | None, typer.Option("--data", metavar="JSON", help="JSON request body.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Make an authenticated API call and print the JSON response."""
    from twg.commands import api as cmd

    opts = cmd.Options(path=path, method=method, bitbucket=bitbucket, data=data, json=as_json)
    _execute(ctx, cmd, opts, as_json)


@app.command()
def doctor(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Check credentials, token, site, storage and Bitbucket, live."""
    from twg.commands import doctor as cmd

    _execute(ctx, cmd, cmd.Options(json=as_json), as_json)


@auth_app.command("status")
def auth_status(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show who you are and where credentials are kept (no network)."""
    from twg.commands import auth_status as cmd

    _execute(ctx, cmd, cmd.Options(json=as_json), as_json)


@auth_app.command("refresh")
def auth_refresh(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Rotate even if still fresh.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Refresh the access token if it is due (or always, with --force)."""
    from twg.commands import auth_refresh as cmd

    _execute(ctx, cmd, cmd.Options(force=force, json=as_json), as_json)


@setup_app.command("bitbucket")
def setup_bitbucket(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Replace a saved token.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Save a Bitbucket API token (asked for with a hidden prompt)."""
    from twg.commands import setup_bitbucket as cmd

    _execute(ctx, cmd, cmd.Options(force=force, json=as_json), as_json)


@setup_app.callback()
def setup(
    ctx: typer.Context,
    site: SiteOption = None,
    no_browser: NoBrowserFlag = False,
    device: DeviceFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Log in if needed, ask for the Bitbucket token if needed, enable upkeep, summarize."""
    if ctx.invoked_subcommand is not None:
        return
    from twg.commands import setup as cmd

    opts = cmd.Options(site=site, no_browser=no_browser, device=device, json=as_json)
    _execute(ctx, cmd, opts, as_json)


@upkeep_app.command("enable")
def upkeep_enable(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Install the schedule (systemd user timer, LaunchAgent or Scheduled Task)."""
    from twg.commands import upkeep_enable as cmd

    _execute(ctx, cmd, cmd.Options(json=as_json), as_json)


@upkeep_app.command("disable")
def upkeep_disable(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Stop and remove the schedule; the session is left as it is."""
    from twg.commands import upkeep_disable as cmd

    _execute(ctx, cmd, cmd.Options(json=as_json), as_json)


@upkeep_app.command("status")
def upkeep_status(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show whether upkeep runs, what it last did, and when it stops for inactivity."""
    from twg.commands import upkeep_status as cmd

    _execute(ctx, cmd, cmd.Options(json=as_json), as_json)


@upkeep_app.command("run")
def upkeep_run(
    ctx: typer.Context,
    every: Annotated[
        float | None,
        typer.Option(
            "--every", help="Run a pass every SECONDS, in the foreground.", metavar="SECONDS"
        ),
    ] = None,
) -> None:
    """One upkeep pass (refresh only when due), or a foreground loop with --every."""
    from twg.commands import upkeep_run as cmd

    _execute(ctx, cmd, cmd.Options(every=every), False)


@setup_app.command("client")
def setup_client(
    ctx: typer.Context,
    client_id: Annotated[
        str | None,
        typer.Option("--client-id", metavar="ID", help="Your OAuth app's client id."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Sign in as your own OAuth app: its secret is asked for with a hidden prompt."""
    from twg.commands import setup_client as cmd

    _execute(ctx, cmd, cmd.Options(client_id=client_id, json=as_json), as_json)


SHELLS = ("bash", "zsh", "fish")


@app.command(cls=_PlainUsage)
def completion(
    ctx: typer.Context,
    shell: Annotated[str, typer.Argument(metavar="SHELL", help="bash, zsh or fish.")],
) -> None:
    """Print a shell completion script for bash, zsh or fish.

    Load it in your shell's start-up file: eval "$(twg completion bash)"."""
    if shell not in SHELLS:
        raise click_exc.BadParameter(f"use one of {', '.join(SHELLS)}", param_hint="SHELL")
    from typer._completion_classes import completion_init
    from typer._completion_shared import get_completion_script

    completion_init()
    # The script calls twg back with _TWG_COMPLETE set; typer answers that before parsing.
    script = get_completion_script(prog_name="twg", complete_var="_TWG_COMPLETE", shell=shell)
    _factory(ctx).io.out(script)


@functools.cache
def _command(with_admin: bool) -> TyperGroup:
    """The click tree, built once per process (in-process callers run main() often).

    Building ``twg admin``'s commands costs about 5 ms of every start-up, so they are
    built only when ``admin`` is the command; otherwise a placeholder with the same name
    and help keeps ``twg --help`` unchanged.
    """
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    if with_admin:
        admin = typer.main.get_group_from_info(
            typer.models.TyperInfo(admin_app, name="admin"),  # as app.add_typer would
            pretty_exceptions_short=app.pretty_exceptions_short,
            rich_markup_mode=app.rich_markup_mode,
            suggest_commands=app.suggest_commands,
        )
    else:
        admin = TyperGroup(name="admin", help=admin_app.info.help)
    # Listed after `setup`, where the help has always shown it.
    entries = list(group.commands.items())
    at = [name for name, _ in entries].index("setup") + 1
    group.commands = dict([*entries[:at], ("admin", admin), *entries[at:]])
    return group


def main(
    argv: Sequence[str] | None = None,
    io: IOStreams | None = None,
    environ: Mapping[str, str] | None = None,
    **factory_kwargs: Any,
) -> int:
    """Run twg with injected streams and environment; returns the exit code."""
    io = io or IOStreams.system(environ)
    factory = Factory(io, environ, **factory_kwargs)
    args = list(sys.argv[1:] if argv is None else argv)
    completing = "_TWG_COMPLETE" in os.environ  # a completion script asking for candidates
    first_word = next((arg for arg in args if not arg.startswith("-")), None)
    command = _command(with_admin=completing or first_word == "admin")
    if completing:
        from typer._completion_classes import completion_init

        completion_init()
    try:
        result = command.main(args=args, prog_name="twg", obj=factory, standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except click_exc.UsageError as exc:
        exc.show(file=io.stderr)  # to the injected stream, not the real one
        return EXIT_USAGE
    except click_exc.ClickException as exc:
        exc.show(file=io.stderr)
        return exc.exit_code
    except typer.Abort:
        io.err("Aborted.")
        return EXIT_ERROR
    except KeyboardInterrupt:
        io.err("Interrupted.")
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: say so briefly, never dump request data
        io.err(f"internal error: {type(exc).__name__}. Run with TWG_DEBUG=1 for details.")
        if factory.environ.get("TWG_DEBUG"):
            import traceback

            from twg.auth.redact import redact

            io.err(redact(traceback.format_exc()))
        return EXIT_ERROR
    finally:
        factory.close()
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console script entry point."""
    sys.exit(main())
