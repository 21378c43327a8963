"""``twg-mock-idp``: run the mock (``serve``), act as a person's browser (``browser``), or
run token scenarios against it (``scenario``)."""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from mock_idp.scenarios import command as scenario_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="twg-mock-idp", description="Mock Atlassian identity provider for twg."
    )
    parser.add_argument("--version", action="version", version=f"twg-mock-idp {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the mock IdP over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, default=8080, help="port to bind (default 8080; 0: any free one)"
    )
    serve.add_argument("--config", help="settings file (TOML, or JSON by .json suffix)")
    serve.add_argument(
        "--state", default="memory", help="'memory' (default) or 'sqlite:PATH' (survives restarts)"
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="'info' (default) logs one line per request on stderr (method, path, status, "
        "duration; never a query string); 'warning' only problems",
    )
    serve.add_argument(
        "--quiet", action="store_true", help="no request log (same as --log-level warning)"
    )
    serve.add_argument(
        "--control-token-file",
        metavar="PATH",
        help="require the control token in PATH for /_mock/, creating PATH (0600) with a new "
        "random token when absent (env TWG_MOCK_CONTROL_TOKEN_FILE)",
    )
    browser = commands.add_parser("browser", help="sign in and consent like a person would")
    browser.add_argument("--user", default="alice@example.com", help="email of a seeded user")
    browser.add_argument("--deny", action="store_true", help="deny consent instead of accepting")
    browser.add_argument("--site", help="site to pick (id, name or URL); default: the first")
    browser.add_argument("--user-code", help="the device login's code, for a bare /device URL")
    browser.add_argument("url", help="an /authorize URL, or a /device URL (with user_code)")
    scenario_command.add_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "scenario":
        return scenario_command.main(args)
    return _browse(args)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from mock_idp import control_token
    from mock_idp.app import create_app
    from mock_idp.control import check_settings
    from mock_idp.server import listening_socket, uvicorn_config
    from mock_idp.settings import Settings
    from mock_idp.store import open_store

    log_level = "warning" if args.quiet else args.log_level
    token_file = args.control_token_file or os.environ.get(control_token.ENV_VAR) or None
    try:
        settings = Settings.load(args.config)
        check_settings(settings)
        if token_file is not None:
            if settings.control_token:
                raise ValueError(
                    "give the control token once: TWG_MOCK_CONTROL_TOKEN (or control_token "
                    "in the config) or --control-token-file, not both"
                )
            settings.control_token = control_token.load_or_create(Path(token_file))
        store = open_store(args.state, settings.audit_limit)
    except (ValueError, OSError, sqlite3.Error) as exc:
        print(f"twg-mock-idp: {exc}", file=sys.stderr)
        return 2
    # Bind before saying where we serve: a busy port is a clear error, not a line that
    # promises a URL, and --port 0 prints the port actually chosen.
    try:
        sock = listening_socket(args.host, args.port)
    except OSError as exc:
        store.close()
        print(f"twg-mock-idp: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    app = create_app(settings, store)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"twg mock IdP serving on http://{shown}:{port} (state: {args.state})", flush=True)
    if token_file is not None:
        print(f"control API token: in {token_file}", flush=True)
    server = uvicorn.Server(uvicorn_config(app, args.host, port, log_level))
    restore = _log_to_stderr(log_level)
    try:
        server.run(sockets=[sock])
    finally:
        restore()
        store.close()
    return 0 if server.started else 1


def _log_to_stderr(level: str) -> Callable[[], None]:
    """The mock's own log (the request log among it) on stderr, one plain line each,
    while it serves; returns what puts the logger back as it was."""
    from twg.stderr_log import CurrentStderrHandler, install

    logger = logging.getLogger("mock_idp")
    before = (logger.level, logger.propagate)
    handler = CurrentStderrHandler()
    handler.setFormatter(logging.Formatter("twg-mock-idp: %(message)s"))
    install(logger, handler)
    logger.setLevel(level.upper())
    logger.propagate = False

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(before[0])
        logger.propagate = before[1]

    return restore


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("twg")
    except PackageNotFoundError:
        return "unknown"


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (0-65535)")
    return int(text)


def _browse(args: argparse.Namespace) -> int:
    import httpx

    from mock_idp.browser import Robot, RobotError
    from twg.textsafe import printable

    # Names and site names come from the (seedable) world: the robot shares twg's
    # terminal, so their control characters are printed as escapes, never raw.
    try:
        with Robot(
            user=args.user, deny=args.deny, site=args.site, user_code=args.user_code
        ) as robot:
            summary = robot.run(args.url)
    except (RobotError, httpx.HTTPError) as exc:
        print(f"twg-mock-idp browser: {printable(str(exc))}", file=sys.stderr)
        return 1
    print(f"twg-mock-idp browser: {printable(summary)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
