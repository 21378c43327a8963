"""``twg-mock-idp``: run the mock (``serve``) or act as a person's browser (``browser``)."""

from __future__ import annotations

import argparse
import socket
import sqlite3
import sys


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
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    browser = commands.add_parser("browser", help="sign in and consent like a person would")
    browser.add_argument("--user", default="alice@example.com", help="email of a seeded user")
    browser.add_argument("--deny", action="store_true", help="deny consent instead of accepting")
    browser.add_argument("--site", help="site to pick (id, name or URL); default: the first")
    browser.add_argument("url", help="an /authorize URL, or a /device URL with user_code")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return _browse(args)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from mock_idp.app import create_app
    from mock_idp.server import uvicorn_config
    from mock_idp.settings import Settings
    from mock_idp.store import open_store

    try:
        settings = Settings.load(args.config)
        store = open_store(args.state, settings.audit_limit)
    except (ValueError, OSError, sqlite3.Error) as exc:
        print(f"twg-mock-idp: {exc}", file=sys.stderr)
        return 2
    # Bind before saying where we serve: a busy port is a clear error, not a line that
    # promises a URL, and --port 0 prints the port actually chosen.
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        sock.close()
        store.close()
        print(f"twg-mock-idp: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    app = create_app(settings, store)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"twg mock IdP serving on http://{shown}:{port} (state: {args.state})", flush=True)
    server = uvicorn.Server(uvicorn_config(app, args.host, port, args.log_level))
    server.run(sockets=[sock])
    store.close()
    return 0 if server.started else 1


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

    try:
        with Robot(user=args.user, deny=args.deny, site=args.site) as robot:
            summary = robot.run(args.url)
    except (RobotError, httpx.HTTPError) as exc:
        print(f"twg-mock-idp browser: {exc}", file=sys.stderr)
        return 1
    print(f"twg-mock-idp browser: {summary}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
