"""twg doctor: live checks of credentials, token, site, storage and Bitbucket."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from twg.auth.httpauth import TwgAuth
from twg.auth.identity import check_bitbucket
from twg.errors import EXIT_AUTH, EXIT_ERROR, TwgError
from twg.factory import Factory


@dataclass
class Options:
    json: bool = False


@dataclass
class Check:
    name: str
    status: str  # "ok", "fail", "skip", "warn"
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, ok: bool | None, detail: str) -> None:
        status = "skip" if ok is None else ("ok" if ok else "fail")
        self.checks.append(Check(name, status, detail))

    def warn(self, name: str, detail: str) -> None:
        self.checks.append(Check(name, "warn", detail))

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)


def _check_modes(f: Factory, report: Report) -> None:
    """The real modes of the config directory and the files holding session data:
    anything readable or writable by others is a warning with the command to fix it."""
    from twg.auth.auth_conf import path_in
    from twg.auth.credentials import FILE_NAME, file_mode

    config_dir = f.settings.config_dir
    paths = [(config_dir, 0o700), (path_in(config_dir), 0o600), (config_dir / FILE_NAME, 0o600)]
    seen = []
    for path, wanted in paths:
        try:
            mode = file_mode(path)
        except OSError:
            continue
        seen.append(f"{path.name or path} {mode:04o}")
        if mode & 0o077:
            kind = "directory" if wanted == 0o700 else "file"
            report.warn(
                "permissions",
                f"{path} is a {kind} with mode {mode:04o}: others can read or change it; "
                f"fix with `chmod {wanted:o} {path}`",
            )
    if seen and not any(c.name == "permissions" for c in report.checks):
        report.add("permissions", True, ", ".join(seen))


def _me_detail(response: httpx.Response, api_url: str) -> tuple[bool, str]:
    """What /me's 200 answer says, or why it is not an answer from the API at all."""
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        return False, (
            f"{api_url}/me answered HTTP 200 with {kind}, not JSON: is TWG_API_URL the API "
            "(not a web page or a proxy's login page)?"
        )
    who = body.get("email") if isinstance(body, dict) else None
    return True, f"{api_url} reachable; /me says {who or '?'}"


def _checks(f: Factory, report: Report) -> bool:
    """Fill the report; returns whether credentials were usable."""
    session = f.session
    try:
        creds = session.load()
    except TwgError as exc:
        report.add("credentials", False, exc.text())
        return False
    if creds is None:
        report.add("credentials", False, "not logged in: run `twg login`")
        return False
    report.add("credentials", True, f"present (source: {creds.source})")
    method = "TWG_OAUTH_ACCESS_TOKEN (delegated)" if creds.source == "env" else "OAuth 2.1"
    report.add("auth method", True, method)
    if creds.conf is not None:
        try:
            store = f.store(creds.conf.store)
            problem = store.unwritable_reason()
            report.add(
                "storage",
                problem is None,
                store.describe() + (f": not writable ({problem})" if problem else ""),
            )
        except TwgError as exc:
            report.add("storage", False, exc.text())
    auth_ok = True
    token_ok = True
    try:
        creds = session.ensure_fresh()
        report.add("token", True, "access token fresh")
    except TwgError as exc:
        report.add("token", False, exc.text())
        token_ok = False
        # Only a missing or refused session is an auth failure; an unavailable IdP is not.
        auth_ok = exc.exit_code != EXIT_AUTH
    if token_ok:
        try:
            with f.http(auth=TwgAuth(session)) as client:
                response = client.get(f"{f.settings.api_url}/me")
            if response.status_code == 200:
                report.add("site", *_me_detail(response, f.settings.api_url))
            else:
                report.add(
                    "site", False, f"{f.settings.api_url}/me answered HTTP {response.status_code}"
                )
                auth_ok = response.status_code != 401
        except TwgError as exc:
            report.add("site", False, exc.text())
            auth_ok = exc.exit_code != EXIT_AUTH
        except httpx.HTTPError as exc:
            report.add("site", False, f"{f.settings.api_url} unreachable ({type(exc).__name__})")
    conf = creds.conf
    token = f.environ.get("TWG_BBC_TOKEN")
    if not token and conf is not None:
        try:
            token = f.store(conf.store).get("bitbucket_token")
        except TwgError:
            token = None
    email = f.environ.get("TWG_BBC_EMAIL") or (conf.email if conf else None)
    if not token:
        report.add("bitbucket", None, "no token set (run `twg setup bitbucket`)")
    elif not email:
        report.add("bitbucket", False, "token set but account email unknown")
    else:
        ok, detail = check_bitbucket(f.plain_http, f.settings.bitbucket_url, email, token)
        report.add("bitbucket", ok, detail)
    return auth_ok


def run(opts: Options, f: Factory) -> int:
    report = Report()
    auth_ok = _checks(f, report)
    _check_modes(f, report)
    if opts.json:
        data: dict[str, Any] = {"ok": report.ok, "checks": [c.to_json() for c in report.checks]}
        f.io.out_json(data)
    else:
        marks = {"ok": "[ok]  ", "fail": "[FAIL]", "skip": "[skip]", "warn": "[warn]"}
        for check in report.checks:
            f.io.out(f"{marks[check.status]} {check.name}: {check.detail}")
    if report.ok:
        return 0
    return EXIT_AUTH if not auth_ok else EXIT_ERROR
