"""twg api: one authenticated request, the JSON body printed to stdout."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from twg.auth.httpauth import TwgAuth
from twg.auth.identity import basic_auth_header
from twg.errors import (
    ApiError,
    AuthInvalid,
    AuthRequired,
    IpNotAllowed,
    NetworkError,
    PermissionDenied,
    UsageError,
)
from twg.factory import Factory

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}
FORBIDDEN = "Your account or your organization's CLI permissions do not allow this"


@dataclass
class Options:
    path: str
    method: str = "GET"
    bitbucket: bool = False
    data: str | None = None
    json: bool = False


def _server_reason(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return response.text.strip()[:200]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            parts = [str(error.get("message") or "")]
            if error.get("required_scope"):
                parts.append(f"required scope: {error['required_scope']}")
            return "; ".join(p for p in parts if p)
        for key in ("error_description", "message", "detail"):
            if body.get(key):
                return str(body[key])
        messages = body.get("errorMessages")
        if isinstance(messages, list) and messages:
            return "; ".join(str(m) for m in messages)
        if isinstance(error, str):
            return error
    return ""


def _error_code(response: httpx.Response) -> str | None:
    try:
        body: Any = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def _www_authenticate_reason(response: httpx.Response) -> str:
    header = response.headers.get("www-authenticate", "")
    marker = 'error_description="'
    if marker in header:
        return str(header.split(marker, 1)[1].split('"', 1)[0])
    return _server_reason(response)


def _url(base: str, path: str) -> str:
    if path.startswith(("http://", "https://")):
        if not path.startswith(base + "/") and path != base:
            raise UsageError(f"twg api only calls {base}; give a path such as /me.")
        return path
    return f"{base}/{path.lstrip('/')}"


def _bitbucket_auth(f: Factory) -> str:
    token = f.environ.get("TWG_BBC_TOKEN")
    conf = f.session.load_conf()
    email = f.environ.get("TWG_BBC_EMAIL") or (conf.email if conf else None)
    if not token and conf is not None:
        token = f.store(conf.store).get("bitbucket_token")
    if not token:
        raise AuthRequired(
            "No Bitbucket token is set.",
            "Run `twg setup bitbucket`, or set TWG_BBC_TOKEN.",
        )
    if not email:
        raise AuthRequired(
            "Your Atlassian account email is unknown, so the Bitbucket token cannot be used.",
            "Run `twg login`, or set TWG_BBC_EMAIL.",
        )
    return basic_auth_header(email, token)


def run(opts: Options, f: Factory) -> int:
    method = opts.method.upper()
    if method not in METHODS:
        raise UsageError(
            f"Unsupported method {opts.method!r}; use one of {', '.join(sorted(METHODS))}."
        )
    body: bytes | None = None
    if opts.data is not None:
        try:
            json.loads(opts.data)
        except ValueError as exc:
            raise UsageError(f"--data is not valid JSON: {exc}.") from None
        body = opts.data.encode()
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if opts.bitbucket:
        url = _url(f.settings.bitbucket_url, opts.path)
        headers["Authorization"] = _bitbucket_auth(f)
        client = f.http()
    else:
        url = _url(f.settings.api_url, opts.path)
        f.session.require()  # AUTH_REQUIRED before any network use
        client = f.http(auth=TwgAuth(f.session))
    try:
        with client:
            response = client.request(method, url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise NetworkError(
            f"Could not reach {httpx.URL(url).host} ({type(exc).__name__}).",
            "Check your network connection.",
        ) from None
    if response.status_code == 401:
        reason = _www_authenticate_reason(response)
        if opts.bitbucket:
            raise AuthInvalid(
                f"Bitbucket refused your API token ({reason or 'HTTP 401'}).",
                "Run `twg setup bitbucket --force` to set a new one.",
            )
        if f.session.env_override():
            raise AuthInvalid(
                f"The API refused TWG_OAUTH_ACCESS_TOKEN ({reason or 'HTTP 401'}).",
                "Provide a valid token, or unset it and run `twg login`.",
            )
        conf = f.session.load_conf()
        if conf is not None and conf.invalid_reason:
            raise AuthInvalid(conf.invalid_reason, "Run `twg login` to sign in again.")
        raise AuthInvalid(
            f"The API refused your credentials even after a refresh ({reason or 'HTTP 401'}).",
            "Run `twg login` to sign in again.",
        )
    if response.status_code == 403:
        reason = _server_reason(response)
        if _error_code(response) == "ip_not_allowed":
            raise IpNotAllowed(reason)
        raise PermissionDenied(
            f"{FORBIDDEN} (HTTP 403{': ' + reason if reason else ''}).",
            "Ask your organization admin about the TWG CLI permissions.",
        )
    if response.status_code >= 400:
        reason = _server_reason(response)
        raise ApiError(
            f"The API answered HTTP {response.status_code}{': ' + reason if reason else ''}."
        )
    if not response.content:
        if opts.json:
            f.io.out_json({"status": response.status_code})
        return 0
    try:
        f.io.out_json(response.json())
    except ValueError:
        if opts.json:
            f.io.out_json({"status": response.status_code, "body": response.text})
        else:
            f.io.out_raw(response.text)
    return 0
