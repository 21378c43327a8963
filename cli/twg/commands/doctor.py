"""twg doctor: live checks of credentials, token, site, storage and Bitbucket."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from twg.auth.httpauth import TwgAuth
from twg.auth.identity import check_bitbucket
from twg.auth.unreachable import describe_failure
from twg.errors import (
    EXIT_AUTH,
    EXIT_CONFIG,
    EXIT_ERROR,
    EXIT_UNAVAILABLE,
    NetworkError,
    TwgError,
    Unavailable,
)
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


def _idp_check(f: Factory, report: Report) -> int | None:
    """The identity provider itself: its metadata answers and names the issuer we use.
    Returns the exit code its failure means (69 unreachable, 78 misconfigured), or None."""
    from twg.auth.discovery import well_known_urls

    idp = f.settings.idp_url
    if idp is None:
        report.add(
            "identity provider",
            None,
            "Atlassian (https://auth.atlassian.com; fixed endpoints, nothing to discover)",
        )
        return None
    try:
        metadata = f.metadata
    except TwgError as exc:
        report.add("identity provider", False, exc.text())
        unreachable = isinstance(exc, NetworkError | Unavailable)
        return EXIT_UNAVAILABLE if unreachable else EXIT_CONFIG
    report.add(
        "identity provider",
        True,
        f"{well_known_urls(idp)[0]} answers; issuer {metadata.issuer} matches TWG_IDP_URL",
    )
    return None


def _client_check(f: Factory, report: Report) -> None:
    """Which OAuth client twg signs in as, and whether its secret is where setup put it
    (never the secret itself)."""
    from twg.auth import client_app

    client_id = f.client_id
    if f.settings.client_secret:
        report.add(
            "oauth client", True, f"{client_id} (confidential; secret from TWG_CLIENT_SECRET)"
        )
        return
    saved = client_app.load(f.settings.config_dir)
    if saved is None or saved.secret_store is None or saved.client_id != client_id:
        report.add("oauth client", True, f"{client_id} (public: PKCE, no secret)")
        return
    try:
        store = f.store(saved.secret_store)
        present = store.get(client_app.SECRET_KEY) is not None
    except TwgError as exc:
        report.add("oauth client", False, f"{client_id}: its secret cannot be read: {exc.text()}")
        return
    if present:
        report.add(
            "oauth client", True, f"{client_id} (confidential; secret in {store.describe()})"
        )
    else:
        report.add(
            "oauth client",
            False,
            f"{client_id}: its secret is missing from {store.describe()}; "
            "run `twg setup client` again",
        )


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
            report.add("site", False, f"{f.settings.api_url} unreachable: {describe_failure(exc)}")
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
        if not ok and f.environ.get("TWG_BBC_TOKEN"):
            detail += ": the token comes from TWG_BBC_TOKEN; set it to a valid one or unset it"
        report.add("bitbucket", ok, detail)
    return auth_ok


def run(opts: Options, f: Factory) -> int:
    report = Report()
    idp_failure = _idp_check(f, report)
    _client_check(f, report)
    auth_ok = _checks(f, report)
    _check_modes(f, report)
    if opts.json:
        data: dict[str, Any] = {"ok": report.ok, "checks": [c.to_json() for c in report.checks]}
        f.io.out_json(data)
    else:
        out = f.io.stdout
        marks = {
            "ok": f.io.green("[OK]  ", out),
            "fail": f.io.red("[FAIL]", out),
            "skip": f.io.yellow("[skip]", out),
            "warn": f.io.yellow("[warn]", out),
        }
        for check in report.checks:
            f.io.out(f"{marks[check.status]} {check.name}: {check.detail}")
    if report.ok:
        return 0
    if idp_failure is not None:
        return idp_failure
    return EXIT_AUTH if not auth_ok else EXIT_ERROR
