"""`twg admin ...`: fills Options and hands them to a command's ``run``.

Only click is imported here; command modules (and httpx, keyring) load inside the
functions, so ``twg --help`` stays fast.
"""

from __future__ import annotations

import click

from twg.commands.click_base import TwgGroup
from twg.commands.dispatch import execute, json_flag, simple_command

org_flag = click.option(
    "--org", metavar="ORG_ID", help="Act on this logged-in org instead of the current one."
)


@click.group(cls=TwgGroup, no_args_is_help=True)
def admin() -> None:
    """Administer your organization (Admin API key)."""


simple_command(
    admin,
    "audit",
    "admin_audit",
    "The org's CLI-related events: logins, API calls, admin changes, with who.",
    click.option("--since", metavar="WHEN", help="30m, 2h, 7d or an ISO 8601 time."),
    org_flag,
)


@admin.group("auth", no_args_is_help=True)
def auth() -> None:
    """Log in with an org Admin API key, show or forget it."""


@auth.command("login")
@click.option("--email", metavar="EMAIL", required=True, help="Your admin account's email.")
@click.option("--org", metavar="ORG_ID", required=True, help="The organization ID.")
@json_flag
@click.pass_context
def auth_login(ctx: click.Context, email: str, org: str, as_json: bool) -> None:
    """Save an Admin API key for an org (hidden prompt, stdin, or TWG_ADMIN_API_KEY)."""
    from twg.commands import admin_auth_login as cmd

    execute(ctx, cmd, cmd.Options(email=email, org=org, json=as_json), as_json)


simple_command(
    auth,
    "status",
    "admin_auth_status",
    "Show the orgs you are logged in to as admin, or one (no network).",
    org_flag,
)
simple_command(
    auth,
    "logout",
    "admin_auth_logout",
    "Remove an org's Admin API key from this machine (the current org by default).",
    org_flag,
)


@admin.group("permissions", no_args_is_help=True)
def permissions() -> None:
    """The TWG CLI permissions of the org."""


simple_command(
    permissions,
    "show",
    "admin_permissions",
    "Show which permissions the TWG CLI may use in the org.",
    org_flag,
)


@permissions.command("set")
@click.option("--allow-all", is_flag=True, help="Allow all permissions.")
@click.option("--read", metavar="PERMISSIONS", help="Read permissions (P,.. or all).")
@click.option("--write", metavar="PERMISSIONS", help="Write and manage permissions (P,.. or all).")
@click.option("--delete", metavar="PERMISSIONS", help="Delete permissions (P,.. or all).")
@click.option("--revoke-sessions", is_flag=True, help="Save and revoke every CLI session.")
@click.option("--keep-sessions", is_flag=True, help="Save without revoking sessions.")
@org_flag
@json_flag
@click.pass_context
def permissions_set(
    ctx: click.Context,
    allow_all: bool,
    read: str | None,
    write: str | None,
    delete: str | None,
    revoke_sessions: bool,
    keep_sessions: bool,
    org: str | None,
    as_json: bool,
) -> None:
    """Save the TWG CLI permissions; a category left out allows none of its permissions."""
    from twg.commands import admin_permissions as cmd

    if revoke_sessions and keep_sessions:
        raise click.BadParameter("give --revoke-sessions or --keep-sessions, not both")
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
    execute(ctx, cmd, opts, as_json)


@admin.group("allowlist", no_args_is_help=True)
def allowlist() -> None:
    """The org's IP allowlist."""


simple_command(allowlist, "show", "admin_allowlist", "Show the org's IP allowlist.", org_flag)


@allowlist.command("set")
@click.argument(
    "cidrs", metavar="CIDR...", nargs=-1, required=True, help="Allowed ranges, e.g. 203.0.113.0/24."
)
@org_flag
@json_flag
@click.pass_context
def allowlist_set(
    ctx: click.Context, cidrs: tuple[str, ...], org: str | None, as_json: bool
) -> None:
    """Replace the org's IP allowlist."""
    from twg.commands import admin_allowlist as cmd

    opts = cmd.Options(action="set", cidrs=list(cidrs), org=org, json=as_json)
    execute(ctx, cmd, opts, as_json)


simple_command(
    allowlist,
    "clear",
    "admin_allowlist",
    "Remove the org's IP allowlist (allow requests from anywhere).",
    org_flag,
    action="clear",
)


@admin.group("orgs", invoke_without_command=True)
@org_flag
@json_flag
@click.pass_context
def orgs(ctx: click.Context, org: str | None, as_json: bool) -> None:
    """The orgs you are logged in to as admin; switch with `use`."""
    if ctx.invoked_subcommand is not None:
        return
    from twg.commands import admin_orgs as cmd

    execute(ctx, cmd, cmd.Options(org=org, json=as_json), as_json)


@orgs.command("use")
@click.argument("org_id", metavar="ORG_ID", help="Org ID.")
@click.pass_context
def orgs_use(ctx: click.Context, org_id: str) -> None:
    """Make a logged-in org the current one."""
    from twg.commands import admin_orgs as cmd

    execute(ctx, cmd, cmd.Options(use=org_id), False)


@admin.group("users", invoke_without_command=True)
@org_flag
@json_flag
@click.pass_context
def users(ctx: click.Context, org: str | None, as_json: bool) -> None:
    """The org's users; suspend or restore one."""
    if ctx.invoked_subcommand is not None:
        return
    from twg.commands import admin_users as cmd

    execute(ctx, cmd, cmd.Options(org=org, json=as_json), as_json)


for action, summary in (
    ("suspend", "Suspend a user: their CLI sessions end and they cannot sign in until restored."),
    ("restore", "Restore a suspended user."),
):
    simple_command(
        users,
        action,
        "admin_users",
        summary,
        click.argument("email", metavar="EMAIL", help="The user's email."),
        org_flag,
        action=action,
    )


@admin.group("sessions", invoke_without_command=True)
@click.option("--user", metavar="EMAIL", help="Only this user's (email).")
@org_flag
@json_flag
@click.pass_context
def sessions(ctx: click.Context, user: str | None, org: str | None, as_json: bool) -> None:
    """Live TWG CLI sessions of the org; revoke them."""
    if ctx.invoked_subcommand is not None:
        return
    from twg.commands import admin_sessions as cmd

    execute(ctx, cmd, cmd.Options(user=user, org=org, json=as_json), as_json)


simple_command(
    sessions,
    "revoke",
    "admin_sessions",
    "Revoke one user's or everyone's CLI sessions.",
    click.option("--user", metavar="EMAIL", help="Revoke this user's (email)."),
    click.option("--all", "all", is_flag=True, help="Revoke everyone's."),
    org_flag,
    action="revoke",
)
