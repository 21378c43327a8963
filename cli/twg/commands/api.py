"""twg api: one authenticated request, the JSON body printed to stdout."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from twg.auth.httpauth import TwgAuth
from twg.auth.identity import basic_auth_header
from twg.auth.redact import redact
from twg.auth.unreachable import unreachable
from twg.errors import (
    ApiError,
    AuthInvalid,
    AuthRequired,
    IpNotAllowed,
    PermissionDenied,
    TwgError,
    Unavailable,
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


MAX_BODY = 2000  # characters of an error body shown back


class _WithBody(TwgError):
    """An API error that carries the server's (sanitised) answer for --json."""

    status = 0
    body: Any = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = super().to_json()
        data["error"]["status"] = self.status
        data["error"]["body"] = self.body
        return data


class ApiHttpError(_WithBody, ApiError):
    pass


class ApiForbidden(_WithBody, PermissionDenied):
    pass


class ApiUnavailable(_WithBody, Unavailable):
    pass


def _sanitised_body(response: httpx.Response) -> Any:
    """The error body as JSON (or text), secrets redacted, length capped, no controls."""
    try:
        data: Any = response.json()
        text = json.dumps(data)
        if len(text) <= MAX_BODY:
            return json.loads(redact(text))
    except ValueError:
        text = response.text
    return _one_line(redact(text))[:MAX_BODY]


def _one_line(text: str) -> str:
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _server_reason(response: httpx.Response) -> str:
    return _one_line(redact(_raw_reason(response)))[:500]


def _raw_reason(response: httpx.Response) -> str:
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
        # Jira's shape: {"errorMessages": [...], "errors": {"field": "message"}}.
        parts = [str(m) for m in body.get("errorMessages") or [] if m]
        errors = body.get("errors")
        if isinstance(errors, dict):
            parts += [f"{k}: {v}" for k, v in errors.items()]
        if parts:
            return "; ".join(parts)
        if isinstance(error, str):
            return error
    return json.dumps(body)[:200] if body else ""


def _http_error(response: httpx.Response) -> TwgError:
    """The error for a 4xx/5xx answer: its reason in the text, its body in --json."""
    status = response.status_code
    reason = _server_reason(response)
    error: _WithBody
    if status == 403:
        error = ApiForbidden(
            f"{FORBIDDEN} (HTTP 403{': ' + reason if reason else ''}).",
            "Ask your organization admin about the TWG CLI permissions.",
        )
    elif status >= 500 or status == 429:
        # The service is down or busy: exit 69, try again later (docs/exit-codes.md).
        error = ApiUnavailable(
            _sentence(f"The API is unavailable: HTTP {status}{': ' + reason if reason else ''}"),
            "Try again later.",
        )
    else:
        phrase = response.reason_phrase or ""
        if reason.rstrip(".").lower() == phrase.lower():
            reason = ""  # "404 Not Found: Not Found." says it twice
        error = ApiHttpError(
            _sentence(
                f"The API answered HTTP {status}{' ' + phrase if phrase else ''}"
                f"{': ' + reason if reason else ''}"
            )
        )
    error.status = status
    error.body = _sanitised_body(response)
    return error


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
        raise unreachable(url, exc, f.settings.source_of(url)) from None
    if response.status_code == 401:
        reason = _www_authenticate_reason(response)
        if opts.bitbucket:
            if f.environ.get("TWG_BBC_TOKEN"):
                raise AuthInvalid(
                    f"Bitbucket refused the token in TWG_BBC_TOKEN ({reason or 'HTTP 401'}).",
                    "Set TWG_BBC_TOKEN to a valid Bitbucket API token, or unset it to use "
                    "the saved one.",
                )
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
    if response.status_code == 403 and _error_code(response) == "ip_not_allowed":
        raise IpNotAllowed(_server_reason(response))
    if response.status_code >= 400:
        raise _http_error(response)
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
