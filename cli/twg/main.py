"""The command line: it only fills Options and hands them to a command's ``run``.

Command modules (and httpx, keyring) are imported inside the command functions, so
``twg --help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from twg.commands.admin_app import admin
from twg.commands.click_base import TwgGroup
from twg.commands.dispatch import execute, factory, json_flag, simple_command
from twg.errors import EXIT_ERROR, Interrupted, TwgError, UsageError
from twg.factory import Factory
from twg.iostreams import IOStreams

# The sign-in options of `login`, which `setup` offers too (it logs in when needed).
no_browser_flag = click.option(
    "--no-browser", is_flag=True, help="Print the sign-in URL instead of opening it."
)
device_flag = click.option("--device", is_flag=True, help="Sign in with a code on another device.")
site_option = click.option("--site", metavar="SITE", help="Site to use: id, name or URL.")


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version("twg")
    except PackageNotFoundError:
        number = "unknown"
    factory(ctx).io.out(f"twg {number}")
    ctx.exit(0)


@click.group(
    cls=TwgGroup,
    name="twg",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_version,
    help="Print the version and exit.",
)
def cli() -> None:
    """Teamwork Graph CLI: sign in to Atlassian and call its APIs.

    Run without a command, it shows this help and exits 2."""


simple_command(
    cli,
    "login",
    "login",
    "Sign in with your browser (OAuth 2.1 + PKCE) or a device code.",
    click.option("--force", is_flag=True, help="Log in again even if logged in."),
    no_browser_flag,
    device_flag,
    site_option,
)
simple_command(
    cli,
    "logout",
    "logout",
    "Revoke your tokens at the server and delete them here.",
    click.option(
        "--all", "all", is_flag=True, help="Log out of every issuer, not only the current one."
    ),
)


simple_command(
    cli,
    "api",
    "api",
    "Make an authenticated API call and print the JSON response.",
    click.argument("path", metavar="PATH", help="API path, e.g. /me"),
    click.option(
        "-X", "--method", metavar="METHOD", default="GET", show_default=True, help="HTTP method."
    ),
    click.option("--bitbucket", is_flag=True, help="Call the Bitbucket API with your API token."),
    click.option("--data", metavar="JSON", help="JSON request body."),
)
simple_command(
    cli, "doctor", "doctor", "Check credentials, token, site, storage and Bitbucket, live."
)


SHELLS = ("bash", "zsh", "fish")


@cli.command()
@click.argument("shell", metavar="SHELL", help="bash, zsh or fish.")
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print a shell completion script for bash, zsh or fish.

    Load it in your shell's start-up file: eval "$(twg completion bash)"."""
    if shell not in SHELLS:
        raise click.BadParameter(f"use one of {', '.join(SHELLS)}", param_hint="SHELL")
    from click.shell_completion import get_completion_class

    shell_class = get_completion_class(shell)
    assert shell_class is not None  # click ships all three
    # The script calls twg back with _TWG_COMPLETE set; click answers that before parsing.
    script = shell_class(cli, {}, "twg", "_TWG_COMPLETE").source()
    factory(ctx).io.out(script)


@cli.group(no_args_is_help=True)
def auth() -> None:
    """Inspect and refresh your session."""


simple_command(
    auth,
    "status",
    "auth_status",
    "Show who you are and where credentials are kept (no network).",
)
simple_command(
    auth,
    "refresh",
    "auth_refresh",
    "Refresh the access token if it is due (or always, with --force).",
    click.option("--force", is_flag=True, help="Rotate even if still fresh."),
)


# `twg setup` runs the full setup; `twg setup bitbucket|client` one part of it.
@cli.group(invoke_without_command=True)
@site_option
@no_browser_flag
@device_flag
@json_flag
@click.pass_context
def setup(
    ctx: click.Context, site: str | None, no_browser: bool, device: bool, as_json: bool
) -> None:
    """Log in, save the Bitbucket token, enable upkeep."""
    if ctx.invoked_subcommand is not None:
        return
    from twg.commands import setup as cmd

    opts = cmd.Options(site=site, no_browser=no_browser, device=device, json=as_json)
    execute(ctx, cmd, opts, as_json)


simple_command(
    setup,
    "bitbucket",
    "setup_bitbucket",
    "Save a Bitbucket API token (asked for with a hidden prompt).",
    click.option("--force", is_flag=True, help="Replace a saved token."),
)
simple_command(
    setup,
    "client",
    "setup_client",
    "Sign in as your own OAuth app: its secret is asked for with a hidden prompt.",
    click.option("--client-id", metavar="ID", help="Your OAuth app's client id."),
)

cli.add_command(admin)


@cli.group(no_args_is_help=True)
def upkeep() -> None:
    """Keep the session fresh for sandboxed agents."""


simple_command(
    upkeep,
    "enable",
    "upkeep_enable",
    "Install the schedule (systemd user timer, LaunchAgent or Scheduled Task).",
)
simple_command(
    upkeep,
    "disable",
    "upkeep_disable",
    "Stop and remove the schedule; the session is left as it is.",
)
simple_command(
    upkeep,
    "status",
    "upkeep_status",
    "Show whether upkeep runs, what it last did, and when it stops for inactivity.",
)


@upkeep.command("run")
@click.option(
    "--every", type=float, metavar="SECONDS", help="Run a pass every SECONDS, in the foreground."
)
@click.pass_context
def upkeep_run(ctx: click.Context, every: float | None) -> None:
    """One upkeep pass (refresh only when due), or a foreground loop with --every."""
    from twg.commands import upkeep_run as cmd

    execute(ctx, cmd, cmd.Options(every=every), False)


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
    # Failures click reports itself (usage, Ctrl-C) are JSON too when --json was given.
    as_json = "--json" in args

    def fail(error: TwgError, text: str | None) -> int:
        if as_json:
            io.out_json(error.to_json())
        if text is not None:
            io.err(text)
        return error.exit_code

    try:
        # A completion script calling back (_TWG_COMPLETE set) is answered in here, and exits.
        result = cli.main(args=args, prog_name="twg", obj=factory, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:
        exc.show(file=io.stderr)  # to the injected stream, not the real one
        return fail(UsageError(exc.format_message()), None)
    except click.ClickException as exc:
        exc.show(file=io.stderr)
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt) as exc:
        # click turns Ctrl-C into Abort; an Abort of its own is end of input at its prompts.
        if isinstance(exc, click.Abort) and not isinstance(exc.__cause__, KeyboardInterrupt):
            io.err("Aborted.")
            return EXIT_ERROR
        return fail(Interrupted("Interrupted."), "Interrupted.")
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
