"""`twg admin ...` as a typer sub-app: fills Options and hands them to a command's ``run``.

Only typer is imported here; command modules (and httpx, keyring) load inside the
functions, so ``twg --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from twg.commands.dispatch import JsonFlag
from twg.commands.dispatch import execute as _execute

admin_app = typer.Typer(
    help="Administer your organization (Admin API key).",
    no_args_is_help=True,
)
auth_app = typer.Typer(
    help="Log in with an org Admin API key, show or forget it.", no_args_is_help=True
)
permissions_app = typer.Typer(help="The TWG CLI permissions of the org.", no_args_is_help=True)
allowlist_app = typer.Typer(help="The org's IP allowlist.", no_args_is_help=True)
admin_app.add_typer(auth_app, name="auth")
admin_app.add_typer(permissions_app, name="permissions")
admin_app.add_typer(allowlist_app, name="allowlist")

OrgFlag = Annotated[
    str | None,
    typer.Option(
        "--org", metavar="ORG_ID", help="Act on this logged-in org instead of the current one."
    ),
]


@auth_app.command("login")
def auth_login(
    ctx: typer.Context,
    email: Annotated[
        str, typer.Option("--email", metavar="EMAIL", help="Your admin account's email.")
    ],
    org: Annotated[str, typer.Option("--org", metavar="ORG_ID", help="The organization ID.")],
    as_json: JsonFlag = False,
) -> None:
    """Save an Admin API key for an org (hidden prompt, stdin, or TWG_ADMIN_API_KEY)."""
    from twg.commands import admin_auth_login as cmd

    _execute(ctx, cmd, cmd.Options(email=email, org=org, json=as_json), as_json)


@auth_app.command("status")
def auth_status(ctx: typer.Context, org: OrgFlag = None, as_json: JsonFlag = False) -> None:
    """Show the orgs you are logged in to as admin, or one (no network)."""
    from twg.commands import admin_auth_status as cmd

    _execute(ctx, cmd, cmd.Options(org=org, json=as_json), as_json)


@auth_app.command("logout")
def auth_logout(ctx: typer.Context, org: OrgFlag = None, as_json: JsonFlag = False) -> None:
    """Remove an org's Admin API key from this machine (the current org by default)."""
    from twg.commands import admin_auth_logout as cmd

    _execute(ctx, cmd, cmd.Options(org=org, json=as_json), as_json)


orgs_app = typer.Typer(help="The orgs you are logged in to as admin; switch with `use`.")
admin_app.add_typer(orgs_app, name="orgs", invoke_without_command=True)


@orgs_app.callback(invoke_without_command=True)
def orgs(ctx: typer.Context, org: OrgFlag = None, as_json: JsonFlag = False) -> None:
    """List the orgs you are logged in to as admin (* marks the current one)."""
    if ctx.invoked_subcommand is not None:
        return
    from twg.commands import admin_orgs as cmd

    _execute(ctx, cmd, cmd.Options(org=org, json=as_json), as_json)


@orgs_app.command("use")
def orgs_use(ctx: typer.Context, org_id: Annotated[str, typer.Argument(help="Org ID.")]) -> None:
    """Make a logged-in org the current one."""
    from twg.commands import admin_orgs as cmd

    _execute(ctx, cmd, cmd.Options(use=org_id), False)


users_app = typer.Typer(help="The org's users; suspend or restore one.")
admin_app.add_typer(users_app, name="users", invoke_without_command=True)


@users_app.callback(invoke_without_command=True)
def users(ctx: typer.Context, org: OrgFlag = None, as_json: JsonFlag = False) -> None:
    """List the org's users and their status."""
    if ctx.invoked_subcommand is not None:
        return
    from twg.commands import admin_users as cmd

    _execute(ctx, cmd, cmd.Options(org=org, json=as_json), as_json)


@users_app.command("suspend")
def users_suspend(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's email.")],
    org: OrgFlag = None,
    as_json: JsonFlag = False,
) -> None:
    """Suspend a user: their CLI sessions end and they cannot sign in until restored."""
    from twg.commands import admin_users as cmd

    _execute(ctx, cmd, cmd.Options(action="suspend", email=email, org=org, json=as_json), as_json)


@users_app.command("restore")
def users_restore(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's email.")],
    org: OrgFlag = None,
    as_json: JsonFlag = False,
) -> None:
    """Restore a suspended user."""
    from twg.commands import admin_users as cmd

    _execute(ctx, cmd, cmd.Options(action="restore", email=email, org=org, json=as_json), as_json)


@permissions_app.command("show")
def permissions_show(ctx: typer.Context, org: OrgFlag = None, as_json: JsonFlag = False) -> None:
    """Show which permissions the TWG CLI may use in the org."""
    from twg.commands import admin_permissions as cmd

    _execute(ctx, cmd, cmd.Options(org=org, json=as_json), as_json)


@permissions_app.command("set")
def permissions_set(
    ctx: typer.Context,
    allow_all: Annotated[bool, typer.Option("--allow-all", help="Allow all permissions.")] = False,
    read: Annotated[
        str | None,
        typer.Option("--read", metavar="PERMISSIONS", help="Read permissions (P,.. or all)."),
    ] = None,
    write: Annotated[
        str | None,
        typer.Option(
            "--write", metavar="PERMISSIONS", help="Write and manage permissions (P,.. or all)."
        ),
    ] = None,
    delete: Annotated[
        str | None,
        typer.Option("--delete", metavar="PERMISSIONS", help="Delete permissions (P,.. or all)."),
    ] = None,
    revoke_sessions: Annotated[
        bool, typer.Option("--revoke-sessions", help="Save and revoke every CLI session.")
    ] = False,
    keep_sessions: Annotated[
        bool, typer.Option("--keep-sessions", help="Save without revoking sessions.")
    ] = False,
    org: OrgFlag = None,
    as_json: JsonFlag = False,
) -> None:
    """Save the TWG CLI permissions; a category left out allows none of its permissions."""
    from twg.commands import admin_permissions as cmd

    if revoke_sessions and keep_sessions:
        raise typer.BadParameter("give --revoke-sessions or --keep-sessions, not both")
    sessions = "revoke" if revoke_sessions else "keep" if keep_sessions else None
    opts = cmd.Options(
        action="set",
        allow_all=allow_all,
        read=read,
        write=write,
        delete=delete,
        sessions=sessions,
        org=org,
        json=as_json,
    )
    _execute(ctx, cmd, opts, as_json)


sessions_app = typer.Typer(help="Live TWG CLI sessions of the org; revoke them.")
admin_app.add_typer(sessions_app, name="sessions", invoke_without_command=True)


@sessions_app.callback(invoke_without_command=True)
def sessions(
    ctx: typer.Context,
    user: Annotated[
        str | None, typer.Option("--user", metavar="EMAIL", help="Only this user's (email).")
    ] = None,
    org: OrgFlag = None,
    as_json: JsonFlag = False,
) -> None:
    """List live CLI sessions (no secrets)."""
    if ctx.invoked_subcommand is not None:
        return
    from twg.commands import admin_sessions as cmd

    _execute(ctx, cmd, cmd.Options(user=user, org=org, json=as_json), as_json)


@sessions_app.command("revoke")
def sessions_revoke(
    ctx: typer.Context,
    user: Annotated[
        str | None, typer.Option("--user", metavar="EMAIL", help="Revoke this user's (email).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Revoke everyone's.")] = False,
    org: OrgFlag = None,
    as_json: JsonFlag = False,
) -> None:
    """Revoke one user's or everyone's CLI sessions."""
    from twg.commands import admin_sessions as cmd

    opts = cmd.Options(action="revoke", user=user, all=all_, org=org, json=as_json)
    _execute(ctx, cmd, opts, as_json)


@allowlist_app.command("show")
def allowlist_show(ctx: typer.Context, org: OrgFlag = None, as_json: JsonFlag = False) -> None:
    """Show the org's IP allowlist."""
    from twg.commands import admin_allowlist as cmd

    _execute(ctx, cmd, cmd.Options(org=org, json=as_json), as_json)


@allowlist_app.command("set")
def allowlist_set(
    ctx: typer.Context,
    cidrs: Annotated[list[str], typer.Argument(help="Allowed ranges, e.g. 203.0.113.0/24.")],
    org: OrgFlag = None,
    as_json: JsonFlag = False,
) -> None:
    """Replace the org's IP allowlist."""
    from twg.commands import admin_allowlist as cmd

    _execute(ctx, cmd, cmd.Options(action="set", cidrs=cidrs, org=org, json=as_json), as_json)


@allowlist_app.command("clear")
def allowlist_clear(ctx: typer.Context, org: OrgFlag = None, as_json: JsonFlag = False) -> None:
    """Remove the org's IP allowlist (allow requests from anywhere)."""
    from twg.commands import admin_allowlist as cmd

    _execute(ctx, cmd, cmd.Options(action="clear", org=org, json=as_json), as_json)


@admin_app.command("audit")
def audit(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", metavar="WHEN", help="30m, 2h, 7d or an ISO 8601 time.")
    ] = None,
    org: OrgFlag = None,
    as_json: JsonFlag = False,
) -> None:
    """The org's CLI-related events: logins, API calls, admin changes, with who."""
    from twg.commands import admin_audit as cmd

    _execute(ctx, cmd, cmd.Options(since=since, org=org, json=as_json), as_json)
